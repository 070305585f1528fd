"""中止 and edit of a planned meeting (issue 20, DOMAIN §2, §11): a cancelled meeting keeps its
number and its reason, its items wait again (each with its history row), their sections are told;
an edit changes the date, time, venue, chair and 第N回 of a planned meeting, renumbers by date
(both 年度 when the date moves to another one) and tells the sections of a new date."""

from __future__ import annotations

from datetime import date, time

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests.factories import make_item, make_meeting, make_section, make_user
from tests.support import API, auth, flask_db, login, meeting_numbers
from workflow.errors import Conflict, NotAllowedNow, ValidationFailed
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Notice
from workflow.services import meetings
from workflow.states.machine import MEETING_MACHINE
from workflow.states.states import ItemStatus, MeetingStatus, Role

SM = "section_managers"
REASON = "市長の公務が入ったため"


def _history(event: str, **where) -> list[HistoryEvent]:
    query = select(HistoryEvent).where(HistoryEvent.event == event)
    for key, value in where.items():
        query = query.where(getattr(HistoryEvent, key) == value)
    return list(db.session.scalars(query.order_by(HistoryEvent.id)))


def _notices(user, kind: str) -> list[Notice]:
    return list(
        db.session.scalars(select(Notice).where(Notice.user_id == user.id, Notice.kind == kind))
    )


def _scheduled_world():
    """A planned meeting with two items of two sections on its agenda."""
    secretariat = make_user(Role.SECRETARIAT)
    first = make_user(Role.DEPARTMENT, make_section("道路課"))
    second = make_user(Role.DEPARTMENT, make_section("公園課"))
    meeting = make_meeting(secretariat, SM, date(2019, 8, 21))
    items = []
    for department in (first, second):
        item = make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
        meetings.schedule(secretariat, meeting, item, "課長")
        items.append(item)
    return secretariat, (first, second), meeting, items


def test_the_machine_cancels_only_a_planned_meeting():
    transitions = MEETING_MACHINE.get_transitions("cancel")
    assert [(t.source, t.dest) for t in transitions] == [("PLANNED", "CANCELLED")]
    assert "cancel" in MEETING_MACHINE.get_triggers(MeetingStatus.PLANNED)
    assert MEETING_MACHINE.get_triggers(MeetingStatus.CANCELLED) == []


def test_cancel_sends_the_items_back_to_waiting_and_tells_their_sections(app):
    secretariat, departments, meeting, items = _scheduled_world()
    meetings.cancel(secretariat, meeting, reason=f"  {REASON} ")
    db.session.commit()
    db.session.expire_all()
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting.cancel_reason == REASON
    assert meeting.cancelled_at is not None
    assert meeting.number == 1  # announced: it keeps its number
    assert meeting.entries == []
    for item in items:
        assert item.status == ItemStatus.ACCEPTED
        assert item.level_kind == SM  # waits for the same kind again
        (row,) = _history("unschedule", item_id=item.id)
        assert row.params["meeting_id"] == meeting.id
        assert (row.from_state, row.to_state) == ("scheduled", "accepted")
    (row,) = _history("cancel", meeting_id=meeting.id)
    assert (row.from_state, row.to_state, row.reason) == ("planned", "cancelled", REASON)
    assert sorted(row.params["item_ids"]) == sorted(i.id for i in items)
    for department, item in zip(departments, items, strict=True):
        (notice,) = _notices(department, "cancel")
        assert "中止" in notice.title
        assert "令和元年８月２１日" in notice.title
        assert REASON in notice.body
        # Each section hears of its own item, and of no other section's.
        assert f"・{item.title}" in notice.body
        assert all(f"・{o.title}" not in notice.body for o in items if o is not item)
    assert _notices(secretariat, "cancel") == []  # the actor is not told of their own act


