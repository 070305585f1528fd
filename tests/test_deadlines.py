"""申込締切 and 締切後 (DOMAIN §11, issue 19): a meeting's deadline in 開庁日, shown on the pages
and in the API; the admin's 閉庁日 and a meeting's own deadline; a late request flagged."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import make_item, make_meeting, make_section, make_user
from tests.support import API, admin_events, auth, counting, login
from workflow.extensions import db
from workflow.models import ClosedDay, HistoryEvent, Item, Meeting, MeetingKind
from workflow.services import admin as admin_service
from workflow.services import items as item_service
from workflow.services import public_comment
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

ADMIN = f"{API}/admin"
GOLDEN_WEEK = date(2026, 5, 7)  # its deadline: 2026-04-24 (N = 5)
NEW_YEAR = date(2027, 1, 7)  # its deadline: 2026-12-25


@pytest.fixture
def people():
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    people = {
        "admin": make_user(Role.ADMIN, login="root"),
        "sec": make_user(Role.SECRETARIAT, login="sec"),
        "dept": make_user(Role.DEPARTMENT, section, login="dept"),
    }
    db.session.commit()
    return people


def on(monkeypatch, day: date) -> None:
    """The city's today is *day*."""
    monkeypatch.setattr(public_comment, "today", lambda: day)


def api_deadlines(client, user) -> dict[int, str]:
    """Each meeting's ``submission_deadline`` in ``GET /api/v1/meetings``."""
    response = client.get(f"{API}/meetings", headers=auth(user))
    assert response.status_code == 200
    return {m["id"]: m["submission_deadline"] for m in response.get_json()["meetings"]}


def deadline_of_meeting(client, user, meeting_id: int) -> str:
    response = client.get(f"{API}/meetings/{meeting_id}", headers=auth(user))
    assert response.status_code == 200
    return response.get_json()["submission_deadline"]


# -- the deadline ---------------------------------------------------------------------------------


def test_the_examples_of_the_issue_through_the_api(client, people):
    sec = people["sec"]
    created = client.post(
        f"{API}/meetings",
        json={"kind": "section_managers", "date": GOLDEN_WEEK.isoformat()},
        headers=auth(sec),
    )
    assert created.status_code == 201
    assert created.get_json()["submission_deadline"] == "2026-04-24"
    golden = created.get_json()["id"]
    new_year = make_meeting(sec, on=NEW_YEAR).id
    db.session.commit()
    # In the list (every meeting) and in each meeting's own answer.
    assert api_deadlines(client, sec) == {golden: "2026-04-24", new_year: "2026-12-25"}
    assert deadline_of_meeting(client, sec, new_year) == "2026-12-25"


def test_the_list_reads_the_closed_days_once(client, people):
    sec = people["sec"]
    for n in range(6):
        make_meeting(sec, on=date(2026, 6, 1 + n))
    db.session.add(ClosedDay(day=date(2026, 5, 29), name="市制記念日"))
    db.session.commit()
    headers = auth(sec)
    db.session.commit()
    client.get(f"{API}/meetings", headers=headers)  # warm
    with counting() as statements:
        response = client.get(f"{API}/meetings", headers=headers)
    assert response.status_code == 200
    closed_day_reads = [s for s in statements if "closed_days" in s]
    assert len(closed_day_reads) == 1
    # 2026-06-01 (Mon): back from 5/31 past the weekend and the 5/29 closed day.
    assert response.get_json()["meetings"][-1]["submission_deadline"] == "2026-05-22"


def test_a_closed_day_the_admin_adds_moves_the_deadline_back(client, people):
    meeting = make_meeting(people["sec"], on=GOLDEN_WEEK).id
    db.session.commit()
    added = client.post(
        f"{ADMIN}/closed-days",
        json={"day": "2026-04-28", "name": "市制記念日"},
        headers=auth(people["admin"]),
    )
    assert added.status_code == 201
    assert added.get_json()["day"] == "2026-04-28"
    assert deadline_of_meeting(client, people["sec"], meeting) == "2026-04-23"
    removed = client.delete(
        f"{ADMIN}/closed-days/{added.get_json()['id']}", headers=auth(people["admin"])
    )
    assert removed.status_code == 200
    assert deadline_of_meeting(client, people["sec"], meeting) == "2026-04-24"
    assert admin_events() == ["admin.closed_day.add", "admin.closed_day.remove"]


def test_n_comes_from_the_kind(client, people):
    meeting = make_meeting(people["sec"], on=GOLDEN_WEEK).id
    db.session.commit()
    response = client.patch(
        f"{ADMIN}/meeting-kinds/section_managers",
        json={"deadline_days": 3},
        headers=auth(people["admin"]),
    )
    assert response.status_code == 200
    assert deadline_of_meeting(client, people["sec"], meeting) == "2026-04-28"


