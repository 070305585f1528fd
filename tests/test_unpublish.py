"""公開取消 (unpublish, DOMAIN §10): a published meeting goes back to 確定, by the secretariat,
with a reason kept in its history row; the public's pages of the meeting and of the items public
only through it then answer 404, and search and open data leave them out. The items' states stay.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.disclosure_scene import (
    CLOSED_OPINION,
    HELD_BACK,
    HELD_BACK_RESPONSE,
    OPEN_OPINION,
    OPEN_TITLE,
    build_scene,
)
from tests.factories import item_meeting_id, make_item, make_meeting, make_user
from tests.support import API, auth, login
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Meeting
from workflow.services import meetings
from workflow.states.machine import MEETING_MACHINE
from workflow.states.states import ItemStatus, MeetingStatus, Role

REASON = "非公開とすべき情報が含まれていたため"


def _history(meeting: Meeting, event: str) -> list[HistoryEvent]:
    return list(
        db.session.scalars(
            select(HistoryEvent).where(
                HistoryEvent.meeting_id == meeting.id, HistoryEvent.event == event
            )
        )
    )


def _public_answers(client, scene) -> dict[str, int]:
    return {
        "meeting": client.get(f"/public/meetings/{scene.meeting.id}").status_code,
        "minutes": client.get(f"/public/meetings/{scene.meeting.id}/minutes.pdf").status_code,
        "item": client.get(f"/public/items/{scene.open_item.id}").status_code,
        "form": client.get(f"/public/items/{scene.open_item.id}/form.pdf").status_code,
        "api_meeting": client.get(f"{API}/meetings/{scene.meeting.id}").status_code,
        "api_item": client.get(f"{API}/items/{scene.open_item.id}").status_code,
    }


def test_the_machine_takes_a_published_meeting_back_to_confirmed():
    transitions = MEETING_MACHINE.get_transitions("unpublish")
    assert [(t.source, t.dest) for t in transitions] == [("PUBLISHED", "CONFIRMED")]
    assert MEETING_MACHINE.get_triggers(MeetingStatus.PUBLISHED) == ["unpublish"]


def test_unpublish_needs_a_reason_and_the_secretariat(app):
    scene = build_scene()
    staff, viewer = auth(scene.secretariat), auth(scene.viewer)
    db.session.commit()
    client = app.test_client()
    url = f"{API}/meetings/{scene.meeting.id}/events/unpublish"
    for body in ({}, {"reason": ""}, {"reason": "　 "}):
        response = client.post(url, json=body, headers=staff)
        assert response.status_code == 422, body
        error = response.get_json()["error"]
        assert error["message"] == "公開取消の理由を入力してください。"
        assert "reason" in error["details"]["fields"]
    assert client.post(url, json={"reason": 3}, headers=staff).status_code == 422
    assert client.post(url, json={"reason": REASON}, headers=viewer).status_code == 403
    assert client.post(url, json={"reason": REASON}).status_code == 401
    db.session.expire_all()
    assert db.session.get(Meeting, scene.meeting.id).status == MeetingStatus.PUBLISHED
    assert _history(scene.meeting, "unpublish") == []
    # A meeting not published: the state answers first.
    other = make_meeting(scene.secretariat, on=date(2019, 12, 1))
    db.session.commit()
    response = client.post(
        f"{API}/meetings/{other.id}/events/unpublish", json={"reason": REASON}, headers=staff
    )
    assert response.status_code == 409
    assert "公開取消" in response.get_json()["error"]["message"]


def test_unpublish_takes_the_meeting_off_the_public_side(app):
    scene = build_scene()
    staff = auth(scene.secretariat)
    states = {i.id: i.status for i in db.session.scalars(select(Item))}
    db.session.commit()
    client = app.test_client()
    assert set(_public_answers(client, scene).values()) == {200}
    assert client.get(f"{API}/search", query_string={"q": OPEN_OPINION}).get_json()["results"]

    response = client.post(
        f"{API}/meetings/{scene.meeting.id}/events/unpublish",
        json={"reason": REASON},
        headers=staff,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["status_label"]) == ("confirmed", "議事録確定")
    assert "publish" in body["allowed_events"]
    [row] = _history(scene.meeting, "unpublish")
    assert (row.from_state, row.to_state, row.reason) == ("published", "confirmed", REASON)
    assert row.actor_id == scene.secretariat.id

    assert set(_public_answers(client, scene).values()) == {404}
    for word in (OPEN_OPINION, OPEN_TITLE):
        found = client.get(f"{API}/search", query_string={"q": word}).get_json()["results"]
        assert found == [], word
    assert client.get(f"{API}/minutes.json").get_json()["rows"] == []
    assert OPEN_OPINION not in client.get(f"{API}/minutes.csv").get_data(as_text=True)
    index = client.get("/public/").get_data(as_text=True)
    assert scene.meeting.title not in index
    # Staff still read it all; the items did not move.
    staff_body = client.get(f"{API}/meetings/{scene.meeting.id}", headers=staff).get_json()
    assert len(staff_body["entries"]) == 2
    db.session.expire_all()
    assert {i.id: i.status for i in db.session.scalars(select(Item))} == states

    # The disclosure may be set again, then the meeting published again.
    response = client.put(
        f"{API}/meetings/{scene.meeting.id}/entries/{scene.closed_item.id}",
        json={"disclosure": "public"},
        headers=staff,
    )
    assert response.status_code == 200
    # The opinion held back, shown now: its flag alone changes (its text as recorded).
    response = client.put(
        f"{API}/meetings/{scene.meeting.id}/entries/{scene.open_item.id}",
        json={
            "opinions": [
                {"opinion": OPEN_OPINION, "response": "公開回答ホタル"},
                {"opinion": HELD_BACK, "response": HELD_BACK_RESPONSE, "public": True},
            ]
        },
        headers=staff,
    )
    assert response.status_code == 200
    assert (
        client.post(
            f"{API}/meetings/{scene.meeting.id}/events/publish", json={}, headers=staff
        ).status_code
        == 200
    )
    assert set(_public_answers(client, scene).values()) == {200}
    found = client.get(f"{API}/search", query_string={"q": CLOSED_OPINION}).get_json()
    assert [hit["item_id"] for hit in found["results"]] == [scene.closed_item.id]
    found = client.get(f"{API}/search", query_string={"q": HELD_BACK}).get_json()
    assert [hit["item_id"] for hit in found["results"]] == [scene.open_item.id]
    rows = client.get(f"{API}/minutes.json").get_json()["rows"]
    assert HELD_BACK in [row["opinion"] for row in rows]


def test_an_item_public_through_another_meeting_stays_public(app):
    """Only the items public *only* through the unpublished meeting go: an item continued at
    one published meeting and approved at another keeps its public page until both are."""
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.SCHEDULED, secretariat=secretariat, title=OPEN_TITLE)
    first = db.session.get(Meeting, item_meeting_id(item))
    meetings.record_outcome(secretariat, first, item, "continued")
    second = make_meeting(secretariat, kind=first.kind, on=date(2019, 11, 6))
    meetings.schedule(secretariat, second, item, "課長")
    meetings.record_outcome(secretariat, second, item, "approved")
    for meeting in (first, second):
        for step in (meetings.hold, meetings.confirm, meetings.publish):
            step(secretariat, meeting)
    db.session.commit()
    client = app.test_client()
    meetings.unpublish(secretariat, first, reason=REASON)
    db.session.commit()
    assert client.get(f"/public/meetings/{first.id}").status_code == 404
    assert client.get(f"/public/items/{item.id}").status_code == 200
    meetings.unpublish(secretariat, second, reason=REASON)
    db.session.commit()
    assert client.get(f"/public/items/{item.id}").status_code == 404
    assert item.status == ItemStatus.APPROVED


def test_the_meeting_page_offers_unpublish_with_its_reason(app):
    scene = build_scene()
    client = login(app.test_client(), scene.secretariat)
    page = client.get(f"/meetings/{scene.meeting.id}").get_data(as_text=True)
    assert "公開取消" in page
    assert 'name="reason"' in page
    url = f"/meetings/{scene.meeting.id}/events/unpublish"
    refused = client.post(url, data={"reason": ""}, follow_redirects=True)
    assert "公開取消の理由を入力してください。" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Meeting, scene.meeting.id).status == MeetingStatus.PUBLISHED
    response = client.post(url, data={"reason": REASON})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, scene.meeting.id).status == MeetingStatus.CONFIRMED
    assert [row.reason for row in _history(scene.meeting, "unpublish")] == [REASON]
    # A viewer sees no such button.
    viewer = login(app.test_client(), scene.viewer)
    assert "公開取消" not in viewer.get(f"/meetings/{scene.meeting.id}").get_data(as_text=True)
