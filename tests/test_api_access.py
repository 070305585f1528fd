"""Who may do what through the API: anonymous / viewer / department own / other / secretariat."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import item_meeting_id, make_item, make_section, make_user
from tests.support import API, auth
from workflow.extensions import db
from workflow.models import Item, Meeting
from workflow.permissions import can_read_item, readable_items
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

WHO = ("anonymous", "viewer", "own", "other", "secretariat")


@pytest.fixture
def world():
    """An own section with its department user, another section's user, a viewer, the secretariat."""
    own_section = make_section("情報政策課")
    users = {
        "own": make_user(Role.DEPARTMENT, own_section),
        "other": make_user(Role.DEPARTMENT, make_section("財政課")),
        "viewer": make_user(Role.VIEWER),
        "secretariat": make_user(Role.SECRETARIAT),
    }
    db.session.commit()
    return users


def _headers(world, who: str) -> dict[str, str]:
    return {} if who == "anonymous" else auth(world[who])


def _item(world, status: ItemStatus) -> Item:
    item = make_item(status, department=world["own"], secretariat=world["secretariat"])
    db.session.commit()
    return item


def _expect(expected: dict[str, int], who: str, response) -> None:
    assert response.status_code == expected[who], (who, response.get_json())
    if response.status_code >= 400:
        assert "error" in response.get_json()


