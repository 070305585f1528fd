"""DOMAIN §1 as plain functions: role × own/other section, for every item event and read rule."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from tests.factories import make_item, make_section, make_user
from workflow import permissions as perm
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.states.machine import ITEM_MACHINE
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

WHO = ("anonymous", "viewer", "own_department", "other_department", "secretariat", "admin")


@pytest.fixture
def world():
    own = make_section("情報政策課")
    people = {
        "anonymous": AnonymousUserMixin(),
        "viewer": make_user(Role.VIEWER),
        "own_department": make_user(Role.DEPARTMENT, own),
        "other_department": make_user(Role.DEPARTMENT, make_section("企画政策課")),
        "secretariat": make_user(Role.SECRETARIAT),
        "admin": make_user(Role.ADMIN),
    }
    return own, people


EVENT_RULES = {
    "submit": {"own_department"},
    "submit_amendment": {"own_department"},
    "withdraw": {"own_department", "secretariat"},
}
SECRETARIAT_ONLY = set(ITEM_MACHINE.events) - set(EVENT_RULES)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("event", sorted(ITEM_MACHINE.events))
def test_who_may_fire_each_item_event(world, who, event):
    _, people = world
    item = make_item(department=people["own_department"], secretariat=people["secretariat"])
    expected = EVENT_RULES.get(event, {"secretariat"} if event in SECRETARIAT_ONLY else set())
    assert perm.can_fire_item_event(people[who], item, event) == (who in expected)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(
    ("status", "editors"),
    [
        (ItemStatus.DRAFT, {"own_department", "secretariat"}),
        (ItemStatus.RETURNED, {"own_department", "secretariat"}),
        (ItemStatus.AMENDING, {"own_department", "secretariat"}),
        (ItemStatus.SUBMITTED, set()),
        (ItemStatus.APPROVED, set()),
    ],
)
def test_who_may_edit_an_item(world, who, status, editors):
    _, people = world
    item = make_item(status, department=people["own_department"], secretariat=people["secretariat"])
    assert perm.can_edit_item(people[who], item) == (who in editors)


@pytest.mark.parametrize("who", WHO)
def test_who_may_file_for_a_section(world, who):
    own, people = world
    assert perm.can_file_item(people[who], own) == (who in {"own_department", "secretariat"})


@pytest.mark.parametrize(
    ("who", "draft", "submitted"),
    [
        ("anonymous", False, False),
        ("viewer", False, True),
        ("own_department", True, True),
        ("other_department", False, True),
        ("secretariat", True, True),
        ("admin", True, True),
    ],
)
def test_who_may_read_an_item(world, who, draft, submitted):
    _, people = world
    kw = {"department": people["own_department"], "secretariat": people["secretariat"]}
    assert perm.can_read_item(people[who], make_item(ItemStatus.DRAFT, **kw)) == draft
    assert perm.can_read_item(people[who], make_item(ItemStatus.SUBMITTED, **kw)) == submitted


def test_the_public_reads_items_and_minutes_once_published(world):
    _, people = world
    path = play_sample(people["own_department"], people["secretariat"], until="section_managers")
    db.session.commit()
    anonymous = people["anonymous"]
    meeting = path.meetings["section_managers"]
    assert perm.can_read_item(anonymous, path.item)  # on a published meeting
    assert perm.can_read_minutes(anonymous, meeting)
    unpublished = make_item(ItemStatus.SUBMITTED, department=people["own_department"])
    assert not perm.can_read_item(anonymous, unpublished)


@pytest.mark.parametrize("who", WHO)
def test_only_the_secretariat_runs_meetings_and_public_comment(world, who):
    _, people = world
    assert perm.can_manage_meetings(people[who]) == (who == "secretariat")
    assert perm.can_manage_public_comment(people[who]) == (who == "secretariat")
    assert perm.can_manage_users(people[who]) == (who == "admin")
