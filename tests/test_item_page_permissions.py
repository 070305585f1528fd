"""The staff item page shows each reader only what they may read of each meeting, as the API does.

The item was taken up at a 関係課長会議 whose minutes are published, then again at one only held:
staff other than the secretariat see both meetings listed, but what was said and decided (出席課,
意見 → 回答, 結果, 特記事項) only at the published one; the secretariat reads both. The rule is the
API's item_json and 様式２'s (DOMAIN §1, workflow/permissions.py can_read_minutes).
"""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD, item_meeting_id, make_item, make_meeting, make_user
from workflow.extensions import db
from workflow.models import Item, Meeting, User
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

NOT_YET = "議事録の確定前のため、意見・結果はまだ表示できません。"

# What each meeting recorded, distinctive enough to find in the page.
PUBLISHED = {
    "date": "令和元年８月２１日",
    "section": "公表済出席課",
    "opinion": "公表済みの会議で出た意見である。",
    "response": "公表済みの会議での回答である。",
    "notes": "公表済みの会議の特記事項である。",
    "result": "継続審議とする。",
}
HELD = {
    "date": "令和元年９月１８日",
    "section": "未公表出席課",
    "opinion": "未公表の会議で出た意見である。",
    "response": "未公表の会議での回答である。",
    "notes": "未公表の会議の特記事項である。",
    "result": "原案を上部庁議へ付議する",
}


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
    """継続審議 at a published 関係課長会議, then 付議 at a later one held but not yet confirmed."""
    sec = people["secretariat"]
    item = make_item(ItemStatus.SCHEDULED, department=people["department"], secretariat=sec)
    first = db.session.get(Meeting, item_meeting_id(item))
    second = make_meeting(sec, on=date(2019, 9, 18))
    for meeting, said, outcome, forward_to in (
        (first, PUBLISHED, "continued", None),
        (second, HELD, "forwarded", "affairs_coordination"),
    ):
        if meeting is second:  # 継続審議: on the agenda again
            meetings.schedule(sec, meeting, item, "担当課長")
        record = {
            "attendance": [{"section": said["section"], "deputy": False}],
            "opinions": [{"opinion": said["opinion"], "response": said["response"]}],
            "special_notes": said["notes"],
        }
        meetings.record_deliberation(sec, meeting, item, record)
        meetings.record_outcome(sec, meeting, item, outcome, forward_to)
        meetings.hold(sec, meeting)
    meetings.confirm(sec, first)
    meetings.publish(sec, first)
    db.session.commit()
    return item


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
        assert (said[key] in page) is minutes, said[key]


@pytest.mark.parametrize("reader", ["viewer", "department", "other_department"])
def test_staff_read_only_the_confirmed_meetings_minutes(client, people, item, reader):
    page = _page(client, people[reader], item)
    _shows(page, PUBLISHED, listed=True, minutes=True)
    _shows(page, HELD, listed=True, minutes=False)
    assert page.count(NOT_YET) == 1  # the held meeting, in place of its minutes


def test_the_secretariat_reads_every_meetings_minutes(client, people, item):
    page = _page(client, people["secretariat"], item)
    _shows(page, PUBLISHED, listed=True, minutes=True)
    _shows(page, HELD, listed=True, minutes=True)
    assert NOT_YET not in page


def test_staff_read_the_minutes_once_confirmed(client, people, item):
    meetings.confirm(people["secretariat"], db.session.get(Meeting, item_meeting_id(item)))
    db.session.commit()
    page = _page(client, people["viewer"], item)
    _shows(page, HELD, listed=True, minutes=True)
    assert NOT_YET not in page
