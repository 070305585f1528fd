"""SQLite under several processes: the app's engine set-up loses no update; the default does.

Four processes each add 1 to one counter 50 times, reading the value into Python, pausing a
moment (a request doing its work), then writing value + 1, each increment in its own transaction.
Through ``workflow.database.configure_engine`` (BEGIN IMMEDIATE, WAL, busy timeout) the counter
ends at exactly 200. A plain ``create_engine`` on the same file lets the reads interleave, because
pysqlite only opens the transaction at the UPDATE: increments are lost (or fail with "database is
locked"), and the counter ends below 200.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from tests.support import make_app
from workflow.extensions import db

WORKERS = 4
INCREMENTS = 50
THINK_SECONDS = 0.001  # between the read and the write, as a request would
TIMEOUT_SECONDS = 60

counter = sa.Table(
    "counter",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)
_read = sa.select(counter.c.value).where(counter.c.id == 1)


def _write(value: int) -> sa.Update:
    return sa.update(counter).where(counter.c.id == 1).values(value=value)


def _new_counter(url: str) -> str:
    """A fresh file holding the counter at 0 (in rollback-journal mode, as a new file is)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        counter.create(conn)
        conn.execute(counter.insert().values(id=1, value=0))
    engine.dispose()
    return url


def _final_value(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(_read).scalar_one()
    finally:
        engine.dispose()


def _increment_with_a_plain_engine(url: str) -> int:
    """SQLAlchemy's and pysqlite's defaults; return how often "database is locked" was raised."""
    engine = sa.create_engine(url)
    locked = 0
    for _ in range(INCREMENTS):
        try:
            with engine.begin() as conn:
                value = conn.execute(_read).scalar_one()
                time.sleep(THINK_SECONDS)
                conn.execute(_write(value + 1))
        except sa.exc.OperationalError as exc:
            if "database is locked" not in str(exc):
                raise
            locked += 1
    engine.dispose()
    return locked


def _increment_through_the_app(url: str) -> None:
    """One process of the app: each increment is one session transaction, as in a request."""
    app = make_app(url)
    with app.app_context():
        for _ in range(INCREMENTS):
            value = db.session.execute(_read).scalar_one()
            time.sleep(THINK_SECONDS)
            db.session.execute(_write(value + 1))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _worker(plain_url: str, app_url: str, barrier, results) -> None:
    """Both runs in one process (spawning is the slow part): the control first, then the app."""
    barrier.wait(TIMEOUT_SECONDS)
    locked = _increment_with_a_plain_engine(plain_url)
    barrier.wait(TIMEOUT_SECONDS)
    _increment_through_the_app(app_url)
    results.put(locked)


@pytest.fixture(scope="module")
def outcome(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Run WORKERS spawned processes started together; return both final counts."""
    if engine_name != "sqlite":
        pytest.skip("SQLite-specific: proves workflow.database.configure_engine, unused elsewhere")
    folder = tmp_path_factory.mktemp("concurrency")
    plain_url = _new_counter(f"sqlite:///{folder / 'plain.sqlite3'}")
    app_url = _new_counter(f"sqlite:///{folder / 'app.sqlite3'}")

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_worker, args=(plain_url, app_url, barrier, results))
        for _ in range(WORKERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(TIMEOUT_SECONDS)
        if process.exitcode is None:
            process.kill()
        assert process.exitcode == 0, "a worker failed; its traceback is in the captured stderr"
    return {
        "locked": sum(results.get(timeout=5) for _ in processes),
        "plain": _final_value(plain_url),
        "app": _final_value(app_url),
    }


@pytest.mark.slow
def test_no_increment_is_lost_through_the_app(outcome):
    assert outcome["app"] == WORKERS * INCREMENTS


@pytest.mark.slow
def test_a_plain_engine_loses_increments(outcome):
    """The control: without configure_engine the same work does not reach the total."""
    assert outcome["plain"] < WORKERS * INCREMENTS, outcome


def test_a_fresh_file_busy_with_a_writer_still_opens(tmp_path):
    """A new file is not in WAL yet, and switching waits for no busy timeout: we retry.

    Several workers starting on a new database file used to fail their first query with
    "database is locked" while another one wrote.
    """
    url = _new_counter(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    writer = sqlite3.connect(
        tmp_path / "fresh.sqlite3", isolation_level=None, check_same_thread=False
    )
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE counter SET value = 7")
    commit_soon = threading.Timer(0.2, writer.execute, args=("COMMIT",))
    app = make_app(url)
    try:
        with app.app_context():
            commit_soon.start()
            assert db.session.execute(_read).scalar_one() == 7  # waited for the writer
            assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar_one() == "wal"
            db.session.remove()
            db.engine.dispose()
    finally:
        commit_soon.join()
        writer.close()
