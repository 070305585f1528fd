"""様式２ prints each reader only the meetings they may read, on every route that serves it.

The item was taken up at a 関係課長会議 whose minutes are published, then again at one only held:
the public's form shows the first meeting's 意見, 出席課 and 結果 and nothing of the second; the
secretariat's shows both. The rule is the API's item_json (DOMAIN §1, workflow/permissions.py).
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from tests.factories import PASSWORD, item_meeting_id, make_item, make_meeting, make_user
from workflow.extensions import db
from workflow.models import ApiToken, Item, Meeting, User
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

# What each meeting recorded, distinctive enough to find in the PDF's text.
PUBLISHED = {
    "date": "令和元年８月２１日",
    "section": "公表済出席課",
    "opinion": "公表済みの会議で出た意見である。",
    "response": "公表済みの会議での回答である。",
    "result": "継続審議とする。",
}
HELD = {
    "date": "令和元年９月１８日",
    "section": "未公表出席課",
    "opinion": "未公表の会議で出た意見である。",
    "response": "未公表の会議での回答である。",
    "result": "原案を上部庁議へ付議する",
}


@pytest.fixture
def people(app: Flask) -> dict[str, User]:
    people = {
        "secretariat": make_user(Role.SECRETARIAT, login="sec"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
    }
    db.session.commit()
    return people


@pytest.fixture
def item(people) -> Item:
    """継続審議 at a published 関係課長会議, then 付議 at a later one held but not yet published."""
    sec = people["secretariat"]
    item = make_item(ItemStatus.SCHEDULED, secretariat=sec)
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
        }
        meetings.record_deliberation(sec, meeting, item, record)
        meetings.record_outcome(sec, meeting, item, outcome, forward_to)
        meetings.hold(sec, meeting)
    meetings.confirm(sec, first)
    meetings.publish(sec, first)
    db.session.commit()
    return item


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _signed_in(client: FlaskClient, user: User) -> FlaskClient:
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _api_headers(user: User) -> dict[str, str]:
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _form(client: FlaskClient, url: str, **kw) -> str:
    response = client.get(url, **kw)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    return _text(response.data)


def _shows(text: str, said: dict[str, str], *, date_: bool, said_: bool, managers: bool) -> None:
    """Whether the form shows the meeting's date (審議日 or a 【会議名】 heading), its 意見, and
    its 出席課・結果等."""
    assert (said["date"] in text) is date_, said["date"]
    assert (said["opinion"] in text) is said_, said["opinion"]
    assert (said["response"] in text) is said_, said["response"]
    assert (said["section"] in text) is managers, said["section"]
    assert (said["result"] in text) is managers, said["result"]


@pytest.mark.parametrize("url", ["/public/items/{id}/form.pdf", "/api/v1/items/{id}/form.pdf"])
def test_the_public_form_prints_only_the_published_meeting(client, item, url):
    text = _form(client, url.format(id=item.id))
    _shows(text, PUBLISHED, date_=True, said_=True, managers=True)
    _shows(text, HELD, date_=False, said_=False, managers=False)


def test_the_public_page_prints_the_public_form_to_signed_in_staff_too(client, people, item):
    _signed_in(client, people["secretariat"])
    text = _form(client, f"/public/items/{item.id}/form.pdf")
    _shows(text, HELD, date_=False, said_=False, managers=False)


@pytest.mark.parametrize("route", ["page", "api"])
def test_each_reader_gets_their_own_form_from_the_shared_cache(client, people, item, route):
    """Public first, so a form cached for one reader would be served to the next: it is not."""
    public = _form(client, f"/public/items/{item.id}/form.pdf")

    def staff(user: User) -> str:
        if route == "api":
            return _form(client, f"/api/v1/items/{item.id}/form.pdf", headers=_api_headers(user))
        signed_in = _signed_in(client.application.test_client(), user)
        return _form(signed_in, f"/items/{item.id}/form.pdf")

    secretariat = staff(people["secretariat"])
    # The 関係課長会議 fields are the latest meeting's: the held one, for the secretariat.
    _shows(secretariat, PUBLISHED, date_=True, said_=True, managers=False)
    _shows(secretariat, HELD, date_=True, said_=True, managers=True)

    # Staff see every meeting, but read what was said only once its minutes are confirmed: as in
    # the API, the 関係課長会議 fields are the latest meeting's, blank while it is unconfirmed.
    viewer = staff(people["viewer"])
    _shows(viewer, PUBLISHED, date_=True, said_=True, managers=False)
    _shows(viewer, HELD, date_=True, said_=False, managers=False)

    assert len({public, secretariat, viewer}) == 3
