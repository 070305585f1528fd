"""Notices (DOMAIN §11): who is told what for each event, in the transaction of the change; the
list, the header's count, marking read, the API, and the choice of e-mail."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import item_meeting_id, make_item, make_meeting, make_section, make_user
from tests.support import API, assert_pager, auth, login
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import Item, Job, Meeting, Notice, User
from workflow.services import items, meetings, notices, public_comment, versions
from workflow.states.states import ItemStatus, Role


@pytest.fixture
def people(app):
    """Section A (with e-mail, without, in-app only, disabled), section B, the secretariat."""
    app.config["MAIL_SERVER"] = "mail.example.jp"
    a, b = make_section("情報政策課"), make_section("財政課")
    users = {
        "a_mail": make_user(Role.DEPARTMENT, a, email="a1@city.example.jp"),
        "a_nomail": make_user(Role.DEPARTMENT, a),
        "a_screen": make_user(Role.DEPARTMENT, a, email="a3@city.example.jp"),
        "a_gone": make_user(Role.DEPARTMENT, a, email="a4@city.example.jp", active=False),
        "b": make_user(Role.DEPARTMENT, b, email="b@city.example.jp"),
        "sec": make_user(Role.SECRETARIAT, email="sec1@city.example.jp"),
        "sec2": make_user(Role.SECRETARIAT),
        "viewer": make_user(Role.VIEWER, email="v@city.example.jp"),
    }
    users["a_screen"].notify_by_email = False
    db.session.commit()
    return users


def told(kind: str) -> dict[str, Notice]:
    """The notices of *kind*, by the user's login."""
    rows = db.session.scalars(sa.select(Notice).where(Notice.kind == kind).order_by(Notice.id))
    return {row.user.login: row for row in rows}


def told_all(kind: str) -> list[Notice]:
    return list(db.session.scalars(sa.select(Notice).where(Notice.kind == kind)))


def logins(people, *names: str) -> set[str]:
    return {people[name].login for name in names}


def mailed() -> set[int]:
    jobs = db.session.scalars(sa.select(Job).where(Job.kind == notices.MAIL_JOB))
    return {job.params["notice_id"] for job in jobs}


SECTION_A = ("a_mail", "a_nomail", "a_screen")


def test_accept_tells_the_owning_sections_active_users_and_mails_only_who_wants_mail(people):
    item = make_item(ItemStatus.SUBMITTED, department=people["a_mail"], secretariat=people["sec"])
    items.accept(people["sec"], item)
    got = told("accept")
    assert set(got) == logins(people, *SECTION_A)
    notice = got[people["a_mail"].login]
    assert notice.title == f"案件「{item.title}」が受け付けられました"
    assert "関係課長会議の議題になるのを待ちます" in notice.body
    assert notice.url == f"/items/{item.id}"
    assert notice.item_id == item.id
    # Mail: the user with an address who did not choose in-app only, and nobody else.
    assert {n.id for n in got.values() if n.mail_status == "pending"} == {notice.id}
    assert notice.id in mailed()
    assert not mailed() & {got[people["a_screen"].login].id, got[people["a_nomail"].login].id}


def test_without_a_mail_server_nothing_is_queued(people, app):
    app.config["MAIL_SERVER"] = ""
    item = make_item(ItemStatus.SUBMITTED, department=people["a_mail"], secretariat=people["sec"])
    items.accept(people["sec"], item)
    assert {n.mail_status for n in told("accept").values()} == {"none"}
    assert mailed() == set()


def test_submit_tells_the_secretariat_and_says_late(people, monkeypatch):
    # A 関係課長会議 on 2026-05-07 closes its requests on 2026-04-24; this one comes on the 27th.
    make_meeting(people["sec"], on=date(2026, 5, 7))
    monkeypatch.setattr(public_comment, "today", lambda: date(2026, 4, 27))
    item = make_item(ItemStatus.DRAFT, department=people["a_mail"], secretariat=people["sec"])
    items.submit(people["a_mail"], item)
    assert item.late
    got = told("submit")
    assert set(got) == logins(people, "sec", "sec2")
    assert got[people["sec"].login].title == f"締切後：案件「{item.title}」が申し込まれました"
    assert "情報政策課から" in got[people["sec"].login].body


def test_schedule_names_the_meeting_and_its_date_in_wareki(people):
    item = make_item(ItemStatus.ACCEPTED, department=people["a_mail"], secretariat=people["sec"])
    meeting = make_meeting(people["sec"], on=date(2026, 5, 7), venue="第３会議室")
    meetings.schedule(people["sec"], meeting, item, "情報政策課長")
    got = told("schedule")
    assert set(got) == logins(people, *SECTION_A)
    notice = got[people["a_mail"].login]
    assert notice.title == (
        f"案件「{item.title}」が{meeting.title}（令和８年５月７日）の議題になりました"
    )
    assert "日付：令和８年５月７日" in notice.body
    assert "会場：第３会議室" in notice.body
    assert notice.meeting_id == meeting.id