def test_a_joint_meeting_takes_the_earlier_deadline(client, people):
    kind = db.session.get(MeetingKind, "affairs_coordination")
    admin_service.update_meeting_kind(people["admin"], "cli", kind, deadline_days=7)
    joint = make_meeting(people["sec"], on=GOLDEN_WEEK, second_kind="affairs_coordination").id
    alone = make_meeting(people["sec"], on=GOLDEN_WEEK, kind="policy_coordination").id
    db.session.commit()
    deadlines = api_deadlines(client, people["sec"])
    assert deadlines[joint] == "2026-04-22"  # affairs_coordination's 7, not section_managers' 5
    assert deadlines[alone] == "2026-04-24"


def test_a_meetings_own_deadline_overrides_and_null_returns_to_the_rule(client, people):
    meeting = make_meeting(people["sec"], on=GOLDEN_WEEK).id
    db.session.commit()
    url = f"{ADMIN}/meetings/{meeting}/deadline"
    response = client.put(
        url, json={"submission_deadline": "2026-04-30"}, headers=auth(people["admin"])
    )
    assert response.status_code == 200
    assert response.get_json()["submission_deadline"] == "2026-04-30"
    assert response.get_json()["deadline_override"] == "2026-04-30"
    assert deadline_of_meeting(client, people["sec"], meeting) == "2026-04-30"
    response = client.put(url, json={"submission_deadline": None}, headers=auth(people["admin"]))
    assert response.status_code == 200
    assert response.get_json()["deadline_override"] is None
    assert deadline_of_meeting(client, people["sec"], meeting) == "2026-04-24"
    rows = db.session.scalars(
        sa.select(HistoryEvent).where(HistoryEvent.event == "admin.meeting.deadline")
    ).all()
    assert [(r.params["before"], r.params["after"]) for r in rows] == [
        ({"deadline_override": None}, {"deadline_override": "2026-04-30"}),
        ({"deadline_override": "2026-04-30"}, {"deadline_override": None}),
    ]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"submission_deadline": "2026-05-08"}, "submission_deadline", "開催日"),
        ({"submission_deadline": "2026-05-07"}, "submission_deadline", "開催日"),  # the day itself
        ({"submission_deadline": "2026-05-06"}, "submission_deadline", "閉庁日"),  # 振替休日
        ({"submission_deadline": "2026-04-25"}, "submission_deadline", "閉庁日"),  # a Saturday
        ({"submission_deadline": "令和8年13月1日"}, "submission_deadline", ""),
        ({}, "submission_deadline", "申込締切"),
    ],
)
def test_a_bad_override_is_refused_in_japanese_and_saves_nothing(
    client, people, body, field, words
):
    meeting = make_meeting(people["sec"], on=GOLDEN_WEEK).id
    db.session.commit()
    response = client.put(
        f"{ADMIN}/meetings/{meeting}/deadline", json=body, headers=auth(people["admin"])
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error["details"]["fields"]
    assert words in error["message"]
    assert any("\u3040" <= ch <= "\u9fff" for ch in error["message"])  # Japanese
    db.session.expire_all()
    assert db.session.get(Meeting, meeting).deadline_override is None
    assert admin_events() == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"day": "2026-04-31", "name": "市制記念日"}, "day", "日"),
        ({"day": "", "name": "市制記念日"}, "day", "閉庁日の日付を入力してください。"),
        ({"day": "2026-04-28", "name": ""}, "name", "入力してください"),
        ({"day": "2026-04-25", "name": "土曜日"}, "day", "土日・祝日・年末年始"),
        ({"day": "2026-04-29", "name": "昭和の日"}, "day", "土日・祝日・年末年始"),
    ],
)
def test_the_api_refuses_a_bad_closed_day(client, people, body, field, words):
    response = client.post(f"{ADMIN}/closed-days", json=body, headers=auth(people["admin"]))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert words in " ".join(error["details"]["fields"][field])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 0
    assert admin_events() == []


def test_the_api_refuses_a_closed_day_twice(client, people):
    body = {"day": "令和8年4月28日", "name": "市制記念日"}
    first = client.post(f"{ADMIN}/closed-days", json=body, headers=auth(people["admin"]))
    assert first.status_code == 201
    again = client.post(f"{ADMIN}/closed-days", json=body, headers=auth(people["admin"]))
    assert again.status_code == 422
    assert "既に閉庁日" in again.get_json()["error"]["message"]
    listed = client.get(f"{ADMIN}/closed-days", headers=auth(people["admin"])).get_json()
    assert [(d["day"], d["name"]) for d in listed["closed_days"]] == [("2026-04-28", "市制記念日")]
    assert admin_events() == ["admin.closed_day.add"]


