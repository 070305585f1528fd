"""Two app servers behind one load balancer on one PostgreSQL: the app keeps no state of its own.

Two gunicorn processes on loopback serve the suite's PostgreSQL database. The same outcome raced
through both: exactly one wins, one history row. A sign-in made through one is good on the other
(sessions live in the database); a PDF rendered by one is served from the shared cache by the
other.
"""

from __future__ import annotations

import json
import threading

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD, item_meeting_id, make_item, make_user
from tests.support import Server, csrf_token, server_get, server_post_form, token_for
from workflow.audit import verify_chain
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Meeting, PdfCache
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.slow


def _race(servers: list[Server], requests: list[tuple[str, str, bytes, dict]]) -> list[int]:
    """Send one request to each server at the same moment; their statuses in server order."""
    barrier = threading.Barrier(len(servers), timeout=30)
    statuses: list[int | None] = [None] * len(servers)

    def send(n: int) -> None:
        method, path, body, headers = requests[n]
        barrier.wait()
        statuses[n] = servers[n].request(method, path, body, headers)[0]

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(servers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return statuses


def test_the_same_outcome_raced_through_two_servers_one_wins(servers: list[Server]):
    secretariat = make_user(Role.SECRETARIAT)
    tokens = [token_for(secretariat), token_for(make_user(Role.SECRETARIAT))]
    scheduled = [make_item(ItemStatus.SCHEDULED, secretariat=secretariat) for _ in range(5)]
    targets = [(item.id, item_meeting_id(item)) for item in scheduled]
    db.session.commit()

    for item_id, meeting_id in targets:
        path = f"/api/v1/meetings/{meeting_id}/entries/{item_id}/outcome"
        requests = [
            (
                "POST",
                path,
                json.dumps({"outcome": outcome}).encode(),
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            for outcome, token in zip(("approved", "remanded"), tokens, strict=True)
        ]
        statuses = _race(servers, requests)
        assert sorted(statuses) == [200, 409], statuses
        db.session.expire_all()
        item = db.session.get(Item, item_id)
        winner = ("approved", "remanded")[statuses.index(200)]
        assert (
            item.status
            == {"approved": ItemStatus.APPROVED, "remanded": ItemStatus.RETURNED}[winner]
        )
        outcomes = db.session.scalar(
            sa.select(sa.func.count()).where(
                HistoryEvent.item_id == item_id, HistoryEvent.event == "record_outcome"
            )
        )
        assert outcomes == 1
        db.session.rollback()
    assert verify_chain().ok


def test_a_sign_in_through_one_server_works_on_the_other(servers: list[Server]):
    one, other = servers
    make_user(Role.SECRETARIAT, login="roaming", display_name="巡回 花子")
    db.session.commit()
    jar: dict[str, str] = {}

    _, _, page = server_get(one, "/login", jar)
    status, headers, _ = server_post_form(
        one,
        "/login",
        {"login": "roaming", "password": PASSWORD, "csrf_token": csrf_token(page)},
        jar,
    )
    assert status == 302, headers

    status, _, page = server_get(other, "/", jar)
    assert status == 200
    assert "巡回 花子" in page.decode()

    # Signing out through the second ends the session on the first as well.
    _, _, page = server_get(other, "/", jar)
    status, _, _ = server_post_form(other, "/logout", {"csrf_token": csrf_token(page)}, jar)
    assert status == 302
    status, headers, _ = server_get(one, "/", jar)
    assert status == 302
    assert "/login" in headers["Location"]


def test_a_pdf_rendered_by_one_server_is_served_from_cache_by_the_other(servers: list[Server]):
    one, other = servers
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.APPROVED, secretariat=secretariat)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    for step in (meetings.hold, meetings.confirm, meetings.publish):
        step(secretariat, meeting)
    # The public page's PDF (GET /api/v1/…/minutes.pdf puts the Japanese file name raw into
    # Content-Disposition, which gunicorn refuses: a bug of the API, reported, not this test's).
    path = f"/public/meetings/{meeting.id}/minutes.pdf"
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PdfCache)) == 0
    db.session.rollback()

    status, headers, first = one.request("GET", path)
    assert status == 200
    assert first.startswith(b"%PDF")
    (key,) = db.session.scalars(sa.select(PdfCache.key)).all()
    assert headers["ETag"].strip('"') == key
    # Mark the cached copy: only a server that reads the cache can send the mark back.
    marked = first + b"\n% served from the shared cache\n"
    db.session.execute(sa.update(PdfCache).where(PdfCache.key == key).values(content=marked))
    db.session.commit()

    status, headers, second = other.request("GET", path)
    assert status == 200
    assert second == marked
    assert headers["ETag"].strip('"') == key
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PdfCache)) == 1
    db.session.rollback()
