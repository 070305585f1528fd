"""Engine set-up that the defaults get wrong for us."""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from flask import Flask, has_request_context, request
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from workflow.errors import TookTooLong

log = logging.getLogger(__name__)

# Methods that change nothing (RFC 9110 §9.2.1): their requests read in a deferred transaction.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# True while a request that only reads runs on SQLite: its transactions begin deferred.
_reading: ContextVar[bool] = ContextVar("chogi_sqlite_reading", default=False)
_DEFERRED = "chogi_deferred"  # connection.info: its transaction began deferred


class WriteWhileReading(RuntimeWarning):
    """A GET request wrote without :func:`writing` first (tests turn warnings into errors)."""


# How long a request waits for the database (a lock another transaction holds, a statement that
# runs long) before it gives up and answers 503 ``database_busy``: well inside gunicorn's worker
# timeout (gunicorn.conf.py), so the app answers with its own JSON or page, never the server's.
DEFAULT_WAIT_SECONDS = 20


def configure_engine(engine: Engine, *, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
    """Make SQLite transactional under concurrency; PostgreSQL plans with the parameters.

    pysqlite does not BEGIN before a SELECT, so a read-modify-write from two processes can
    interleave and lose an update. The documented fix (SQLAlchemy, "Serializable isolation /
    Savepoints / Transactional DDL" for pysqlite) is to take over transaction control: autocommit
    at the driver level and an explicit ``BEGIN IMMEDIATE`` whenever SQLAlchemy begins. WAL lets
    readers go on while a writer works; the busy timeout makes a waiting writer wait, not fail.
    """
    if engine.dialect.name == "postgresql":
        _custom_plans_always(engine)
        _application_name(engine)
        _requests_wait_at_most(engine, wait_seconds)
    if engine.dialect.name != "sqlite":
        return
    busy_ms = _milliseconds(wait_seconds)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if engine.url.database not in (None, "", ":memory:"):
            _owner_only(engine.url.database)
            _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        deferred = _reading.get()
        connection.info[_DEFERRED] = deferred
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(_conn, _cursor, statement, _params, _context, _many) -> None:
        if _reading.get() and statement.lstrip()[:6].upper() in {"INSERT", "UPDATE", "DELETE"}:
            warnings.warn(
                f"write in a read-only request without writing(): {statement[:60]}",
                WriteWhileReading,
                stacklevel=2,
            )


def _custom_plans_always(engine: Engine) -> None:
    """PostgreSQL: plan every statement for its own parameters, never with a generic plan.

    psycopg prepares a statement on the server after its fifth run, and after five more the
    server may switch to a generic plan, made without knowing the parameters. Our queries' best
    plans depend on them (who asks: a permission that is ``true`` for the secretariat and an
    EXISTS for the public; a search word that is rare or common), and a generic plan made for
    one of them can be slower by orders of magnitude for another.

    JIT compilation is off as well: it pays only for long analytic queries, and for our searches
    its cost estimates make PostgreSQL spend a good part of the query's time compiling.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET plan_cache_mode = force_custom_plan")
            cursor.execute("SET jit = off")
        dbapi_connection.commit()


def _milliseconds(seconds: float) -> int:
    """*seconds* as the whole milliseconds the databases' settings take; never 0 (no limit)."""
    return max(int(seconds * 1000), 1)


def _application_name(engine: Engine) -> None:
    """PostgreSQL: name our sessions "chogi <program>" (pg_stat_activity's application_name).

    ``flask restore`` lists the sessions that would stand in its way by this name, and an
    administrator tells the app servers (gunicorn) from other programs. A name given in the
    database URL (``?application_name=…``) is kept.
    """

    @event.listens_for(engine, "do_connect")
    def _on_do_connect(_dialect, _record, _cargs, cparams) -> None:
        program = _program or (Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "")
        # PostgreSQL keeps 63 bytes (NAMEDATALEN - 1)
        cparams.setdefault("application_name", f"chogi {program}".strip()[:63])


_program = ""  # what a long-running command calls itself (name_sessions); else the program's name


def name_sessions(program: str) -> str:
    """Name this process's next PostgreSQL sessions "chogi *program*" (``flask worker``: "chogi
    worker", where the program's own name would say only "chogi flask"); the name it replaces
    ("" for the program's own)."""
    global _program
    previous, _program = _program, program
    return previous


def _requests_wait_at_most(engine: Engine, seconds: float) -> None:
    """PostgreSQL: a connection first used by a request waits at most *seconds* for a lock or a
    statement (``lock_timeout``, ``statement_timeout`` for its session); then 503 database_busy.

    Only connections of a web request: CLI commands (demo generate, migrations) run long
    statements on purpose. A worker process serves only requests, so its connections keep it.
    """
    milliseconds = _milliseconds(seconds)

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy) -> None:
        if record.info.get(_REQUEST_LIMITS) or not has_request_context():
            return
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {milliseconds}")
            cursor.execute(f"SET statement_timeout = {milliseconds}")
        dbapi_connection.commit()
        record.info[_REQUEST_LIMITS] = True