def test_only_an_admin_changes_closed_days_and_deadlines(client, people):
    meeting = make_meeting(people["sec"], on=GOLDEN_WEEK).id
    db.session.commit()
    for user in (people["sec"], people["dept"]):
        headers = auth(user)
        assert client.get(f"{ADMIN}/closed-days", headers=headers).status_code == 403
        body = {"day": "2026-04-28", "name": "市制記念日"}
        assert client.post(f"{ADMIN}/closed-days", json=body, headers=headers).status_code == 403
        body = {"submission_deadline": "2026-04-30"}
        url = f"{ADMIN}/meetings/{meeting}/deadline"
        assert client.put(url, json=body, headers=headers).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 0


# -- 締切後 ----------------------------------------------------------------------------------------


def _submitted(people, monkeypatch, day: date, title: str) -> Item:
    on(monkeypatch, day)
    item = make_item(department=people["dept"], secretariat=people["sec"], title=title)
    item_service.submit(people["dept"], item)
    db.session.commit()
    return item


def test_a_request_on_the_deadline_day_is_in_time_and_the_day_after_is_late(
    client, people, monkeypatch
):
    make_meeting(people["sec"], on=GOLDEN_WEEK)
    in_time = _submitted(people, monkeypatch, date(2026, 4, 24), "締切日の申込")
    late = _submitted(people, monkeypatch, date(2026, 4, 25), "翌日の申込")
    assert (in_time.late, late.late) == (False, True)
    # The API says so on the item …
    headers = auth(people["sec"])
    db.session.commit()
    assert client.get(f"{API}/items/{in_time.id}", headers=headers).get_json()["late"] is False
    assert client.get(f"{API}/items/{late.id}", headers=headers).get_json()["late"] is True
    listed = client.get(f"{API}/items?status=submitted", headers=headers).get_json()["items"]
    assert {row["title"]: row["late"] for row in listed} == {
        "締切日の申込": False,
        "翌日の申込": True,
    }
    # … and the secretariat's intake marks the late one only.
    login(client, people["sec"])
    page = client.get("/items/intake").get_data(as_text=True)
    cards = page.split('<li class="card intake">')[1:]
    marked = {card.split("</a>")[0].rsplit(">", 1)[1]: "締切後" in card for card in cards}
    assert marked == {"締切日の申込": False, "翌日の申込": True}
    assert "締切後" in client.get(f"/items/{late.id}").get_data(as_text=True)
    assert "締切後" not in client.get(f"/items/{in_time.id}").get_data(as_text=True)


def test_a_resubmission_decides_again(people, monkeypatch):
    meeting = make_meeting(people["sec"], on=GOLDEN_WEEK)
    item = _submitted(people, monkeypatch, date(2026, 4, 27), "遅れた申込")
    assert item.late
    item_service.return_item(people["sec"], item, "資料を添付してください。")
    # The secretariat gives this meeting until 4/30; the department sends it again on 4/28.
    admin_service.set_meeting_deadline(people["admin"], "web", meeting, date(2026, 4, 30))
    on(monkeypatch, date(2026, 4, 28))
    item_service.submit(people["dept"], item, comment="資料を添付しました。")
    assert item.status == ItemStatus.SUBMITTED
    assert item.late is False


def test_no_planned_meeting_is_never_late(people, monkeypatch):
    make_meeting(people["sec"], on=GOLDEN_WEEK)  # already past on the day of submission
    item = _submitted(people, monkeypatch, date(2026, 6, 1), "会議のない時期の申込")
    assert item.late is False


def test_the_first_route_kind_decides_on_a_first_submission(people, monkeypatch):
    # A 政策調整会議 whose deadline has passed; the item's route starts with 関係課長会議, which
    # has no meeting planned: not late.
    make_meeting(people["sec"], on=GOLDEN_WEEK, kind="policy_coordination")
    item = _submitted(people, monkeypatch, date(2026, 5, 1), "関係課長会議から")
    assert item.route[0] == "section_managers"
    assert item.late is False


# -- the pages ---------------------------------------------------------------------------------------


