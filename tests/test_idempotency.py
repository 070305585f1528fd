"""Idempotency-Key on the API's writes: a retry returns the first answer and changes nothing more.

The contract (workflow/api/idempotency.py): same key and body → the stored answer, replayed; same
key, other request → 422; same key while the first runs → 409; per user; only 2xx answers kept,
in the same transaction as the change; 24 hours.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_section, make_user
from tests.support import API, auth
from workflow.api.idempotency import lock_id
from workflow.extensions import db
from workflow.models import HistoryEvent, IdempotencyKey, Item
from workflow.models._types import utcnow
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

BODY = {
    "title": "地域公共交通計画の策定",
    "section": "交通政策課",
    # what a request needs to be submitted (services.items.missing_fields)
    "applied_on": "2019-10-08",
    "target_kind": "policy_coordination",
    "route": ["section_managers", "policy_coordination"],
    "bureau": "都市局",
    "summary": "計画を策定するもの。",
    "discussion_points": ["計画の方向性について"],
}


@pytest.fixture
def people():
    section = make_section("交通政策課", bureau="都市局", division="交通部")
    department = make_user(Role.DEPARTMENT, section)
    colleague = make_user(Role.DEPARTMENT, section)
    secretariat = make_user(Role.SECRETARIAT)
    headers = {"dep": auth(department), "colleague": auth(colleague), "sec": auth(secretariat)}
    db.session.commit()  # the tokens too: a request in a thread of its own reads them
    return {"department": department, **headers}


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def items_titled(title: str) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).where(Item.title == title))


def stored_keys() -> list[tuple[str, int]]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(IdempotencyKey.key, IdempotencyKey.status)))


def test_a_retried_create_returns_the_first_answer_and_files_once(client, people):
    first = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "create-1"))
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "create-1"))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.mimetype == "application/json"
    assert again.get_json() == first.get_json()
    assert items_titled(BODY["title"]) == 1
    assert stored_keys() == [("create-1", 201)]


def test_the_same_json_written_differently_is_the_same_request(client, people):
    first = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "k"))
    reordered = json.dumps(dict(reversed(BODY.items())), ensure_ascii=False, indent=2)
    again = client.post(
        f"{API}/items",
        data=reordered.encode(),
        content_type="application/json",
        headers=keyed(people["dep"], "k"),
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]


def test_the_same_key_for_another_body_or_path_is_refused(client, people):
    first = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "k"))
    item_id = first.get_json()["id"]
    other = client.post(
        f"{API}/items", json={**BODY, "title": "別の案件"}, headers=keyed(people["dep"], "k")
    )
    assert other.status_code == 422
    error = other.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "別の内容" in error["message"]
    assert items_titled("別の案件") == 0
    event = client.post(
        f"{API}/items/{item_id}/events/submit", json={}, headers=keyed(people["dep"], "k")
    )
    assert event.status_code == 422
    assert event.get_json()["error"]["code"] == "idempotency_key_reused"
    db.session.expire_all()
    assert db.session.get(Item, item_id).status.value == "draft"


def test_keys_belong_to_their_user(client, people):
    mine = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "same"))
    theirs = client.post(f"{API}/items", json=BODY, headers=keyed(people["colleague"], "same"))
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] != mine.get_json()["id"]
    assert items_titled(BODY["title"]) == 2


def test_a_retried_event_fires_once(client, people):
    item_id = client.post(f"{API}/items", json=BODY, headers=people["dep"]).get_json()["id"]
    url = f"{API}/items/{item_id}/events/submit"
    first = client.post(url, json={"version": 1}, headers=keyed(people["dep"], "submit-1"))
    assert first.status_code == 200, first.get_json()
    again = client.post(url, json={"version": 1}, headers=keyed(people["dep"], "submit-1"))
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(HistoryEvent.event).where(HistoryEvent.item_id == item_id)
    ).all()
    assert rows.count("submit") == 1
    # Without the key the same request is a new one: the version is stale now.
    stale = client.post(url, json={"version": 1}, headers=people["dep"])
    assert stale.status_code == 409


def test_a_refused_request_is_not_kept_and_is_checked_afresh(client, people):
    """A 4xx changed nothing: sent again it is checked again, and may then succeed."""
    untitled = {"section": "交通政策課"}
    refused = client.post(f"{API}/items", json=untitled, headers=keyed(people["dep"], "k"))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "validation_failed"
    assert stored_keys() == []
    again = client.post(f"{API}/items", json=untitled, headers=keyed(people["dep"], "k"))
    assert again.status_code == 422
    assert "Idempotent-Replayed" not in again.headers
    fixed = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "k"))
    assert fixed.status_code == 201
    assert stored_keys() == [("k", 201)]


def test_an_answer_is_kept_24_hours(client, people):
    client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "k"))
    row = db.session.scalar(sa.select(IdempotencyKey))
    row.created_at = utcnow() - timedelta(hours=24, minutes=1)
    db.session.commit()
    fresh = client.post(
        f"{API}/items", json={**BODY, "title": "翌日の案件"}, headers=keyed(people["dep"], "k")
    )
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    assert items_titled("翌日の案件") == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(IdempotencyKey.created_at)) > utcnow() - timedelta(minutes=1)


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "日本語のキー", "tab\there"], ids=["empty", "long", "kanji", "control"]
)
def test_a_malformed_key_is_a_400_and_nothing_is_filed(client, people, key):
    r = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], key))
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "invalid_idempotency_key"
    assert "Idempotency-Key" in error["message"]
    assert items_titled(BODY["title"]) == 0


def test_a_quoted_key_is_the_same_key(client, people):
    """The IETF draft sends a structured-field string ("…"); Stripe's clients a bare one."""
    first = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], '"abc-1"'))
    again = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "abc-1"))
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]


