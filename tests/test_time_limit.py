"""time_limit: a statement that runs too long is stopped with a Japanese message, on each engine.

Search runs under it (SEARCH_SECONDS): a one- or two-character word that no index serves reads
the whole table, and on a large database that must not hold a worker indefinitely.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from tests.factories import make_item, make_section, make_user
from tests.support import login
from workflow.database import time_limit
from workflow.errors import TookTooLong
from workflow.extensions import db
from workflow.queries.search import TOO_LONG
from workflow.states.states import ItemStatus, Role

# Statements that take seconds without touching any table.
SLOW = {
    "sqlite": "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
    "SELECT count(*) FROM (SELECT x FROM n LIMIT 300000000)",
    "postgresql": "SELECT pg_sleep(10)",
}


def test_a_slow_statement_is_stopped_and_the_session_goes_on(app, engine_name):
    started = time.monotonic()
    with (
        pytest.raises(TookTooLong, match="時間切れです") as stopped,
        time_limit(0.2, "時間切れです。"),
    ):
        db.session.execute(sa.text(SLOW[engine_name]))
    assert time.monotonic() - started < 3
    assert stopped.value.http_status == 503
    assert stopped.value.code == "took_too_long"
    assert db.session.scalar(sa.select(sa.literal(1))) == 1


def test_the_limit_ends_with_the_block(app, engine_name):
    with time_limit(0.05, "時間切れです。"):
        assert db.session.scalar(sa.select(sa.literal(7))) == 7
    if engine_name == "postgresql":
        assert db.session.scalar(sa.text("SHOW statement_timeout")) == "0"
        return
    # SQLite: a statement longer than the limit, after the block, runs to its end.
    started = time.monotonic()
    assert db.session.scalar(sa.text(SLOW["sqlite"].replace("300000000", "2000000"))) == 2000000
    assert time.monotonic() - started > 0.05


def test_other_failures_pass_through(app):
    with pytest.raises(DBAPIError) as failed, time_limit(5, "時間切れです。"):
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
    assert "no_such_table" in str(failed.value)
    db.session.rollback()


@contextmanager
def slowed(engine_name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make the next search outrun SEARCH_SECONDS for real.

    PostgreSQL: another connection holds a lock on the search table, so the search waits (and
    statement_timeout counts the wait). SQLite never makes a reader wait under WAL, so the time
    allowed is nothing and the progress handler looks at the clock after every step.
    """
    if engine_name == "sqlite":
        monkeypatch.setattr("workflow.queries.search.SEARCH_SECONDS", 0.0)
        monkeypatch.setattr("workflow.database._SQLITE_STEPS", 1)
        yield
        return
    monkeypatch.setattr("workflow.queries.search.SEARCH_SECONDS", 0.3)
    db.session.rollback()  # the test's own reads end, or the lock would wait for them
    with db.engine.connect() as other:
        other.exec_driver_sql("SET lock_timeout = '10s'")
        other.exec_driver_sql("LOCK TABLE search_documents IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            other.rollback()


def test_a_search_that_runs_too_long_is_stopped_on_the_page_and_in_the_api(
    app, client, monkeypatch, engine_name
):
    section = make_section("道路維持課")
    department = make_user(Role.DEPARTMENT, section=section, login="dept")
    secretariat = make_user(Role.SECRETARIAT, login="sec")
    make_item(
        ItemStatus.SUBMITTED, department=department, secretariat=secretariat, title="道路の補修"
    )
    db.session.commit()
    login(client, secretariat)
    assert "道路の補修" in client.get("/search", query_string={"q": "道路"}).get_data(as_text=True)

    with slowed(engine_name, monkeypatch):
        page = client.get("/search", query_string={"q": "道路"})
    assert page.status_code == 503
    assert TOO_LONG in page.get_data(as_text=True)

    with slowed(engine_name, monkeypatch):
        api = client.get("/api/v1/search", query_string={"q": "道路の補修"})
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "took_too_long"
    assert api.get_json()["error"]["message"] == TOO_LONG

    # Nothing is left behind: the next search finds the item.
    monkeypatch.undo()
    again = client.get("/search", query_string={"q": "道路の補修"})
    assert again.status_code == 200
    assert "検索結果：1件" in again.get_data(as_text=True)
