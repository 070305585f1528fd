"""The item list pages through every item, 50 at a time, newest first."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import url_for

from tests.support import assert_pager
from workflow.demo.load import DEMO_PASSWORD
from workflow.extensions import db
from workflow.models import Item


def _rows(response) -> list[int]:
    return [int(n) for n in re.findall(r'href="/items/(\d+)"', response.get_data(as_text=True))]


def test_pages_of_fifty_with_links(app):
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--items", "80", "--seed", "4"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    client.post("/login", data={"login": "secretariat", "password": DEMO_PASSWORD})
    newest = db.session.scalars(
        sa.select(Item.id).order_by(Item.updated_at.desc(), Item.id.desc())
    ).all()

    first = client.get("/items/?q=")
    assert _rows(first) == newest[:50]
    # Each row links its item's page, by the route's own URL (the page writes them without
    # url_for: this holds the two the same).
    with app.test_request_context():
        shows = [url_for("items.show", item_id=n) for n in newest[:50]]
    assert (
        re.findall(r'<td class="card-title"><a href="([^"]+)"', first.get_data(as_text=True))
        == shows
    )

    def page_url(n: int) -> str:  # the filter as read: empty parameters are left out
        return f"/items/?page={n}"

    assert_pager(first.get_data(as_text=True), 1, page_url, has_next=True)

    second = client.get("/items/?q=&page=2")
    assert _rows(second) == newest[50:]
    assert_pager(second.get_data(as_text=True), 2, page_url, has_next=False)
    # Past the end, or unreadable: a page that says so, or the first; never an error.
    beyond = client.get("/items/?q=&page=99")
    assert beyond.status_code == 200
    assert _rows(beyond) == []
    assert "このページに案件はありません" in beyond.get_data(as_text=True)
    assert _rows(client.get("/items/?q=&page=0")) == newest[:50]
    assert client.get(f"/items/?q=&page={10**30}").status_code == 200
    assert _rows(client.get("/items/?q=&page=x")) == newest[:50]
