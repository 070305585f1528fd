"""The HTML pages through the Flask test client: what each role sees and may do."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm.exc import StaleDataError

from tests.factories import make_item, make_meeting, make_section, make_user
from tests.support import BASE_FORM, login
from workflow.demo.sample import play_sample
from workflow.errors import CONFLICT_MESSAGE
from workflow.extensions import db
from workflow.models import Item, Meeting, User
from workflow.states.states import ItemStatus, MeetingStatus, Role

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def people(app: Flask) -> dict[str, User]:
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    people = {
        "department": make_user(Role.DEPARTMENT, section=section, login="dept"),
        "other_department": make_user(Role.DEPARTMENT, login="other"),
        "secretariat": make_user(Role.SECRETARIAT, login="sec"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
    }
    db.session.commit()
    return people


def text(response) -> str:
    return response.get_data(as_text=True)


# -- access ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_but_public_pages_are_open(client: FlaskClient) -> None:
    assert client.get("/items/").status_code == 302
    response = client.get("/public/")
    assert response.status_code == 200
    assert "公開された会議" in text(response)


def test_error_pages_speak_japanese(client: FlaskClient, people) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "ページが見つかりません" in text(response)
    login(client, people["viewer"])
    response = client.get("/items/intake")
    assert response.status_code == 403
    assert "権限がありません" in text(response)


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("department", "/items/intake", 403),
        ("viewer", "/items/new", 403),
        ("viewer", "/meetings/new", 403),
        ("department", "/public-comments/", 403),
        ("secretariat", "/items/intake", 200),
        ("secretariat", "/meetings/new", 200),
        ("department", "/items/new", 200),
    ],
)
def test_pages_by_role(client: FlaskClient, people, role: str, url: str, status: int) -> None:
    login(client, people[role])
    assert client.get(url).status_code == status


def test_drafts_of_other_sections_are_hidden(client: FlaskClient, people) -> None:
    item = make_item(ItemStatus.DRAFT, department=people["other_department"])
    db.session.commit()
    login(client, people["department"])
    assert client.get(f"/items/{item.id}").status_code == 403
    assert item.title not in text(client.get("/items/?q="))


# -- the 様式２ form ------------------------------------------------------------------------


def test_department_files_a_draft_and_submits_it(client: FlaskClient, people) -> None:
    login(client, people["department"])
    assert "事案の概要" in text(client.get("/items/new"))  # the standard headings are offered
    response = client.post("/items/new", data={**BASE_FORM, "save": "1"})
    assert response.status_code == 302
    item = db.session.scalar(db.select(Item))
    assert item.status == ItemStatus.DRAFT
    assert item.applied_on == date(2019, 10, 8)
    assert [d.heading for d in item.details] == ["事案の概要", "事業スケジュール"]
    assert item.details[0].body == "○目的\n本市では…"
    assert item.coordination[0].status.value == "done"
    assert item.public_comment_planned is True
    page = text(client.get(response.location))
    assert "作成中" in page
    assert "申込" in page

    response = client.post(
        f"/items/{item.id}/events/submit", data={"version": item.version, "confirmed": "1"}
    )
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == ItemStatus.SUBMITTED
    assert "申込済" in text(client.get(f"/items/{item.id}"))


def test_row_buttons_add_remove_and_reorder_keeping_what_was_typed(
    client: FlaskClient, people
) -> None:
    login(client, people["department"])
    response = client.post("/items/new", data={**BASE_FORM, "add_history": "1"})
    page = text(response)
    assert response.status_code == 200
    assert 'name="history-1-when"' in page  # a new empty row
    assert "第１回検討会議" in page
    assert "市民協働推進計画" in page

    response = client.post("/items/new", data={**BASE_FORM, "up_details-1": "1"})
    page = text(response)
    assert page.index("事業スケジュール") < page.index("○目的")
    assert re.search(r'name="details-0-heading"[^>]*value="事業スケジュール"', page)

    response = client.post("/items/new", data={**BASE_FORM, "remove_coordination-0": "1"})
    assert "企画政策課" not in text(response)
    assert db.session.scalar(db.select(Item)) is None  # row buttons never save


def test_refused_form_shows_japanese_errors_beside_fields_and_keeps_input(
    client: FlaskClient, people
) -> None:
    login(client, people["department"])
    data = {
        **BASE_FORM,
        "applied_on": "平成31年5月25日",
        "coordination-0-department": "",  # content without a department
        "save": "1",
    }
    response = client.post("/items/new", data=data)
    page = text(response)
    assert response.status_code == 422
    assert 'id="applied_on-error"' in page
    assert "平成31年5月25日" in page  # what was typed is still there
    assert 'id="coordination-0-department-error"' in page
    assert "総合計画との整合" in page
    assert db.session.scalar(db.select(Item)) is None


def test_missing_title_is_refused_in_japanese(client: FlaskClient, people) -> None:
    login(client, people["department"])
    response = client.post("/items/new", data={**BASE_FORM, "title": "", "save": "1"})
    assert response.status_code == 422
    assert "案件名を入力してください。" in text(response)


def test_edit_is_refused_once_submitted(client: FlaskClient, people) -> None:
    item = make_item(ItemStatus.SUBMITTED, department=people["department"])
    db.session.commit()
    login(client, people["department"])
    response = client.get(f"/items/{item.id}/edit")
    assert response.status_code == 302
    assert "編集する" not in text(client.get(f"/items/{item.id}"))


def test_withdraw_needs_a_reason(client: FlaskClient, people) -> None:
    item = make_item(ItemStatus.SUBMITTED, department=people["department"])
    db.session.commit()
    login(client, people["department"])
    client.post(f"/items/{item.id}/events/withdraw", data={"reason": ""})
    db.session.refresh(item)
    assert item.status == ItemStatus.SUBMITTED
    client.post(
        f"/items/{item.id}/events/withdraw", data={"reason": "事業を見送るため", "confirmed": "1"}
    )
    db.session.refresh(item)
    assert item.status == ItemStatus.WITHDRAWN


def test_stale_version_gives_a_conflict_message(client: FlaskClient, people) -> None:
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    db.session.commit()
    login(client, people["department"])
    response = client.post(
        f"/items/{item.id}/events/submit",
        data={"version": item.version + 5, "confirmed": "1"},  # the confirmation page's POST
        follow_redirects=True,
    )
    assert CONFLICT_MESSAGE in text(response)


def test_a_race_lost_at_commit_on_a_page_says_the_same(client: FlaskClient, people, monkeypatch):
    """Pages commit as the API does: a lost race is the one conflict message, nothing written."""
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    db.session.commit()
    login(client, people["department"])

    def lose(*_args, **_kwargs):
        raise StaleDataError("UPDATE statement on table 'items' expected to update 1 row(s)")

    monkeypatch.setattr(db.session, "commit", lose)
    response = client.post(
        f"/items/{item.id}/events/submit", data={"version": item.version, "confirmed": "1"}
    )
    monkeypatch.undo()
    assert response.status_code == 302
    assert CONFLICT_MESSAGE in text(client.get(response.location))
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.DRAFT


def test_amendment_step(client: FlaskClient, people) -> None:
    item = make_item(ItemStatus.AMENDING, department=people["department"])
    db.session.commit()
    login(client, people["department"])
    page = text(client.get(f"/items/{item.id}"))
    assert "修正する" in page
    form = text(client.get(f"/items/{item.id}/edit"))
    assert "保存して修正版を提出" in form
    data = {**BASE_FORM, "title": item.title, "section": item.section.name}
    data["version"] = str(item.version)
    response = client.post(f"/items/{item.id}/edit", data={**data, "save_and_submit": "1"})
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == ItemStatus.AMENDMENT_SUBMITTED  # 修正確認中: the secretariat confirms
    assert "庁議事務局の確認をお待ちください" in text(client.get(f"/items/{item.id}"))

    client.post("/logout")
    login(client, people["secretariat"])
    page = text(client.get(f"/items/{item.id}"))
    assert "修正の確認" in page
    assert "修正の差戻し" in page
    refused = client.post(f"/items/{item.id}/events/return_amendment", data={"reason": ""})
    assert refused.status_code == 302
    db.session.refresh(item)
    assert item.status == ItemStatus.AMENDMENT_SUBMITTED  # no reason, nothing changed
    answer = client.post(
        f"/items/{item.id}/events/return_amendment",
        data={"reason": "修正箇所が反映されていません。", "version": str(item.version)},
        follow_redirects=True,
    )
    flashes = re.findall(r"<p class=\"flash[^>]*>(.*?)</p>", text(answer), re.S)
    assert "修正版を差し戻しました。" in " ".join(flashes), flashes
    db.session.refresh(item)
    assert item.status == ItemStatus.AMENDING


# -- secretariat -----------------------------------------------------------------------------


def test_intake_accepts_and_returns(client: FlaskClient, people) -> None:
    one = make_item(ItemStatus.SUBMITTED, department=people["department"])
    two = make_item(ItemStatus.SUBMITTED, department=people["department"])
    db.session.commit()
    login(client, people["secretariat"])
    page = text(client.get("/items/intake"))
    assert one.title in page
    assert two.title in page
    client.post(f"/items/{one.id}/events/accept", data={"from": "intake", "confirmed": "1"})
    response = client.post(
        f"/items/{two.id}/events/return", data={"from": "intake", "reason": "概要が不足"}
    )
    assert response.location.endswith("/items/intake")
    db.session.refresh(one)
    db.session.refresh(two)
    assert (one.status, two.status) == (ItemStatus.ACCEPTED, ItemStatus.RETURNED)
    assert "概要が不足" in text(client.get(f"/items/{two.id}"))


def test_viewer_sees_no_action_buttons(client: FlaskClient, people) -> None:
    item = make_item(ItemStatus.SUBMITTED, department=people["department"])
    db.session.commit()
    login(client, people["viewer"])
    page = text(client.get(f"/items/{item.id}"))
    assert "/events/" not in page


def test_meeting_agenda_room_and_publication(client: FlaskClient, people) -> None:
    item = make_item(ItemStatus.ACCEPTED, department=people["department"])
    db.session.commit()
    login(client, people["secretariat"])
    response = client.post(
        "/meetings/new", data={"kind": "section_managers", "date": "R1.8.21", "number": "２"}
    )
    assert response.status_code == 302
    meeting = db.session.scalar(db.select(Meeting))
    assert meeting.number == 2
    page = text(client.get(f"/meetings/{meeting.id}"))
    assert item.title in page
    assert "議題に加える" in page

    client.post(
        f"/meetings/{meeting.id}/agenda/add", data={"item_id": item.id, "presenter": "情報政策課長"}
    )
    db.session.refresh(item)
    assert item.status == ItemStatus.SCHEDULED

    room = f"/meetings/{meeting.id}/room/1"
    page = text(client.get(room))
    assert "出席課・機関等" in page  # 関係課長会議 records attendance
    response = client.post(
        room,
        data={
            "presenter": "情報政策課長",
            "attendance-0-section": "企画政策課",
            "attendance-0-deputy": "y",
            "opinions-0-opinion": "サポートをお願いしたい。",
            "opinions-0-response": "担当を配置する。",
            "outcome": "forwarded",
            "forward_to": "",
            "save": "1",
        },
    )
    assert response.status_code == 422
    assert "付議する上部の会議を選んでください。" in text(response)
    assert "サポートをお願いしたい。" in text(response)

    response = client.post(
        room,
        data={
            "presenter": "情報政策課長",
            "attendance-0-section": "企画政策課",
            "attendance-0-deputy": "y",
            "opinions-0-opinion": "サポートをお願いしたい。",
            "opinions-0-response": "担当を配置する。",
            "outcome": "forwarded",
            "forward_to": "policy_coordination",
            "save": "1",
        },
    )
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == ItemStatus.ACCEPTED
    assert item.level_kind == "policy_coordination"

    for event in ("hold", "confirm", "publish"):
        db.session.refresh(meeting)
        client.post(
            f"/meetings/{meeting.id}/events/{event}",
            data={"version": meeting.version, "confirmed": "1"},
        )
    db.session.refresh(meeting)
    assert meeting.status == MeetingStatus.PUBLISHED

    client.post("/logout")
    page = text(client.get(f"/public/meetings/{meeting.id}"))
    assert "サポートをお願いしたい。" in page
    assert "原案を上部庁議へ付議する（政策調整会議）" in page
    assert item.title in text(client.get(f"/public/items/{item.id}"))


def test_room_row_buttons_keep_typed_opinions(client: FlaskClient, people) -> None:
    item = make_item(ItemStatus.SCHEDULED, department=people["department"])
    db.session.commit()
    meeting_id = db.session.scalar(db.select(Meeting.id))
    login(client, people["secretariat"])
    response = client.post(
        f"/meetings/{meeting_id}/room/1",
        data={"opinions-0-opinion": "一つ目の意見", "add_opinions": "1"},
    )
    page = text(response)
    assert "一つ目の意見" in page
    assert 'name="opinions-1-opinion"' in page
    assert item.title in page


def test_unpublished_meetings_are_not_public(client: FlaskClient, people) -> None:
    meeting = make_meeting(people["secretariat"])
    db.session.commit()
    assert client.get(f"/public/meetings/{meeting.id}").status_code == 404


def test_sample_pages_render_for_every_role(client: FlaskClient, people) -> None:
    path = play_sample(people["department"], people["secretariat"], until="concluded")
    db.session.commit()
    item = path.item
    pc = path.meetings["policy_coordination"]
    for role in ("department", "secretariat", "viewer"):
        login(client, people[role])
        for url in (
            "/",
            "/items/?q=",
            f"/items/{item.id}",
            "/meetings/",
            f"/meetings/{pc.id}",
            f"/meetings/{pc.id}/minutes",
        ):
            response = client.get(url)
            assert response.status_code == 200, (role, url)
        client.post("/logout")
    login(client, people["secretariat"])
    page = text(client.get(f"/public-comments/{item.id}"))
    assert "行政手続のオンライン化" in page
    page = text(client.get(f"/items/{item.id}"))
    assert "第５回 政策調整会議" in page
    assert "完了" in page
