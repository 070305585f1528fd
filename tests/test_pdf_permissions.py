"""様式２ prints each reader only the meetings they may read, on every route that serves it.

The item was taken up at a 関係課長会議 whose minutes are published, then again at one only held:
the public's form shows the first meeting's 意見, 出席課 and 結果 and nothing of the second; the
secretariat's shows both. The rule is the API's item_json (DOMAIN §1, workflow/permissions.py).
"""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from tests.factories import (
    HELD_MEETING,
    PUBLISHED_MEETING,
    make_item_published_then_held,
    make_user,
)
from tests.support import login
from workflow.extensions import db
from workflow.models import ApiToken, Item, User
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")


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
    return make_item_published_then_held(people["secretariat"])


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


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
    """Whether the form shows the meeting's date (審議日: the latest 関係課長会議 the reader sees;
    【会議名】 headings print no date), its 意見, and its 出席課・結果等."""
    assert (said["date"] in text) is date_, said["date"]
    assert (said["opinion"] in text) is said_, said["opinion"]
    assert (said["response"] in text) is said_, said["response"]
    assert (said["section"] in text) is managers, said["section"]
    assert (said["result"] in text) is managers, said["result"]


@pytest.mark.parametrize("url", ["/public/items/{id}/form.pdf", "/api/v1/items/{id}/form.pdf"])
def test_the_public_form_prints_only_the_published_meeting(client, item, url):
    text = _form(client, url.format(id=item.id))
    _shows(text, PUBLISHED_MEETING, date_=True, said_=True, managers=True)
    _shows(text, HELD_MEETING, date_=False, said_=False, managers=False)


def test_the_public_page_prints_the_public_form_to_signed_in_staff_too(client, people, item):
    login(client, people["secretariat"])
    text = _form(client, f"/public/items/{item.id}/form.pdf")
    _shows(text, HELD_MEETING, date_=False, said_=False, managers=False)


@pytest.mark.parametrize("route", ["page", "api"])
def test_each_reader_gets_their_own_form_from_the_shared_cache(client, people, item, route):
    """Public first, so a form cached for one reader would be served to the next: it is not."""
    public = _form(client, f"/public/items/{item.id}/form.pdf")

    def staff(user: User) -> str:
        if route == "api":
            return _form(client, f"/api/v1/items/{item.id}/form.pdf", headers=_api_headers(user))
        signed_in = login(client.application.test_client(), user)
        return _form(signed_in, f"/items/{item.id}/form.pdf")

    secretariat = staff(people["secretariat"])
    # The 関係課長会議 fields and 審議日 are the latest meeting's: the held one, for the secretariat.
    _shows(secretariat, PUBLISHED_MEETING, date_=False, said_=True, managers=False)
    _shows(secretariat, HELD_MEETING, date_=True, said_=True, managers=True)

    # Staff see every meeting, but read what was said only once its minutes are confirmed: as in
    # the API, the 関係課長会議 fields are the latest meeting's, blank while it is unconfirmed.
    viewer = staff(people["viewer"])
    _shows(viewer, PUBLISHED_MEETING, date_=False, said_=True, managers=False)
    _shows(viewer, HELD_MEETING, date_=True, said_=False, managers=False)

    assert len({public, secretariat, viewer}) == 3