def test_every_write_method_takes_the_key(client, people):
    """PUT, PATCH and DELETE replay too (the draft names POST and PATCH; ours are all writes)."""
    created = client.post(f"{API}/items", json=BODY, headers=people["dep"]).get_json()
    patch = {"summary": "概要を加える", "version": created["version"]}
    first = client.patch(
        f"{API}/items/{created['id']}", json=patch, headers=keyed(people["dep"], "p")
    )
    assert first.status_code == 200, first.get_json()
    again = client.patch(
        f"{API}/items/{created['id']}", json=patch, headers=keyed(people["dep"], "p")
    )
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["version"] == first.get_json()["version"]


def test_the_same_key_while_the_first_runs_is_409(client, people, engine_name):
    """PostgreSQL: a request holds an advisory lock on (user, key) for its transaction; here
    another connection holds it, as a request still running would."""
    if engine_name != "postgresql":
        pytest.skip("SQLite takes writes in turn (BEGIN IMMEDIATE); the next test covers both")
    holder = db.engine.connect()
    held = holder.begin()
    holder.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id(people["department"].id, "k"))))
    try:
        busy = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "k"))
        assert busy.status_code == 409
        assert busy.get_json()["error"]["code"] == "idempotency_key_in_use"
        assert busy.headers["Retry-After"] == "1"
        assert items_titled(BODY["title"]) == 0
    finally:
        held.rollback()
        holder.close()
    done = client.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "k"))
    assert done.status_code == 201


def test_two_requests_with_one_key_at_once_file_one_item(app, people, monkeypatch, engine_name):
    """Sent twice at once: one files the item; the other is told to wait (PostgreSQL) or, having
    waited its turn to write (SQLite), gets the first's answer. Never two items."""
    from workflow.services import items as item_service

    real_file_item = item_service.file_item
    started = threading.Event()

    def slow_file_item(*args, **kwargs):
        started.set()
        time.sleep(0.5)  # still running when the second arrives
        return real_file_item(*args, **kwargs)

    monkeypatch.setattr(item_service, "file_item", slow_file_item)
    answers = []

    def send():
        with app.test_client() as own:  # its own app context, session and connection
            r = own.post(f"{API}/items", json=BODY, headers=keyed(people["dep"], "once"))
            answers.append((r.status_code, r.headers.get("Idempotent-Replayed"), r.get_json()))

    first = threading.Thread(target=send)
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=send)
    second.start()
    first.join(30)
    second.join(30)
    statuses = sorted(a[0] for a in answers)
    assert items_titled(BODY["title"]) == 1
    if engine_name == "postgresql":
        assert statuses == [201, 409]
    else:
        assert statuses == [201, 201]
        assert {a[1] for a in answers} == {None, "true"}
        assert answers[0][2] == answers[1][2]
