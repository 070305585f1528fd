"""Two people acting on the same item at once: exactly one succeeds, nothing doubled or lost.

Proven with threads (one app, two sessions) and with two processes (two apps), on the engine
the suite runs on (SQLite here, PostgreSQL with --db=postgresql).
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest
import sqlalchemy as sa

from tests.factories import item_meeting_id, make_item, make_user
from tests.support import make_app
from workflow.errors import WorkflowError
from workflow.extensions import db
from workflow.models import AgendaEntry, HistoryEvent, Item, Meeting, User
from workflow.services import items, meetings
from workflow.services.transaction import unit_of_work
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")


def _act(action: str, item_id: int, secretariat_id: int) -> None:
    item = db.session.get(Item, item_id)
    secretariat = db.session.get(User, secretariat_id)
    if action == "accept":
        items.accept(secretariat, item)
    else:
        meeting = db.session.get(Meeting, item_meeting_id(item))
        meetings.record_outcome(secretariat, meeting, item, action)


def _race(app, url: str, action: str, item_id: int, secretariat_id: int, barrier, results) -> None:
    """One contender. On SQLite the first read takes the write lock (BEGIN IMMEDIATE), so the
    contenders meet at the barrier before reading; on PostgreSQL they read first, then meet, so
    both really hold the same version when they write."""
    with app.app_context():
        try:
            with unit_of_work():
                if db.engine.dialect.name == "sqlite":
                    barrier.wait()
                    _act(action, item_id, secretariat_id)
                else:
                    item = db.session.get(Item, item_id)
                    item.version  # noqa: B018  (read it now, before the other commits)
                    barrier.wait()
                    _act(action, item_id, secretariat_id)
            results.append("ok")
        except WorkflowError as exc:
            results.append(exc.code)


def _process_main(url: str, action: str, item_id: int, secretariat_id: int, barrier, queue):
    results: list[str] = []
    _race(make_app(url), url, action, item_id, secretariat_id, barrier, results)
    queue.put(results[0])


def _setup(status: ItemStatus) -> tuple[int, int]:
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(status, secretariat=secretariat)
    db.session.commit()
    return item.id, secretariat.id


def _history_count(item_id: int) -> int:
    count = db.session.scalar(sa.select(sa.func.count()).where(HistoryEvent.item_id == item_id))
    db.session.rollback()  # end the read: on SQLite even a read transaction holds the write lock
    return count


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (ItemStatus.SUBMITTED, ("accept", "accept")),
        (ItemStatus.SCHEDULED, ("approved", "remanded")),
    ],
)
def test_two_threads_one_wins(app, database_url, status, actions):
    item_id, secretariat_id = _setup(status)
    before = _history_count(item_id)
    barrier, results = threading.Barrier(2, timeout=30), []
    threads = [
        threading.Thread(
            target=_race, args=(app, database_url, a, item_id, secretariat_id, barrier, results)
        )
        for a in actions
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) in (["conflict", "ok"], ["not_allowed_in_state", "ok"])
    db.session.expire_all()
    assert _history_count(item_id) == before + 1
    entries = db.session.scalars(sa.select(AgendaEntry).where(AgendaEntry.item_id == item_id)).all()
    assert len([e for e in entries if e.outcome is not None]) == (status == ItemStatus.SCHEDULED)


@pytest.mark.slow
def test_two_processes_one_wins(database_url):
    item_id, secretariat_id = _setup(ItemStatus.SCHEDULED)
    before = _history_count(item_id)
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2, timeout=60), ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_main,
            args=(database_url, outcome, item_id, secretariat_id, barrier, queue),
        )
        for outcome in ("approved", "remanded")
    ]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert results in (["conflict", "ok"], ["not_allowed_in_state", "ok"])
    db.session.expire_all()
    item = db.session.get(Item, item_id)
    assert item.status in (ItemStatus.APPROVED, ItemStatus.RETURNED)
    assert _history_count(item_id) == before + 1
