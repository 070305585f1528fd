"""Engine set-up that the defaults get wrong for us."""

from __future__ import annotations

from sqlalchemy import Engine, event


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
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