def test_cancel_needs_a_reason_and_a_planned_meeting_without_outcomes(app):
    secretariat, _departments, meeting, items = _scheduled_world()
    for reason in ("", "　 "):
        with pytest.raises(ValidationFailed) as refused:
            meetings.cancel(secretariat, meeting, reason=reason)
        assert refused.value.message == "中止の理由を入力してください。"
        assert "reason" in refused.value.fields
    assert meeting.status == MeetingStatus.PLANNED
    meetings.record_outcome(secretariat, meeting, items[0], "approved")
    with pytest.raises(Conflict):
        meetings.cancel(secretariat, meeting, reason=REASON)
    meetings.record_outcome(secretariat, meeting, items[1], "approved")
    meetings.hold(secretariat, meeting)
    with pytest.raises(NotAllowedNow):
        meetings.cancel(secretariat, meeting, reason=REASON)


def test_a_cancelled_meeting_takes_no_agenda_and_no_edit(app):
    secretariat, _departments, meeting, items = _scheduled_world()
    meetings.cancel(secretariat, meeting, reason=REASON)
    with pytest.raises(ValidationFailed):
        meetings.schedule(secretariat, meeting, items[0])
    with pytest.raises(NotAllowedNow):
        meetings.hold(secretariat, meeting)
    with pytest.raises(Conflict):
        meetings.update_meeting(secretariat, meeting, {"venue": "第二会議室"})


def test_a_cancelled_meeting_keeps_its_number_and_the_next_counts_past_it(app):
    secretariat = make_user(Role.SECRETARIAT)
    first = make_meeting(secretariat, SM, date(2019, 6, 10))
    make_meeting(secretariat, SM, date(2019, 9, 10))
    meetings.cancel(secretariat, first, reason=REASON)
    make_meeting(secretariat, SM, date(2019, 5, 10))  # earlier than the cancelled one
    assert meeting_numbers() == [("2019-05-10", 2), ("2019-06-10", 1), ("2019-09-10", 3)]


def test_cancelled_meetings_are_not_the_next_planned_one(app):
    from workflow.deadlines import next_planned_meeting

    secretariat = make_user(Role.SECRETARIAT)
    soon = make_meeting(secretariat, SM, date(2030, 6, 10))
    later = make_meeting(secretariat, SM, date(2030, 7, 10))
    meetings.cancel(secretariat, soon, reason=REASON)
    assert next_planned_meeting(SM, date(2030, 6, 1)).id == later.id


def test_api_cancel(app):
    secretariat, _departments, meeting, items = _scheduled_world()
    viewer = make_user(Role.VIEWER)
    staff = auth(secretariat)
    db.session.commit()
    client = app.test_client()
    url = f"{API}/meetings/{meeting.id}/events/cancel"
    for body in ({}, {"reason": ""}, {"reason": "　"}):
        response = client.post(url, json=body, headers=staff)
        assert response.status_code == 422, body
        error = response.get_json()["error"]
        assert error["message"] == "中止の理由を入力してください。"
        assert "reason" in error["details"]["fields"]
    assert client.post(url, json={"reason": 3}, headers=staff).status_code == 422
    assert client.post(url, json={"reason": REASON}, headers=auth(viewer)).status_code == 403
    assert client.post(url, json={"reason": REASON}).status_code == 401
    stale = client.post(url, json={"reason": REASON, "version": 1}, headers=staff)
    assert stale.status_code == 409
    response = client.post(url, json={"reason": REASON}, headers=staff)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["status_label"]) == ("cancelled", "中止")
    assert body["cancel_reason"] == REASON
    assert body["entries"] == []
    assert body["allowed_events"] == []
    again = client.post(url, json={"reason": REASON}, headers=staff)
    assert again.status_code == 409
    assert again.get_json()["error"]["details"]["status"] == "cancelled"
    db.session.expire_all()
    assert {db.session.get(Item, i.id).status for i in items} == {ItemStatus.ACCEPTED}
    listed = client.get(f"{API}/meetings", headers=staff).get_json()["meetings"]
    assert [(m["status"], m["cancel_reason"]) for m in listed] == [("cancelled", REASON)]


