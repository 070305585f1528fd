"""SQLite: requests that only read begin deferred, so readers never wait for each other or a writer.

Every other transaction still begins ``BEGIN IMMEDIATE`` (tests/test_sqlite_concurrency.py shows
why). A safe request that must write calls ``workflow.database.writing()`` first; a write without
it raises ``WriteWhileReading`` (a warning, an error under the test suite's filterwarnings).
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.factories import PASSWORD, make_section, make_user
from workflow import database
from workflow.extensions import db
from workflow.models import UserSession
from workflow.models._types import utcnow
from workflow.states.states import Role


@pytest.fixture(autouse=True)
def _sqlite_only(engine_name: str) -> None:
    if engine_name != "sqlite":
        pytest.skip("SQLite's locking; PostgreSQL's MVCC readers never took a write lock")


@pytest.fixture
def begins(app: Flask) -> list[str]:
    """Every BEGIN the engine sends, in order."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", record)


def _signed_in(app: Flask):
    make_user(Role.SECRETARIAT, section=make_section(), login="sec")
    db.session.commit()
    client = app.test_client()
    assert client.post("/login", data={"login": "sec", "password": PASSWORD}).status_code == 302
    db.session.commit()  # end the test's own transaction: the requests begin theirs
    return client


def test_a_page_reads_in_a_deferred_transaction_and_a_form_post_writes_immediately(app, begins):
    client = _signed_in(app)
    begins.clear()
    assert client.get("/items/").status_code == 200
    assert begins
    assert set(begins) == {"BEGIN"}
    begins.clear()
    assert client.post("/logout").status_code == 302
    assert begins
    assert set(begins) == {"BEGIN IMMEDIATE"}


def test_a_due_session_refresh_in_a_page_request_takes_the_write_lock(app, begins):
    client = _signed_in(app)
    row = db.session.scalars(sa.select(UserSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    begins.clear()
    assert client.get("/items/").status_code == 200
    assert begins[0] == "BEGIN"
    assert "BEGIN IMMEDIATE" in begins
    db.session.expire_all()
    assert utcnow() - db.session.scalars(sa.select(UserSession)).one().last_seen_at < timedelta(
        minutes=1
    )


def test_a_reader_does_not_hold_back_a_writer(app):
    """While a page request is inside its transaction, another process commits without waiting."""
    inside, release = threading.Event(), threading.Event()

    @app.get("/_test/hold")
    def hold() -> str:
        count = db.session.scalar(sa.text("SELECT count(*) FROM users"))
        inside.set()
        release.wait(10)
        return str(count)

    client = _signed_in(app)
    result: dict[str, object] = {}

    def read() -> None:
        with app.app_context():  # a context (and session) of its own, as a worker has
            result["response"] = client.get("/_test/hold")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert inside.wait(10)
        path = db.engine.url.database
        writer = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # "database is locked" within 0.5 s if it waited
            writer.execute("UPDATE users SET display_name = display_name || '.'")
            writer.execute("COMMIT")
        finally:
            writer.close()
    finally:
        release.set()
        reader.join(10)
    assert result["response"].status_code == 200
    assert result["response"].get_data(as_text=True) == "1"


def test_writing_ends_the_read_so_a_write_after_another_commit_succeeds(app):
    """Upgrading a stale read to a write fails at once in WAL; writing() begins afresh instead."""
    make_user(Role.SECRETARIAT, section=make_section(), login="sec")
    db.session.commit()
    other = sqlite3.connect(db.engine.url.database, timeout=5, isolation_level=None)
    try:
        for use_writing in (False, True):
            with app.test_request_context("/", method="GET"):
                app.preprocess_request()
                db.session.scalar(sa.text("SELECT count(*) FROM users"))  # the read begins
                other.execute("UPDATE users SET display_name = display_name || '.'")  # commits
                if use_writing:
                    database.writing()
                    db.session.execute(sa.text("UPDATE users SET active = active"))
                    db.session.commit()
                else:
                    with (
                        pytest.warns(database.WriteWhileReading),
                        pytest.raises(sa.exc.OperationalError, match="locked"),
                    ):
                        db.session.execute(sa.text("UPDATE users SET active = active"))
                    db.session.rollback()
                app.do_teardown_request()
    finally:
        other.close()


def test_outside_a_request_transactions_begin_immediate(app, begins):
    make_user(Role.VIEWER, login="v")
    db.session.commit()
    db.session.scalar(sa.text("SELECT 1 FROM users"))
    db.session.rollback()
    assert begins
    assert set(begins) == {"BEGIN IMMEDIATE"}
