"""Engine set-up that the defaults get wrong for us."""

from __future__ import annotations

import logging
import sqlite3
import time

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


def configure_engine(engine: Engine) -> None:
    """Make SQLite transactional under concurrency; leave other engines as they are.

    pysqlite does not BEGIN before a SELECT, so a read-modify-write from two processes can
    interleave and lose an update. The documented fix (SQLAlchemy, "Serializable isolation /
    Savepoints / Transactional DDL" for pysqlite) is to take over transaction control: autocommit
    at the driver level and an explicit ``BEGIN IMMEDIATE`` whenever SQLAlchemy begins. WAL lets
    readers go on while a writer works; the busy timeout makes a waiting writer wait, not fail.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database file in WAL mode (it stays so: after the first time this only reads).

    Switching a file to WAL does not wait for the busy timeout: while another process writes to a
    fresh file, the PRAGMA fails at once with "database is locked". Retry for a moment; if the
    file stays busy, carry on in rollback-journal mode, where BEGIN IMMEDIATE is just as correct,
    only slower, and a later connection makes the switch.
    """
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        return
    for attempt in range(20):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.005 * (attempt + 1))
    log.warning("SQLite file busy; this connection stays in rollback-journal mode")
