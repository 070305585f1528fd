"""One dispatch from an event's name to its service: pages and API fire the same way, and the
permission and the state are checked once per event."""

from __future__ import annotations

import inspect
import sys
from collections import Counter

import pytest

from tests.factories import PASSWORD, make_item, make_meeting, make_section, make_user
from workflow import permissions
from workflow.errors import Forbidden, NotAllowedNow, UnknownEvent
from workflow.extensions import db
from workflow.models import ApiToken
from workflow.schemas.events import ITEM_EVENT_BODIES
from workflow.services import events
from workflow.states import machine
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def people() -> dict:
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    people = {
        "department": make_user(Role.DEPARTMENT, section=section, login="dept"),
        "secretariat": make_user(Role.SECRETARIAT, login="sec"),
    }
    db.session.commit()
    return people


@pytest.fixture
def checks(monkeypatch) -> Counter:
    """How often the permission and the state were checked, per event, by any module."""
    counts: Counter = Counter()
    may, check = permissions.can_fire_item_event, machine.check_allowed

    def count_permission(user, item, event):
        counts["permission", event] += 1
        return may(user, item, event)

    def count_state(subject, event):
        counts["state", event] += 1
        return check(subject, event)

    # Wherever the two are imported (``from … import`` binds the name in each module).
    for module in [m for name, m in sys.modules.items() if name.startswith("workflow")]:
        for name, real, counting in (
            ("can_fire_item_event", may, count_permission),
            ("check_allowed", check, count_state),
        ):
            if getattr(module, name, None) is real:
                monkeypatch.setattr(module, name, counting)
    return counts


def _bearer(user) -> dict[str, str]:
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_takes_the_events_the_dispatch_knows():
    assert list(ITEM_EVENT_BODIES) == list(events.ITEM_EVENTS)
    for name, spec in events.ITEM_EVENTS.items():
        # The API's ``today`` (tests only) is the service's ``on``.
        fields = set(ITEM_EVENT_BODIES[name].model_fields) - {"version"}
        body = {"on" if key == "today" else key for key in fields}
        assert set(spec.params) == body, name


@pytest.mark.parametrize("table", [events.ITEM_EVENTS, events.MEETING_EVENTS])
def test_every_service_takes_the_parameters_its_entry_names(table):
    for name, spec in table.items():
        taken = inspect.signature(spec.service).parameters
        assert {*spec.params, "version"} <= set(taken), name


def test_the_api_checks_permission_and_state_once(client, people, checks):
    item = make_item(ItemStatus.SUBMITTED, department=people["department"])
    db.session.commit()
    response = client.post(
        f"/api/v1/items/{item.id}/events/accept",
        json={"version": item.version},
        headers=_bearer(people["secretariat"]),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "accepted"
    assert checks["permission", "accept"] == 1
    assert checks["state", "accept"] == 1


def test_a_page_checks_permission_and_state_once(client, people, checks):
    item = make_item(ItemStatus.SUBMITTED, department=people["department"])
    db.session.commit()
    client.post("/login", data={"login": "sec", "password": PASSWORD})
    response = client.post(
        f"/items/{item.id}/events/return", data={"version": item.version, "reason": "記載漏れ"}
    )
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.status == ItemStatus.RETURNED
    assert checks["permission", "return"] == 1
    assert checks["state", "return"] == 1


def test_the_dispatch_refuses_in_the_users_words(people):
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    with pytest.raises(Forbidden, match="この操作を行う権限がありません。"):
        events.fire_item_event(people["secretariat"], item, "submit_amendment")
    with pytest.raises(
        NotAllowedNow, match="この案件はまだ申し込まれていないため、「受付」はできません"
    ):
        events.fire_item_event(people["secretariat"], item, "accept")
    with pytest.raises(UnknownEvent):
        events.fire_item_event(people["secretariat"], item, "schedule")
    assert item.status == ItemStatus.DRAFT


def test_a_meeting_event_out_of_its_state_is_named(people):
    meeting = make_meeting(people["secretariat"])
    with pytest.raises(NotAllowedNow, match="この会議は.+ため、「公開」はできません"):
        events.fire_meeting_event(people["secretariat"], meeting, "publish")


def test_an_unknown_event_is_the_same_404_as_before(client, people):
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    db.session.commit()
    headers = _bearer(people["department"])
    body = client.post(f"/api/v1/items/{item.id}/events/hold", headers=headers).get_json()
    assert body["error"]["code"] == "unknown_event"
    assert body["error"]["details"] == {"events": list(events.ITEM_EVENTS)}
    r = client.post(f"/api/v1/items/{item.id}/events/schedule", headers=headers)
    assert r.status_code == 404
    assert "/api/v1/meetings/{id}/entries" in r.get_json()["error"]["message"]