@pytest.mark.parametrize(
    ("outcome", "wording", "next_step"),
    [
        ("approved", "原案のとおり承認する。", "承認されました。"),
        ("approved_with_amendments", "原案を一部修正し承認する。", "修正版を作成して"),
        ("continued", "継続審議とする。", "引き続き関係課長会議で審議します"),
        ("remanded", "差し戻しとする。", "再度申し込んでください"),
    ],
)
def test_outcome_gives_the_wording_and_what_comes_next(people, outcome, wording, next_step):
    item = make_item(ItemStatus.SCHEDULED, department=people["a_mail"], secretariat=people["sec"])
    meeting = db.session.get(Meeting, item_meeting_id(item))
    meetings.record_outcome(people["sec"], meeting, item, outcome)
    got = told("record_outcome")
    assert set(got) == logins(people, *SECTION_A)
    notice = got[people["a_nomail"].login]
    assert notice.title == f"案件「{item.title}」の結果：{wording}"
    assert f"結果：{wording}" in notice.body
    assert next_step in notice.body


def test_forwarded_names_the_higher_meeting_and_the_next_kind(people):
    item = make_item(ItemStatus.SCHEDULED, department=people["a_mail"], secretariat=people["sec"])
    meeting = db.session.get(Meeting, item_meeting_id(item))
    meetings.record_outcome(people["sec"], meeting, item, "forwarded", "policy_coordination")
    notice = told("record_outcome")[people["a_mail"].login]
    assert "原案を上部庁議へ付議する（政策調整会議）" in notice.title
    assert "次は政策調整会議の議題になるのを待ちます。" in notice.body


def test_returned_amendment_carries_the_reason_in_full(people):
    item = make_item(
        ItemStatus.AMENDMENT_SUBMITTED, department=people["a_mail"], secretariat=people["sec"]
    )
    assert set(told("submit_amendment")) == logins(people, "sec", "sec2")
    reason = "第２項の数値が資料と合いません。\n財源の記載も直してください。"
    items.return_amendment(people["sec"], item, reason)
    got = told("return_amendment")
    assert set(got) == logins(people, *SECTION_A)
    assert reason in got[people["a_mail"].login].body


def test_published_minutes_tell_every_agenda_section_once(people):
    sec = people["sec"]
    ours = make_item(ItemStatus.ACCEPTED, department=people["a_mail"], secretariat=sec)
    theirs = make_item(ItemStatus.ACCEPTED, department=people["b"], secretariat=sec)
    meeting = make_meeting(sec, on=date(2026, 5, 7))
    for item in (ours, theirs):
        meetings.schedule(sec, meeting, item, "課長")
        meetings.record_outcome(sec, meeting, item, "approved")
    meetings.hold(sec, meeting)
    meetings.confirm(sec, meeting)
    meetings.publish(sec, meeting)
    got = told("publish")
    assert set(got) == logins(people, *SECTION_A, "b")
    assert (
        got[people["b"].login].title
        == f"{meeting.title}（令和８年５月７日）の議事録が公開されました"
    )
    meetings.unpublish(sec, meeting, reason="非公開の資料が含まれていたため")
    meetings.publish(sec, meeting)
    assert db.session.scalar(sa.select(sa.func.count()).where(Notice.kind == "publish")) == 4


def test_a_revision_between_meetings_tells_the_secretariat_and_a_draft_does_not(people):
    dept = people["a_mail"]
    draft = make_item(ItemStatus.DRAFT, department=dept, secretariat=people["sec"])
    items.update_item(dept, draft, {"summary": "概要を書き足した。"})
    item = make_item(ItemStatus.ACCEPTED, department=dept, secretariat=people["sec"])
    items.update_item(dept, item, {"summary": "会議の意見を受けて見直した。"})
    got = told("revise")
    assert set(got) == logins(people, "sec", "sec2")
    assert got[people["sec"].login].item_id == item.id
    assert "第2版" in got[people["sec"].login].title
    # The secretariat's own revision: the other secretariat users, never the one who made it.
    items.update_item(people["sec"], item, {"remarks": "事務局で表記を直した。"})
    to_sec = [n for n in told_all("revise") if n.title.endswith("（第3版）")]
    assert [n.user_id for n in to_sec] == [people["sec2"].id]


