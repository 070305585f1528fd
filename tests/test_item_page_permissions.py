"""The staff item page shows each reader only what they may read of each meeting, as the API does.

The item was taken up at a 関係課長会議 whose minutes are published, then again at one only held:
staff other than the secretariat see both meetings listed, but what was said and decided (出席課,
意見 → 回答, 結果, 特記事項) only at the published one; the secretariat reads both. The rule is the
API's item_json and 様式２'s (DOMAIN §1, workflow/permissions.py can_read_minutes).
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import (
    HELD_MEETING,
    PASSWORD,
    PUBLISHED_MEETING,
    item_meeting_id,
    make_item_published_then_held,
    make_user,
)
from workflow.extensions import db
from workflow.models import Item, Meeting, User
from workflow.services import meetings
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

NOT_YET = "議事録の確定前のため、意見・結果はまだ表示できません。"


@pytest.fixture
def people(app: Flask) -> dict[str, User]:
    people = {
        "secretariat": make_user(Role.SECRETARIAT, login="sec"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
        "department": make_user(Role.DEPARTMENT, login="dept"),
        "other_department": make_user(Role.DEPARTMENT, login="other"),
    }
    db.session.commit()
    return people


@pytest.fixture
def item(people) -> Item:
    return make_item_published_then_held(people["secretariat"], department=people["department"])


def _page(client: FlaskClient, user: User, item: Item) -> str:
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(f"/items/{item.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _shows(page: str, said: dict[str, str], *, listed: bool, minutes: bool) -> None:
    """Whether the page lists the meeting (its date) and shows what was said and decided there."""
    assert (said["date"] in page) is listed, said["date"]
    for key in ("section", "opinion", "response", "notes", "result"):
        # The page says an outcome by the screen's rule, without the printed 「。」.
        text = said[key].removesuffix("。") if key == "result" else said[key]
        assert (text in page) is minutes, text


@pytest.mark.parametrize("reader", ["viewer", "department", "other_department"])
def test_staff_read_only_the_confirmed_meetings_minutes(client, people, item, reader):
    page = _page(client, people[reader], item)
    _shows(page, PUBLISHED_MEETING, listed=True, minutes=True)
    _shows(page, HELD_MEETING, listed=True, minutes=False)
    assert page.count(NOT_YET) == 1  # the held meeting, in place of its minutes


def test_the_secretariat_reads_every_meetings_minutes(client, people, item):
    page = _page(client, people["secretariat"], item)
    _shows(page, PUBLISHED_MEETING, listed=True, minutes=True)
    _shows(page, HELD_MEETING, listed=True, minutes=True)
    assert NOT_YET not in page


def test_staff_read_the_minutes_once_confirmed(client, people, item):
    meetings.confirm(people["secretariat"], db.session.get(Meeting, item_meeting_id(item)))
    db.session.commit()
    page = _page(client, people["viewer"], item)
    _shows(page, HELD_MEETING, listed=True, minutes=True)
    assert NOT_YET not in page