def test_api_patch_edits_a_planned_meeting_and_renumbers(app):
    secretariat = make_user(Role.SECRETARIAT)
    department = make_user(Role.DEPARTMENT, make_section("道路課"))
    make_meeting(secretariat, SM, date(2019, 6, 10))
    july = make_meeting(secretariat, SM, date(2019, 7, 10))
    item = make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
    meetings.schedule(secretariat, july, item, "課長")
    staff = auth(secretariat)
    db.session.commit()
    client = app.test_client()
    url = f"{API}/meetings/{july.id}"
    # July moves before June: 第１回 and 第２回 change places.
    response = client.patch(
        url,
        json={
            "date": "2019-05-20",
            "start_time": "13:30",
            "venue": "第二会議室",
            "chair": "副市長",
        },
        headers=staff,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["number"], body["date"], body["start_time"]) == (1, "2019-05-20", "13:30")
    assert (body["venue"], body["chair"], body["number_fixed"]) == ("第二会議室", "副市長", False)
    db.session.expire_all()
    assert meeting_numbers() == [("2019-05-20", 1), ("2019-06-10", 2)]
    (row,) = _history("edit_meeting", meeting_id=july.id)
    assert row.params["date"] == ["2019-07-10", "2019-05-20"]
    assert row.params["number"] == [2, 1]
    (notice,) = _notices(department, "meeting_date_changed")
    assert "令和元年７月１０日" in notice.body
    assert "令和元年５月２０日" in notice.body
    assert "令和元年５月２０日" in notice.title
    # By hand, then back to automatic.
    response = client.patch(url, json={"number": 5}, headers=staff)
    assert (response.get_json()["number"], response.get_json()["number_fixed"]) == (5, True)
    db.session.expire_all()
    # The next planned one counts on from the number before it (DOMAIN §2).
    assert meeting_numbers() == [("2019-05-20", 5), ("2019-06-10", 6)]
    response = client.patch(url, json={"number": None}, headers=staff)
    assert (response.get_json()["number"], response.get_json()["number_fixed"]) == (1, False)
    # Only a date change is told; the time is no news to the sections.
    assert len(_notices(department, "meeting_date_changed")) == 1
    # Refusals: a date that is no date, a key the edit does not take, a stale version.
    assert client.patch(url, json={"date": "いつか"}, headers=staff).status_code == 422
    assert client.patch(url, json={"date": None}, headers=staff).status_code == 422
    assert client.patch(url, json={"kind": "policy_decision"}, headers=staff).status_code == 422
    assert client.patch(url, json={"venue": "x", "version": 1}, headers=staff).status_code == 409
    viewer = make_user(Role.VIEWER)
    db.session.commit()
    assert client.patch(url, json={"venue": "x"}, headers=auth(viewer)).status_code == 403


def test_a_number_kept_by_another_meeting_cannot_be_typed(app):
    secretariat = make_user(Role.SECRETARIAT)
    make_meeting(secretariat, SM, date(2019, 6, 10), number=3)
    other = make_meeting(secretariat, SM, date(2019, 7, 10))
    with pytest.raises(ValidationFailed) as taken:
        meetings.update_meeting(secretariat, other, {"number": 3})
    assert "number" in taken.value.fields


def test_a_date_in_another_fiscal_year_renumbers_both_years(app):
    secretariat = make_user(Role.SECRETARIAT)
    department = make_user(Role.DEPARTMENT)
    march = make_meeting(secretariat, SM, date(2020, 2, 10))
    make_meeting(secretariat, SM, date(2020, 3, 10))
    make_meeting(secretariat, SM, date(2020, 5, 10))
    item = make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
    meetings.schedule(secretariat, march, item, "課長")
    meetings.update_meeting(secretariat, march, {"date": date(2020, 4, 20)})
    db.session.commit()
    db.session.expire_all()
    assert march.fiscal_year == 2020
    assert meeting_numbers() == [("2020-03-10", 1), ("2020-04-20", 1), ("2020-05-10", 2)]
    # Its agenda went with it: the item is still on it, scheduled.
    assert [e.item_id for e in march.entries] == [item.id]
    assert db.session.get(Item, item.id).status == ItemStatus.SCHEDULED