def test_the_meeting_pages_show_the_deadline_in_wareki(client, people, monkeypatch):
    meeting = make_meeting(people["sec"], on=GOLDEN_WEEK).id
    db.session.commit()
    on(monkeypatch, date(2026, 4, 1))
    login(client, people["sec"])
    shown = client.get(f"/meetings/{meeting}").get_data(as_text=True)
    assert "申込締切 令和８年４月２４日" in shown
    assert "締切を過ぎています" not in shown
    assert "申込締切を変更する" not in shown  # the admin's link only
    listed = client.get("/meetings/?fy=2026").get_data(as_text=True)
    assert "令和８年４月２４日" in listed
    on(monkeypatch, date(2026, 4, 25))
    assert "締切を過ぎています" in client.get(f"/meetings/{meeting}").get_data(as_text=True)


def test_the_request_form_shows_the_next_meeting_and_its_deadline(client, people, monkeypatch):
    make_meeting(people["sec"], on=GOLDEN_WEEK)
    item = make_item(department=people["dept"], secretariat=people["sec"])
    db.session.commit()
    login(client, people["dept"])
    on(monkeypatch, date(2026, 4, 1))
    page = client.get(f"/items/{item.id}/edit").get_data(as_text=True)
    assert (
        "関係課長会議：第１回 関係課長会議（令和８年５月７日）・申込締切 令和８年４月２４日" in page
    )
    assert "政策調整会議：予定されている会議はまだありません" in page
    assert "締切を過ぎています" not in page
    on(monkeypatch, date(2026, 4, 27))
    assert "締切を過ぎています" in client.get(f"/items/{item.id}/edit").get_data(as_text=True)
    assert "申込締切 令和８年４月２４日" in client.get("/items/new").get_data(as_text=True)


# -- the admin's pages --------------------------------------------------------------------------------


def test_the_admin_adds_and_removes_a_closed_day_on_its_page(client, people):
    login(client, people["admin"])
    assert "閉庁日" in client.get("/admin/").get_data(as_text=True)
    response = client.post(
        "/admin/closed-days", data={"day": "令和8年4月28日", "name": "市制記念日"}
    )
    assert response.status_code == 302
    row = db.session.scalars(sa.select(ClosedDay)).one()
    assert (row.day, row.name) == (date(2026, 4, 28), "市制記念日")
    page = client.get("/admin/closed-days").get_data(as_text=True)
    assert "令和８年４月２８日" in page
    assert "市制記念日" in page
    response = client.post(f"/admin/closed-days/{row.id}/remove", data={})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 0
    assert admin_events() == ["admin.closed_day.add", "admin.closed_day.remove"]
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "閉庁日を登録" in audit
    assert "閉庁日を削除" in audit
    assert "令和８年４月２８日" in audit


@pytest.mark.parametrize(
    ("day", "words"),
    [
        ("令和8年13月1日", ""),
        ("あした", ""),
        ("", "閉庁日の日付を入力してください。"),
        ("2026-04-26", "登録しなくても閉庁日です"),
        ("2026-04-27", "既に閉庁日として登録されています"),
    ],
)
def test_the_closed_day_page_refuses_bad_input_in_japanese(client, people, day, words):
    db.session.add(ClosedDay(day=date(2026, 4, 27), name="既存"))
    db.session.commit()
    login(client, people["admin"])
    response = client.post("/admin/closed-days", data={"day": day, "name": "市制記念日"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert words in page
    assert 'class="field has-error"' in page  # beside the date
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClosedDay)) == 1
    assert admin_events() == []


def test_the_admin_sets_a_meetings_deadline_from_its_page(client, people):
    meeting = make_meeting(people["sec"], on=GOLDEN_WEEK).id
    db.session.commit()
    login(client, people["admin"])
    assert "申込締切を変更する" in client.get(f"/meetings/{meeting}").get_data(as_text=True)
    url = f"/admin/meetings/{meeting}/deadline"
    page = client.get(url).get_data(as_text=True)
    assert "令和８年４月２４日" in page  # the kind's rule
    refused = client.post(url, data={"submission_deadline": "令和8年5月8日"})
    assert refused.status_code == 422
    assert "開催日（令和８年５月７日）より前の日にしてください" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Meeting, meeting).deadline_override is None
    done = client.post(url, data={"submission_deadline": "2026-04-30"})
    assert done.status_code == 302
    assert done.location.endswith(f"/meetings/{meeting}")
    shown = client.get(f"/meetings/{meeting}").get_data(as_text=True)
    assert "申込締切 令和８年４月３０日（この会議だけの設定）" in shown
    client.post(url, data={"submission_deadline": "2026-04-30", "reset": "1"})
    db.session.expire_all()
    assert db.session.get(Meeting, meeting).deadline_override is None
    assert admin_events() == ["admin.meeting.deadline", "admin.meeting.deadline"]
