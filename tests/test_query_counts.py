"""The busiest pages run a fixed number of queries, however many rows they show (no N+1)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.support import counting
from workflow.demo.load import DEMO_PASSWORD
from workflow.extensions import db
from workflow.models import AgendaEntry, HistoryEvent, Item, Meeting, User
from workflow.pdf.documents import filed_form_context
from workflow.states.states import ItemStatus, Role

# Session, user, the page's own queries: well under these, and the same for 1 row or 50.
# The item list runs four (see BOUND). The item page, the API
# item and 様式２ read the item's agenda entries once (four queries: the entries, their meetings,
# opinions, attendance), however many derived fields they show. The bounds of these four are
# what they run, so one more query fails here.
BOUND = {
    # The session's user, the page of rows (the filter's choices are read once a minute, by
    # the warming request) and the header's count of unread notices.
    "list": 3,
    # ... with the department's notes and the 付議先's name of the form as printed, and its 資料:
    # the live list and every meeting's frozen list (one query each); the header's unread count;
    # the meeting kinds' names, once, for the item's own path (issue 20: done, now, to come).
    "item": 18,
    "meeting": 12,
    # ... and the department's notes under earlier opinions (様式２ of DOMAIN §9).
    "api_item": 14,
    # 様式２: the entries (with their meetings, opinions, attendance), the form's six row lists
    # (the department's notes among them), the meetings the reader may see, the kinds; for the
    # public, the entry of the latest published meeting whose form it reads.
    "request_form": 17,
    # The meeting, its entries with their items and results, their opinions; and the session.
    "minutes": 4,
}


def queries(client: FlaskClient, url: str, **kw) -> int:
    client.get(url, **kw)  # warm: first-use lookups (kinds, templates) are not the page's
    with counting() as statements:
        response = client.get(url, **kw)
    assert response.status_code == 200, url
    return len(statements)


@pytest.fixture
def data(app):
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--items", "80", "--seed", "2"])
    assert result.exit_code == 0, result.output
    return app


def _signed_in(app, login: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def _by_size(model, column, *where) -> tuple[int, int]:
    """The ids with the fewest and the most rows of *column* (agenda entries, history rows)."""
    sizes = db.session.execute(
        sa.select(model.id, sa.func.count(column))
        .join(column.table, column == model.id)
        .where(*where)
        .group_by(model.id)
        .order_by(sa.func.count(column), model.id)
    ).all()
    assert sizes[0][1] < sizes[-1][1]
    return sizes[0][0], sizes[-1][0]


@pytest.mark.parametrize("login", ["secretariat", "dept", "viewer"])
def test_item_list_page(data, login):
    client = _signed_in(data, login)
    full = queries(client, "/items/?q=")  # a page of 50
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) > 50
    one = queries(client, "/items/?status=draft&q=")
    assert full == one <= BOUND["list"]
    assert queries(client, "/items/?q=&page=2") == full


def test_item_page(data):
    client = _signed_in(data, "secretariat")
    # Items of one state, so they show the same parts: only how many rows differs.
    concluded = Item.status == ItemStatus.CONCLUDED
    few, many = _by_size(Item, AgendaEntry.item_id, concluded)
    assert queries(client, f"/items/{few}") == queries(client, f"/items/{many}") <= BOUND["item"]
    few, many = _by_size(Item, HistoryEvent.item_id, concluded)
    assert queries(client, f"/items/{few}") == queries(client, f"/items/{many}")


def test_meeting_page(data):
    client = _signed_in(data, "secretariat")
    few, many = _by_size(Meeting, AgendaEntry.meeting_id)
    assert queries(client, f"/meetings/{few}") == queries(client, f"/meetings/{many}")
    assert queries(client, f"/meetings/{many}") <= BOUND["meeting"]


def test_minutes_pages_staff_and_public(data):
    """様式６ as a page: the opinions of every entry, in the same queries for 1 entry or 10."""
    from workflow.states.states import MeetingStatus

    few, many = _by_size(Meeting, AgendaEntry.meeting_id, Meeting.status == MeetingStatus.PUBLISHED)
    staff = _signed_in(data, "secretariat")
    counts = [queries(staff, f"/meetings/{m}/minutes") for m in (few, many)]
    assert counts[0] == counts[1] <= BOUND["minutes"]
    public = data.test_client()
    counts = [queries(public, f"/public/meetings/{m}") for m in (few, many)]
    # Nobody signed in: no session, but the meeting's own public 資料.
    assert counts[0] == counts[1] <= BOUND["minutes"]


def test_api_item_and_list(data):
    from workflow.models import ApiToken

    user = db.session.scalar(sa.select(User).where(User.role == Role.SECRETARIAT))
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.commit()
    client = data.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    few, many = _by_size(Item, AgendaEntry.item_id, Item.status == ItemStatus.CONCLUDED)
    assert queries(client, f"/api/v1/items/{few}", headers=headers) == queries(
        client, f"/api/v1/items/{many}", headers=headers
    )
    assert queries(client, f"/api/v1/items/{many}", headers=headers) <= BOUND["api_item"]
    concluded = ItemStatus.CONCLUDED.value
    assert queries(client, "/api/v1/items?per_page=50", headers=headers) == queries(
        client, f"/api/v1/items?per_page=50&status={concluded}", headers=headers
    )


def test_request_form_context(data):
    """様式２'s context is built on every download (its hash is the cache key): fixed queries too."""
    few, many = _by_size(Item, AgendaEntry.item_id, Item.status == ItemStatus.CONCLUDED)
    counts = []
    for item_id in (few, many):
        db.session.expunge_all()  # nothing loaded beforehand, as in a request of its own
        item = db.session.get(Item, item_id)
        with counting() as statements:
            filed_form_context(item)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= BOUND["request_form"]