def test_the_edit_and_cancel_pages(app):
    secretariat, departments, meeting, items = _scheduled_world()
    db.session.commit()
    client = login(app.test_client(), secretariat)
    page = client.get(f"/meetings/{meeting.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "開催日" in html
    assert 'value="令和元年８月２１日"' in html  # the date as it is, in 和暦
    response = client.post(
        f"/meetings/{meeting.id}/edit",
        data={
            "version": meeting.version,
            "date": "令和元年9月4日",
            "start_time": "10:00",
            "venue": "本庁舎5階",
            "chair": "",
            "joint_name": "",
            "number": "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert meeting.date == date(2019, 9, 4)
    assert meeting.start_time == time(10, 0)
    (notice,) = _notices(departments[0], "meeting_date_changed")
    # A bad date: the page again with the message, nothing changed.
    bad = client.post(
        f"/meetings/{meeting.id}/edit",
        data={"version": meeting.version, "date": "あした", "venue": "x"},
    )
    assert bad.status_code == 422
    db.session.expire_all()
    assert meeting.venue == "本庁舎5階"
    # 中止: the reason is required.
    page = client.get(f"/meetings/{meeting.id}/cancel")
    assert page.status_code == 200
    assert "中止の理由" in page.get_data(as_text=True)
    empty = client.post(
        f"/meetings/{meeting.id}/cancel", data={"version": meeting.version, "reason": ""}
    )
    assert empty.status_code == 422
    db.session.expire_all()
    assert meeting.status == MeetingStatus.PLANNED
    done = client.post(
        f"/meetings/{meeting.id}/cancel",
        data={"version": meeting.version, "reason": REASON},
        follow_redirects=True,
    )
    assert done.status_code == 200
    html = done.get_data(as_text=True)
    assert "中止" in html
    assert REASON in html
    db.session.expire_all()
    assert meeting.status == MeetingStatus.CANCELLED
    assert {i.status for i in items} == {ItemStatus.ACCEPTED}
    listing = client.get("/meetings/?fy=2019").get_data(as_text=True)
    assert "中止" in listing
    assert REASON in listing
    # Neither page for a meeting that is not planned.
    for page_name in ("edit", "cancel"):
        refused = client.get(f"/meetings/{meeting.id}/{page_name}", follow_redirects=True)
        assert "中止されたため、変更も中止もできません" in refused.get_data(as_text=True)


def test_the_migration_lets_a_meeting_be_cancelled_and_back(bare_app, engine_name):
    """The CHECK of meetings.status takes ``cancelled`` after the upgrade; the downgrade puts a
    cancelled meeting back to planned, and the older CHECK refuses ``cancelled`` again."""
    flask_db(bare_app, "upgrade")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO meetings (kind, joint_name, number, number_fixed, fiscal_year, date,"
            " venue, chair, status, version, created_at, updated_at, cancel_reason)"
            " VALUES ('section_managers', '', 1, false, 2019, '2019-08-21', '', '', 'cancelled',"
            " 1, '2019-08-01 00:00:00', '2019-08-01 00:00:00', '理由')"
        )
    flask_db(bare_app, "downgrade", "0d7d9b814a48")
    with db.engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT status FROM meetings").scalar() == "planned"
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE meetings SET status = 'cancelled'")
    flask_db(bare_app, "upgrade")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE meetings SET status = 'cancelled'")
        if engine_name == "sqlite":
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'meetings'"
            ).scalar()
            assert "AUTOINCREMENT" in sql