def test_notices_are_rolled_back_with_a_change_that_fails(people, client, monkeypatch):
    """Scheduling writes the history row and its notices, then fails: nothing stays."""
    sec = people["sec"]
    item = make_item(ItemStatus.ACCEPTED, department=people["a_mail"], secretariat=sec)
    meeting = make_meeting(sec, on=date(2026, 5, 7))
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Notice))

    def refuse(*_args, **_kw):
        assert told("schedule")  # written in the transaction …
        raise ValidationFailed("凍結できません。")

    monkeypatch.setattr(versions, "freeze", refuse)
    response = client.post(
        f"{API}/meetings/{meeting.id}/entries",
        json={"item_id": item.id, "presenter": "課長"},
        headers=auth(sec),
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == before
    assert told("schedule") == {}  # … and gone with it
    assert db.session.get(Item, item.id).status == ItemStatus.ACCEPTED


# -- pages ---------------------------------------------------------------------------------------


def _notices_for(user: User, count: int) -> list[Notice]:
    made = []
    for n in range(count):
        made += notices.notify([user], kind="test", title=f"通知その{n + 1}", body="本文", url="/")
    db.session.commit()
    return made


def test_header_shows_the_unread_count_to_signed_in_users(people, client):
    user = people["a_mail"]
    first, _second = _notices_for(user, 2)
    login(client, user)
    assert "通知（2）" in client.get("/").get_data(as_text=True)
    notices.mark_read(first)
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "通知（1）" in html
    assert 'aria-label="通知（未読1件）"' in html
    client.post("/logout")
    assert "通知（" not in client.get("/public/").get_data(as_text=True)


def test_list_is_newest_first_with_unread_marked_and_paged(people, client):
    user = people["a_mail"]
    made = _notices_for(user, 51)
    notices.mark_read(made[-1])
    db.session.commit()
    login(client, user)
    html = client.get("/notices/").get_data(as_text=True)
    assert html.index("通知その51") < html.index("通知その50")
    assert "通知その1<" not in html  # the 51st on page 2
    assert html.count("未読</strong>") == 49  # the newest one was read
    assert_pager(html, 1, lambda n: f"/notices/?page={n}", has_next=True)
    second = client.get("/notices/?page=2").get_data(as_text=True)
    assert "通知その1<" in second
    assert_pager(
        second, 2, lambda n: f"/notices/?page={n}" if n > 1 else "/notices/?page=1", has_next=False
    )


def test_marking_read_one_all_and_opening(people, client):
    user = people["a_mail"]
    one, two, three = _notices_for(user, 3)
    other = _notices_for(people["b"], 1)[0]
    login(client, user)
    response = client.post(f"/notices/{one.id}/read")
    assert response.status_code == 302
    assert response.location == "/notices/"
    response = client.post(f"/notices/{two.id}/read", data={"open": "1"})
    assert response.location == "/"  # the notice's url
    assert client.post(f"/notices/{other.id}/read").status_code == 404
    assert client.post("/notices/999999/read").status_code == 404
    db.session.expire_all()
    assert one.read_at is not None
    assert two.read_at is not None
    assert three.read_at is None
    assert other.read_at is None
    client.post("/notices/read-all")
    db.session.expire_all()
    assert three.read_at is not None
    assert other.read_at is None
    assert "1件の通知を既読にしました" in client.get("/notices/").get_data(as_text=True)


def test_api_lists_and_marks_only_ones_own(people, client):
    user = people["a_mail"]
    made = _notices_for(user, 3)
    theirs = _notices_for(people["b"], 1)[0]
    headers = auth(user)
    db.session.commit()
    body = client.get(f"{API}/me/notices?per_page=2", headers=headers).get_json()
    assert body["unread"] == 3
    assert body["total"] == 3
    assert [n["id"] for n in body["notices"]] == [made[2].id, made[1].id]
    assert set(body["notices"][0]) == {
        "id",
        "kind",
        "item_id",
        "meeting_id",
        "title",
        "body",
        "url",
        "created_at",
        "read_at",
    }
    page2 = client.get(f"{API}/me/notices?per_page=2&page=2", headers=headers).get_json()
    assert [n["id"] for n in page2["notices"]] == [made[0].id]
    response = client.post(f"{API}/me/notices/{made[0].id}/read", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["read_at"] is not None
    assert client.post(f"{API}/me/notices/{theirs.id}/read", headers=headers).status_code == 404
    assert client.get(f"{API}/me/notices", headers=headers).get_json()["unread"] == 2
    assert client.get(f"{API}/me/notices").status_code == 401


def test_the_choice_of_mail(people, client):
    user = people["a_mail"]
    login(client, user)
    html = client.get("/account/notices").get_data(as_text=True)
    assert "メールと画面で受け取る" in html
    assert "a1@city.example.jp" in html
    assert (
        '<input checked id="receive-0" name="receive" required type="radio" value="email">' in html
    )
    response = client.post("/account/notices", data={"receive": "screen"})
    assert response.status_code == 302
    db.session.expire_all()
    assert user.notify_by_email is False
    assert "画面だけで受け取るようにしました" in client.get(response.location).get_data(
        as_text=True
    )
    # Now the user's notices are in-app only.
    notice = notices.notify([user], kind="test", title="t")[0]
    assert notice.mail_status == "none"
    assert client.post("/account/notices", data={"receive": "fax"}).status_code == 422
    client.post("/logout")
    login(client, people["a_nomail"])
    assert "メールアドレスが登録されていない" in client.get("/account/notices").get_data(
        as_text=True
    )


def test_a_resubmission_after_a_return_says_so(people):
    item = make_item(ItemStatus.RETURNED, department=people["a_mail"], secretariat=people["sec"])
    items.submit(people["a_mail"], item, comment="不足していた記載を補いました。")
    notice = told("submit")[people["sec"].login]
    assert notice.title == f"案件「{item.title}」が再び申し込まれました"
    assert "再申込" in notice.body
