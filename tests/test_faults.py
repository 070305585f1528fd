"""Faults outside the user's control: the database backend killed mid-transition, a lost
connection, a deadlock, a PDF that will not render. Each request fails cleanly — a Japanese 503,
409 or error page, never a traceback — nothing is half-written, and the next request works.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.factories import item_meeting_id, make_item, make_section, make_user
from tests.support import PG_ADMIN_URL, login, make_app
from workflow.audit import verify_chain
from workflow.errors import CONFLICT_MESSAGE, OUTCOME_UNKNOWN_MESSAGE
from workflow.extensions import db
from workflow.faults import (
    DB_BUSY,
    DB_UNAVAILABLE,
    LOST_RACE,
    PDF_FAILED,
    SAVED_NOT_SHOWN,
    SERVER_ERROR,
)
from workflow.models import (
    AgendaEntry,
    ApiToken,
    HistoryEvent,
    Item,
    Meeting,
    Notice,
    PdfCache,
    User,
)
from workflow.models._types import utcnow
from workflow.pdf import documents
from workflow.pdf.render import PdfRenderError
from workflow.services import meetings
from workflow.states.states import ItemStatus, MeetingStatus, Role


def _bearer(user: User) -> dict[str, str]:
    """A token, already used once: the first use records its time with a commit of its own."""
    row, token = ApiToken.issue(user)
    row.last_used_at = utcnow()
    db.session.add(row)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _history_count() -> int:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent))
    db.session.rollback()
    return count


def _scheduled() -> tuple[Item, Meeting, User]:
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.SCHEDULED, secretariat=secretariat)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    db.session.commit()
    return item, meeting, secretariat


def _confirmed() -> tuple[Meeting, User]:
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.APPROVED, secretariat=secretariat)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    meetings.hold(secretariat, meeting)
    meetings.confirm(secretariat, meeting)
    db.session.commit()
    return meeting, secretariat


def _outcome_url(meeting: Meeting, item: Item) -> str:
    return f"/api/v1/meetings/{meeting.id}/entries/{item.id}/outcome"


def _assert_nothing_recorded(item_id: int, history_before: int) -> None:
    db.session.expire_all()
    assert db.session.get(Item, item_id).status == ItemStatus.SCHEDULED
    entry = db.session.scalar(sa.select(AgendaEntry).where(AgendaEntry.item_id == item_id))
    assert entry.outcome is None
    db.session.rollback()
    assert _history_count() == history_before
    assert verify_chain().ok


@contextmanager
def _after_history_flush(
    action: Callable[[Session], None], of: type = HistoryEvent
) -> Iterator[list[bool]]:
    """Run *action* once, inside fire, right after the history row (or the first rows *of*
    another kind) reached the database."""
    done: list[bool] = []

    def hook(session: Session, _context) -> None:
        if not done and any(isinstance(obj, of) for obj in session.new):
            done.append(True)
            action(session)

    sa.event.listen(Session, "after_flush", hook)
    try:
        yield done
    finally:
        sa.event.remove(Session, "after_flush", hook)


def _kill_own_backend(session: Session) -> None:
    """pg_terminate_backend from a second connection, and wait until the backend is gone."""
    pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            deadline = time.monotonic() + 10
            alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = :p"
            while conn.execute(sa.text(alive), {"p": pid}).scalar() and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        admin.dispose()


@pytest.fixture
def postgresql_only(engine_name: str) -> None:
    if engine_name != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's; the simulated disconnect runs on both")


# -- the backend killed in the middle of a transition (PostgreSQL) ------------------------------


@pytest.mark.usefixtures("postgresql_only")
def test_api_outcome_with_the_backend_killed_mid_transition(app: Flask, client: FlaskClient):
    item, meeting, secretariat = _scheduled()
    headers = _bearer(secretariat)
    before = _history_count()

    with _after_history_flush(_kill_own_backend) as killed:
        response = client.post(
            _outcome_url(meeting, item), json={"outcome": "approved"}, headers=headers
        )
    assert killed
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == {
        "code": "database_unavailable",
        "message": DB_UNAVAILABLE,
        "details": {},
    }
    assert response.headers["Retry-After"] == "5"
    _assert_nothing_recorded(item.id, before)

    # The next request gets a live connection and does the same thing properly.
    response = client.post(
        _outcome_url(meeting, item), json={"outcome": "approved"}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.APPROVED
    db.session.rollback()
    assert _history_count() == before + 1
    assert verify_chain().ok


@pytest.mark.usefixtures("postgresql_only")
def test_page_publish_with_the_backend_killed_mid_transition(app: Flask, client: FlaskClient):
    meeting, secretariat = _confirmed()
    login(client, secretariat)
    before = _history_count()

    # The last rows a publish writes are its notices (to the agenda's sections), after its history.
    with _after_history_flush(_kill_own_backend, of=Notice) as killed:
        response = client.post(f"/meetings/{meeting.id}/events/publish", data={"confirmed": "1"})
    assert killed
    # Everything was flushed before the kill, so the next thing sent is the COMMIT: the app
    # cannot tell whether the backend died before or after it, and says so (it was before).
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "保存されたか確認できません" in page
    assert OUTCOME_UNKNOWN_MESSAGE.split("。")[0] in page
    assert "保存されていません" not in page
    assert "Traceback" not in page
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.CONFIRMED
    db.session.rollback()
    assert _history_count() == before

    assert client.get(f"/meetings/{meeting.id}").status_code == 200
    response = client.post(f"/meetings/{meeting.id}/events/publish", data={"confirmed": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.PUBLISHED
    db.session.rollback()
    assert _history_count() == before + 1
    assert verify_chain().ok


# -- the same, simulated, on every engine ---------------------------------------------------------


def _lose_connection(_session: Session) -> None:
    raise sa.exc.OperationalError(
        "COMMIT",
        {},
        Exception("server closed the connection unexpectedly"),
        connection_invalidated=True,
    )


def _deadlock(_session: Session) -> None:
    raise sa.exc.OperationalError(
        "UPDATE items", {}, psycopg.errors.DeadlockDetected("deadlock detected")
    )


def test_a_lost_connection_is_a_503_and_nothing_is_written(app: Flask, client: FlaskClient):
    item, meeting, secretariat = _scheduled()
    headers = _bearer(secretariat)
    before = _history_count()
    with _after_history_flush(_lose_connection):
        response = client.post(
            _outcome_url(meeting, item), json={"outcome": "noted"}, headers=headers
        )
    assert response.status_code == 503
    assert response.get_json()["error"]["message"] == DB_UNAVAILABLE
    _assert_nothing_recorded(item.id, before)
    response = client.post(_outcome_url(meeting, item), json={"outcome": "noted"}, headers=headers)
    assert response.status_code == 200


def test_a_lost_connection_on_a_page_is_a_japanese_page(app: Flask, client: FlaskClient):
    meeting, secretariat = _confirmed()
    login(client, secretariat)
    with _after_history_flush(_lose_connection):
        response = client.post(f"/meetings/{meeting.id}/events/publish", data={"confirmed": "1"})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert DB_UNAVAILABLE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.CONFIRMED


def test_a_deadlock_victim_gets_409_like_any_lost_race(app: Flask, client: FlaskClient):
    item, meeting, secretariat = _scheduled()
    headers = _bearer(secretariat)
    before = _history_count()
    with _after_history_flush(_deadlock):
        response = client.post(
            _outcome_url(meeting, item), json={"outcome": "noted"}, headers=headers
        )
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == LOST_RACE
    _assert_nothing_recorded(item.id, before)


def _signed_in_with_the_database_down(app: Flask, **config) -> FlaskClient:
    """A client signed in (a session cookie) to an app whose database cannot be reached."""
    down = make_app(
        "postgresql+psycopg://nobody@127.0.0.1:1/none"
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
        else "sqlite:////nonexistent-directory/chogi.sqlite3",
        **config,
    )
    client = down.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "some-session-token"
    return client


def test_the_database_down_before_the_view_is_still_a_japanese_page(app: Flask):
    """Even the sign-in check cannot reach the database: the page must not need it either."""
    client = _signed_in_with_the_database_down(app)
    response = client.get("/items/")
    assert response.status_code == 503
    assert DB_UNAVAILABLE in response.get_data(as_text=True)
    response = client.get("/api/v1/items", headers={"Authorization": "Bearer chogi_x"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"


def test_a_404_for_a_signed_in_user_with_the_database_down_is_a_503(app: Flask):
    """The 404 page loads the signed-in user; that failing is the database's 503, not a 500
    telling the user to call the administrator (found by a probe)."""
    # As in production: the 404 handler's failure reaches Flask as a 500 first.
    client = _signed_in_with_the_database_down(app, PROPAGATE_EXCEPTIONS=False)
    response = client.get("/no-such-page")
    assert response.status_code == 503
    assert DB_UNAVAILABLE in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


# -- the connection lost during COMMIT, or right after it ------------------------------------------


def _disconnect(statement: str) -> sa.exc.OperationalError:
    return sa.exc.OperationalError(
        statement,
        {},
        Exception("server closed the connection unexpectedly"),
        connection_invalidated=True,
    )


@contextmanager
def _commit_reply_lost(*, committed: bool) -> Iterator[list[bool]]:
    """The next COMMIT's reply never arrives and the connection is gone: after the database
    committed (*committed*), or before the COMMIT reached it. The app cannot know which.

    Done where a real one happens: in the driver's commit, seen by SQLAlchemy as a disconnect.
    """
    dialect = db.engine.dialect
    real_commit = dialect.do_commit
    done: list[bool] = []

    def do_commit(dbapi_connection) -> None:
        if done:
            return real_commit(dbapi_connection)
        done.append(True)
        if committed:
            real_commit(dbapi_connection)
        else:
            dialect.do_rollback(dbapi_connection)
        raise dialect.loaded_dbapi.OperationalError("server closed the connection unexpectedly")

    def is_disconnect(context) -> None:
        if done and "server closed the connection" in str(context.original_exception):
            context.is_disconnect = True

    dialect.do_commit = do_commit
    sa.event.listen(db.engine, "handle_error", is_disconnect)
    try:
        yield done
    finally:
        del dialect.do_commit
        sa.event.remove(db.engine, "handle_error", is_disconnect)


@contextmanager
def _database_gone_after_commit() -> Iterator[list[str]]:
    """Every statement after the next COMMIT fails as on a lost connection (the statements are
    listed): an answer made by reading again would fail."""
    failed: list[str] = []
    state = {"committed": False}

    def after_commit(_session: Session) -> None:
        state["committed"] = True

    def before_execute(_conn, _cursor, statement, *_args) -> None:
        if state["committed"]:
            failed.append(statement)
            raise _disconnect(statement)

    sa.event.listen(Session, "after_commit", after_commit)
    sa.event.listen(db.engine, "before_cursor_execute", before_execute)
    try:
        yield failed
    finally:
        sa.event.remove(Session, "after_commit", after_commit)
        sa.event.remove(db.engine, "before_cursor_execute", before_execute)


@pytest.mark.parametrize("committed", [True, False], ids=["committed", "not-committed"])
def test_a_commit_without_its_reply_is_outcome_unknown_and_a_keyed_retry_is_exact(
    app: Flask, client: FlaskClient, committed: bool
):
    """Never "not saved" when it may have been; the same Idempotency-Key then records it once."""
    item, meeting, secretariat = _scheduled()
    headers = {**_bearer(secretariat), "Idempotency-Key": "outcome-1"}
    before = _history_count()
    with _commit_reply_lost(committed=committed) as lost:
        response = client.post(
            _outcome_url(meeting, item), json={"outcome": "noted"}, headers=headers
        )
    assert lost
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "outcome_unknown"
    assert error["message"] == OUTCOME_UNKNOWN_MESSAGE
    assert "保存されていません" not in error["message"]
    assert response.headers["Retry-After"]
    db.session.expire_all()
    assert (db.session.get(Item, item.id).status != ItemStatus.SCHEDULED) is committed
    db.session.rollback()

    retry = client.post(_outcome_url(meeting, item), json={"outcome": "noted"}, headers=headers)
    assert retry.status_code == 200, retry.get_json()
    assert retry.headers.get("Idempotent-Replayed") == ("true" if committed else None)
    assert _history_count() == before + 1
    db.session.expire_all()
    assert db.session.get(Item, item.id).status != ItemStatus.SCHEDULED
    assert verify_chain().ok


@pytest.mark.usefixtures("postgresql_only")
def test_the_backend_killed_at_commit_is_outcome_unknown(app: Flask, client: FlaskClient):
    """Really: the backend is terminated as the COMMIT is sent (PostgreSQL)."""
    item, meeting, secretariat = _scheduled()
    headers = {**_bearer(secretariat), "Idempotency-Key": "killed-at-commit"}
    before = _history_count()
    killed: list[bool] = []

    def kill_before_commit(connection) -> None:
        if not killed:
            killed.append(True)
            _kill_own_backend(Session(bind=connection))

    sa.event.listen(db.engine, "commit", kill_before_commit)
    try:
        response = client.post(
            _outcome_url(meeting, item), json={"outcome": "noted"}, headers=headers
        )
    finally:
        sa.event.remove(db.engine, "commit", kill_before_commit)
    assert killed
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "outcome_unknown"
    _assert_nothing_recorded(item.id, before)  # terminated before COMMIT arrived: rolled back
    retry = client.post(_outcome_url(meeting, item), json={"outcome": "noted"}, headers=headers)
    assert retry.status_code == 200
    assert _history_count() == before + 1


def test_a_page_whose_commit_lost_its_reply_says_to_check(app: Flask, client: FlaskClient):
    meeting, secretariat = _confirmed()
    login(client, secretariat)
    with _commit_reply_lost(committed=True):
        response = client.post(f"/meetings/{meeting.id}/events/publish", data={"confirmed": "1"})
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert OUTCOME_UNKNOWN_MESSAGE.split("。")[0] in page
    assert DB_UNAVAILABLE not in page
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.PUBLISHED


def test_the_api_answers_from_what_it_committed(app: Flask, client: FlaskClient):
    """The body is made before the commit: the database gone right after it changes nothing."""
    item, meeting, secretariat = _scheduled()
    headers = _bearer(secretariat)
    with _database_gone_after_commit() as failed:
        response = client.post(
            _outcome_url(meeting, item), json={"outcome": "noted"}, headers=headers
        )
    assert response.status_code == 200, response.get_json()
    assert failed == []  # nothing was read again
    body = response.get_json()
    entry = next(e for e in body["entries"] if e["item_id"] == item.id)
    assert entry["outcome"] == "noted"
    db.session.expire_all()
    assert db.session.get(Item, item.id).status != ItemStatus.SCHEDULED


def test_a_page_answers_from_what_it_committed(app: Flask, client: FlaskClient):
    meeting, secretariat = _confirmed()
    login(client, secretariat)
    with _database_gone_after_commit() as failed:
        response = client.post(f"/meetings/{meeting.id}/events/publish", data={"confirmed": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert failed == []
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.PUBLISHED


def test_a_page_that_cannot_show_what_it_saved_says_it_was_saved(
    app: Flask, client: FlaskClient, monkeypatch
):
    """A read after the commit fails: "saved, not shown", never "not saved"."""
    from workflow.views import meetings as meeting_views

    meeting, secretariat = _confirmed()
    login(client, secretariat)

    def flash_fails(*_args, **_kwargs):
        raise _disconnect("SELECT")

    monkeypatch.setattr(meeting_views, "flash", flash_fails)
    response = client.post(f"/meetings/{meeting.id}/events/publish", data={"confirmed": "1"})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert SAVED_NOT_SHOWN.split("。")[0] in page
    assert "保存されていません" not in page
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.PUBLISHED


def test_a_failing_session_close_after_the_answer_keeps_the_answer(
    app: Flask, client: FlaskClient, monkeypatch
):
    """The teardown's rollback on a dead connection must not replace the answer with the WSGI
    server's bare error page. The request runs in a thread of its own, so its app context and
    session end with it, as in production."""
    item, meeting, secretariat = _scheduled()
    headers = _bearer(secretariat)
    real_close = Session.close
    closes: list[bool] = []

    def close(self) -> None:
        if not closes:
            closes.append(True)
            real_close(self)
            raise _disconnect("ROLLBACK")
        real_close(self)

    monkeypatch.setattr(Session, "close", close)
    url = _outcome_url(meeting, item)
    db.session.rollback()  # SQLite: the test's own transaction must not hold the write lock
    answers = []

    def send() -> None:
        answers.append(app.test_client().post(url, json={"outcome": "noted"}, headers=headers))

    worker = threading.Thread(target=send)
    worker.start()
    worker.join(30)
    monkeypatch.undo()
    assert closes
    [response] = answers
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Request-ID"]
    db.session.expire_all()
    assert db.session.get(Item, item.id).status != ItemStatus.SCHEDULED


@pytest.mark.parametrize("name", ["minutes.csv", "minutes.json"])
def test_a_streamed_export_with_the_database_gone_is_a_503_not_a_short_200(
    app: Flask, client: FlaskClient, name: str
):
    """The export runs its query before its first byte: a 200 cut after the header row would
    read as "no minutes" to a client that ignores a broken chunked stream (found by a probe)."""

    def gone(_conn, _cursor, statement, *_args) -> None:
        raise _disconnect(statement)

    sa.event.listen(db.engine, "before_cursor_execute", gone)
    try:
        response = client.get(f"/api/v1/{name}")
        body = response.get_data()  # the whole stream, as a client reads it
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", gone)
    assert response.status_code == 503, body[:200]
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == "database_unavailable"


# -- a request that waits too long for the database ---------------------------------------------


@contextmanager
def _tables_locked(engine_name: str, database_url: str) -> Iterator[None]:
    """Another transaction holds the items (PostgreSQL: ACCESS EXCLUSIVE on items; SQLite: the
    write lock) until the block ends, as a long restore or a stuck session would."""
    if engine_name == "postgresql":
        holder = sa.create_engine(database_url)
        with holder.connect() as conn, conn.begin():
            conn.exec_driver_sql("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
            yield
        holder.dispose()
    else:
        conn = sqlite3.connect(sa.make_url(database_url).database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()


def test_a_request_that_cannot_get_its_lock_answers_503_itself(
    app: Flask, engine_name: str, database_url: str
):
    """The app gives up after DATABASE_WAIT_SECONDS, well before gunicorn's worker timeout would
    kill the worker and answer with its own bare page (found by a probe: 500 after 30 s)."""
    secretariat = make_user(Role.SECRETARIAT)
    make_section("情報政策課")
    headers = _bearer(secretariat)
    busy_app = make_app(database_url, DATABASE_WAIT_SECONDS=1)
    client = busy_app.test_client()
    body = {"title": "待たされた案件", "section": "情報政策課"}
    with _tables_locked(engine_name, database_url):
        started = time.monotonic()
        response = client.post("/api/v1/items", json=body, headers=headers)
        waited = time.monotonic() - started
        reading = client.get("/api/v1/items", headers=headers)
    assert 1 <= waited < 10
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == {
        "code": "database_busy",
        "message": DB_BUSY,
        "details": {},
    }
    assert response.headers["Retry-After"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if engine_name == "postgresql":  # SQLite's readers do not wait for its writer (WAL)
        assert reading.status_code == 503
        assert reading.get_json()["error"]["code"] == "database_busy"
    else:
        assert reading.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(Item.title == "待たされた案件")) == 0
    db.session.rollback()  # SQLite: the test's own read must not hold the write lock
    assert client.post("/api/v1/items", json=body, headers=headers).status_code == 201
    with busy_app.app_context():
        db.session.remove()
        db.engine.dispose()


# -- a PDF that fails to render -------------------------------------------------------------------


def _meeting_state(meeting_id: int) -> tuple:
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting_id)
    state = (meeting.status, meeting.version, _count(PdfCache), _count(HistoryEvent))
    db.session.rollback()
    return state


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_pdf_that_fails_to_render_leaves_the_workflow_untouched(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
):
    meeting, secretariat = _confirmed()
    response = client.post(
        f"/api/v1/meetings/{meeting.id}/events/publish", headers=_bearer(secretariat)
    )
    assert response.status_code == 200
    state = _meeting_state(meeting.id)
    assert state[0] == MeetingStatus.PUBLISHED

    def fail(*_args, **_kwargs):
        raise PdfRenderError("url refused: http://example.invalid/x.css")

    monkeypatch.setattr(documents, "render_pdf", fail)
    response = client.get(f"/api/v1/meetings/{meeting.id}/minutes.pdf")
    assert response.status_code == 500
    assert response.get_json()["error"] == {
        "code": "pdf_failed",
        "message": PDF_FAILED,
        "details": {},
    }
    login(client, secretariat)
    response = client.get(f"/meetings/{meeting.id}/minutes.pdf")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert PDF_FAILED in response.get_data(as_text=True)
    assert _meeting_state(meeting.id) == state  # same status, version, no cache row, no history
    assert verify_chain().ok

    monkeypatch.undo()
    response = client.get(f"/meetings/{meeting.id}/minutes.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")


def test_an_unexpected_crash_is_a_japanese_500_without_traceback(
    database_url: str, app: Flask, monkeypatch: pytest.MonkeyPatch
):
    """What production does with a bug (the test apps let exceptions through, this one not)."""
    meeting, secretariat = _confirmed()
    headers = _bearer(secretariat)
    meeting_id, secretariat_id = meeting.id, secretariat.id
    db.session.rollback()  # on SQLite, even that read holds the write lock
    production_like = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    def crash(*_args, **_kwargs):
        raise RuntimeError("a bug in the renderer")

    monkeypatch.setattr(documents, "render_pdf", crash)
    with production_like.app_context():
        client = production_like.test_client()
        response = client.get(f"/api/v1/meetings/{meeting_id}/agenda.pdf", headers=headers)
        assert response.status_code == 500
        assert response.get_json()["error"]["code"] == "internal_error"
        login(client, db.session.get(User, secretariat_id))
        response = client.get(f"/meetings/{meeting_id}/agenda.pdf")
        page = response.get_data(as_text=True)
        assert response.status_code == 500
        assert SERVER_ERROR in page
        assert "RuntimeError" not in page
        assert "Traceback" not in page
        db.session.remove()
        db.engine.dispose()


def _stale(_session: Session) -> None:
    raise sa.orm.exc.StaleDataError("UPDATE meetings matched 0 rows: another request changed it")


@pytest.mark.parametrize(
    "error",
    [_stale, lambda _s: _raise_integrity()],
    ids=["stale_version", "unique_row_taken"],
)
def test_a_race_lost_on_a_page_is_a_japanese_409(app: Flask, client: FlaskClient, error):
    """A page's transaction can lose a race at flush (the API has its own handler): no 500."""
    meeting, secretariat = _confirmed()
    login(client, secretariat)
    before = _history_count()
    with _after_history_flush(error):
        response = client.post(f"/meetings/{meeting.id}/events/publish", data={"confirmed": "1"})
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert CONFLICT_MESSAGE in response.get_data(as_text=True)
    assert _history_count() == before
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.CONFIRMED


def _raise_integrity() -> None:
    raise sa.exc.IntegrityError("INSERT INTO agenda_entries", {}, Exception("duplicate key"))