_REQUEST_LIMITS = "chogi_request_limits"  # connection record info: its session has them


def init_app(app: Flask) -> None:
    """Let requests that only read (GET, HEAD, OPTIONS) run side by side on SQLite.

    ``BEGIN IMMEDIATE`` takes SQLite's one write lock when a transaction begins, so under it every
    request, pages included, waits for the one before to finish rendering. A request with a safe
    method begins its transactions deferred instead: under WAL readers never wait, and each reads
    one consistent snapshot. The few writes such a request makes (refreshing a session's
    last-seen time, keeping a fresh PDF in the cache) go through :func:`writing`.
    """

    @app.before_request
    def _begin_reading() -> None:
        if request.method in SAFE_METHODS:
            _reading.set(True)

    @app.teardown_request
    def _end_reading(_exc: BaseException | None) -> None:
        # The read ends with the request, even where the app context lives on (the test client
        # inside a test's own context): a later write must not ride on this deferred transaction.
        from workflow.extensions import db

        try:
            session = db.session()  # the scoped session's Session
            if (
                _reading.get()
                and session.in_transaction()
                and session.connection().info.get(_DEFERRED)
            ):
                session.rollback()
        except SQLAlchemyError:  # the answer is made: a failure here must not replace it
            log.warning("ending a read transaction failed", exc_info=True)
        finally:
            _reading.set(False)


def writing() -> None:
    """From here on this request may write: end its read transaction, begin the next IMMEDIATE.

    A deferred transaction that writes must upgrade its read lock, and SQLite refuses the upgrade
    at once (no busy wait) when another connection committed since the read began. So the read
    transaction is committed (a safe request has nothing pending) and the next one takes the write
    lock first, waiting its turn like any other writer. Outside a read-only request on SQLite
    (PostgreSQL, POST requests, CLI commands) this does nothing.
    """
    if not _reading.get():
        return
    from workflow.extensions import db

    db.session.commit()
    _reading.set(False)


@contextmanager
def time_limit(seconds: float, message: str) -> Iterator[None]:
    """Stop any statement of the block that runs past *seconds*; raise :class:`TookTooLong`.

    PostgreSQL cancels it by ``statement_timeout`` (set for this transaction only, and put back
    to what it was after the block). SQLite has no such setting; its progress handler, called every few thousand
    virtual-machine steps, interrupts the statement once the time is up. Either way the session is
    rolled back: a cancelled statement leaves a PostgreSQL transaction unusable.
    """
    from workflow.extensions import db

    connection = db.session.connection()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        deadline = time.monotonic() + seconds
        raw = connection.connection.dbapi_connection
        raw.set_progress_handler(lambda: time.monotonic() > deadline, _SQLITE_STEPS)
    elif connection.dialect.name == "postgresql":
        previous = connection.exec_driver_sql(
            "SELECT current_setting('statement_timeout'),"
            f" set_config('statement_timeout', '{_milliseconds(seconds)}', true)"
        ).scalar()
    try:
        try:
            yield
        finally:  # first: the rollback below would be interrupted too
            if sqlite:
                raw.set_progress_handler(None, 0)
    except OperationalError as exc:
        if not _cancelled(exc):
            raise
        db.session.rollback()
        raise TookTooLong(message, {"seconds": seconds}) from exc
    if connection.dialect.name == "postgresql":  # the request's own limit, as it was
        connection.exec_driver_sql(
            "SELECT set_config('statement_timeout', %(previous)s, true)", {"previous": previous}
        )


# How often SQLite's progress handler looks at the clock (virtual-machine steps, ~1 ms of work).
_SQLITE_STEPS = 10_000


def _cancelled(exc: OperationalError) -> bool:
    """Was *exc* a statement stopped by :func:`time_limit` (and not another failure)?"""
    if isinstance(exc.orig, sqlite3.OperationalError):
        return str(exc.orig) == "interrupted"
    return getattr(exc.orig, "sqlstate", None) == "57014"  # PostgreSQL: query_canceled


def _owner_only(database: str) -> None:
    """Let only the app's own user read the SQLite file (0600), whatever the umask made it.

    Done on connecting, before WAL is switched on: SQLite creates -wal and -shm with the main
    file's permissions, so they follow; ones left from an older, laxer file are tightened too.
    """
    for path in (Path(database), Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except FileNotFoundError:
            continue
        except PermissionError:
            log.warning("cannot make %s readable by its owner only (not ours)", path)


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
