"""The secretariat's intake: the submitted requests, oldest first, 50 a page, in a fixed few queries."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.factories import PASSWORD, make_item, make_user
from tests.support import assert_pager, counting
from workflow.extensions import db
from workflow.models import Item
from workflow.states.states import ItemStatus, Role


def _cards(response) -> list[int]:
    """The item ids of the page's cards, in order (each card's title links to its item)."""
    page = response.get_data(as_text=True)
    return [int(n) for n in re.findall(r'<h2 class="h3"><a href="/items/(\d+)">', page)]


def _page_url(n: int) -> str:
    return f"/items/intake?page={n}"


def test_pages_of_fifty_oldest_first_in_fixed_queries(app):
    department = make_user(Role.DEPARTMENT)
    secretariat = make_user(Role.SECRETARIAT, login="sec")
    for n in range(52):
        route = ["section_managers", "policy_coordination"] if n % 2 else ["section_managers"]
        target = {"target_kind": "policy_coordination"} if n % 2 else {}
        make_item(
            ItemStatus.SUBMITTED,
            department=department,
            secretariat=secretariat,
            route=route,
            **target,
        )
    make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
    db.session.commit()
    waiting = db.session.scalars(
        sa.select(Item.id)
        .where(Item.status == ItemStatus.SUBMITTED)
        .order_by(Item.updated_at, Item.id)
    ).all()
    assert len(waiting) == 52
    client = app.test_client()
    assert client.post("/login", data={"login": "sec", "password": PASSWORD}).status_code == 302
    client.get("/items/intake")  # first-use lookups are not the page's

    with counting() as full:
        first = client.get("/items/intake")
    assert _cards(first) == waiting[:50]
    page = first.get_data(as_text=True)
    # Each card's route by the meetings' names, as the department chose it (never their codes).
    assert "<dt>付議先</dt><dd>政策調整会議</dd></div>" in page
    assert "<dt>審議の経路</dt><dd>関係課長会議 → 政策調整会議</dd>" in page
    assert "<dt>付議先</dt><dd>関係課長会議</dd></div>" in page
    assert "<dt>審議の経路</dt><dd>関係課長会議</dd>" in page
    assert "section_managers" not in page
    assert_pager(page, 1, _page_url, has_next=True)

    with counting() as short:
        second = client.get("/items/intake?page=2")
    assert _cards(second) == waiting[50:]
    assert_pager(second.get_data(as_text=True), 2, _page_url, has_next=False)
    # Fifty cards with their sections, meeting kinds and routes cost what two cost: no N+1
    # (the header's unread count is one of them).
    assert len(full) == len(short) <= 5

    beyond = client.get("/items/intake?page=9")
    assert beyond.status_code == 200
    assert _cards(beyond) == []
    assert "このページに申込はありません" in beyond.get_data(as_text=True)
    assert _cards(client.get("/items/intake?page=x")) == waiting[:50]