@pytest.mark.parametrize("who", WHO)
def test_read_a_draft(client, world, who):
    item = _item(world, ItemStatus.DRAFT)
    r = client.get(f"{API}/items/{item.id}", headers=_headers(world, who))
    _expect({"anonymous": 404, "viewer": 403, "own": 200, "other": 403, "secretariat": 200}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_read_a_submitted_item(client, world, who):
    item = _item(world, ItemStatus.SUBMITTED)
    r = client.get(f"{API}/items/{item.id}", headers=_headers(world, who))
    _expect({"anonymous": 404, "viewer": 200, "own": 200, "other": 200, "secretariat": 200}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_an_item_on_published_minutes_is_public(client, world, who):
    item = _item(world, ItemStatus.APPROVED)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    for step in (meetings.hold, meetings.confirm, meetings.publish):
        step(world["secretariat"], meeting)
    db.session.commit()
    r = client.get(f"{API}/items/{item.id}", headers=_headers(world, who))
    _expect(dict.fromkeys(WHO, 200), who, r)
    assert r.get_json()["deliberations"][0]["opinions"] == []  # none recorded, but readable
    assert r.get_json()["deliberations"][0]["minutes_readable"] is True


@pytest.mark.parametrize("who", WHO)
def test_file_an_item_for_the_own_section(client, world, who):
    r = client.post(
        f"{API}/items",
        json={"title": "新規", "section": "情報政策課"},
        headers=_headers(world, who),
    )
    _expect({"anonymous": 401, "viewer": 403, "own": 201, "other": 403, "secretariat": 201}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_edit_a_draft(client, world, who):
    item = _item(world, ItemStatus.DRAFT)
    r = client.patch(
        f"{API}/items/{item.id}",
        json={"remarks": "追記", "version": item.version},
        headers=_headers(world, who),
    )
    _expect({"anonymous": 401, "viewer": 403, "own": 200, "other": 403, "secretariat": 200}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_submit(client, world, who):
    item = _item(world, ItemStatus.DRAFT)
    r = client.post(f"{API}/items/{item.id}/events/submit", headers=_headers(world, who))
    _expect({"anonymous": 401, "viewer": 403, "own": 200, "other": 403, "secretariat": 403}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_accept(client, world, who):
    item = _item(world, ItemStatus.SUBMITTED)
    r = client.post(f"{API}/items/{item.id}/events/accept", headers=_headers(world, who))
    _expect({"anonymous": 401, "viewer": 403, "own": 403, "other": 403, "secretariat": 200}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_withdraw(client, world, who):
    item = _item(world, ItemStatus.SUBMITTED)
    r = client.post(
        f"{API}/items/{item.id}/events/withdraw",
        json={"reason": "見送り"},
        headers=_headers(world, who),
    )
    _expect({"anonymous": 401, "viewer": 403, "own": 200, "other": 403, "secretariat": 200}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_create_a_meeting(client, world, who):
    r = client.post(
        f"{API}/meetings",
        json={"kind": "section_managers", "date": "2020-04-10"},
        headers=_headers(world, who),
    )
    _expect({"anonymous": 401, "viewer": 403, "own": 403, "other": 403, "secretariat": 201}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_record_an_outcome(client, world, who):
    item = _item(world, ItemStatus.SCHEDULED)
    meeting_id = item_meeting_id(item)
    r = client.post(
        f"{API}/meetings/{meeting_id}/entries/{item.id}/outcome",
        json={"outcome": "approved"},
        headers=_headers(world, who),
    )
    _expect({"anonymous": 401, "viewer": 403, "own": 403, "other": 403, "secretariat": 200}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_read_a_planned_meeting(client, world, who):
    item = _item(world, ItemStatus.SCHEDULED)
    r = client.get(f"{API}/meetings/{item_meeting_id(item)}", headers=_headers(world, who))
    _expect(dict(dict.fromkeys(WHO, 200), anonymous=404), who, r)


@pytest.mark.parametrize("who", WHO)
def test_minutes_of_a_held_meeting_are_the_secretariats_until_confirmed(client, world, who):
    item = _item(world, ItemStatus.APPROVED)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    meetings.record_deliberation(
        world["secretariat"], meeting, item, {"opinions": [{"opinion": "内部の意見"}]}
    )
    meetings.hold(world["secretariat"], meeting)
    db.session.commit()
    r = client.get(f"{API}/meetings/{meeting.id}/minutes.pdf", headers=_headers(world, who))
    _expect({"anonymous": 404, "viewer": 403, "own": 403, "other": 403, "secretariat": 200}, who, r)
    if who != "anonymous":
        entry = client.get(f"{API}/meetings/{meeting.id}", headers=_headers(world, who)).get_json()
        said = [{k: v for k, v in o.items() if k != "id"} for o in entry["entries"][0]["opinions"]]
        assert said == (
            []
            if who != "secretariat"
            else [{"opinion": "内部の意見", "response": None, "follow_up": None, "public": True}]
        )


@pytest.mark.parametrize("who", WHO)
def test_public_comment_opinions(client, world, who):
    item = _item(world, ItemStatus.PUBLIC_COMMENT)
    headers = _headers(world, who)
    r = client.get(f"{API}/items/{item.id}/public-comment/opinions", headers=headers)
    _expect(dict(dict.fromkeys(WHO, 200), anonymous=404), who, r)
    r = client.post(
        f"{API}/items/{item.id}/public-comment/opinions", json={"summary": "意見"}, headers=headers
    )
    _expect({"anonymous": 401, "viewer": 403, "own": 403, "other": 403, "secretariat": 201}, who, r)


@pytest.mark.parametrize("who", WHO)
def test_the_list_shows_what_each_may_read(client, world, who):
    draft = _item(world, ItemStatus.DRAFT)
    submitted = _item(world, ItemStatus.SUBMITTED)
    body = client.get(f"{API}/items", headers=_headers(world, who)).get_json()
    ids = {i["id"] for i in body["items"]}
    expected = {
        "anonymous": set(),
        "viewer": {submitted.id},
        "own": {draft.id, submitted.id},
        "other": {submitted.id},
        "secretariat": {draft.id, submitted.id},
    }[who]
    assert ids == expected
    assert body["total"] == len(expected)


def test_the_list_query_agrees_with_can_read_item(world):
    """readable_items is can_read_item in SQL: the same answer for every role × status."""
    items = [_item(world, status) for status in ItemStatus]
    published = _item(world, ItemStatus.APPROVED)
    meeting = db.session.get(Meeting, item_meeting_id(published))
    for step in (meetings.hold, meetings.confirm, meetings.publish):
        step(world["secretariat"], meeting)
    db.session.commit()
    items.append(published)
    for who in WHO:
        user = world.get(who)
        in_sql = set(db.session.scalars(select(Item.id).where(readable_items(user))))
        in_python = {i.id for i in items if can_read_item(user, i)}
        assert in_sql == in_python, who
