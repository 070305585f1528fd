"""Faults outside the user's control, answered in one place: the database gone, a PDF not made.

A request that loses its database connection (the server restarted, the backend killed, the
network cut) rolls back whole and answers 503 with a Japanese message: JSON under /api/, a page
elsewhere. The pool pings each connection before use (``pool_pre_ping``), so the next request
gets a live one. A deadlock or serialisation failure that PostgreSQL resolves by aborting one
transaction is a lost race: 409, as for a stale version. A PDF that cannot be rendered touches
nothing: documents are rendered in GET requests, which write only the PDF cache.

What a failure says follows what was committed. Before the commit: "not saved". During COMMIT, the
connection lost: ``outcome_unknown`` (workflow.services.transaction). After it (the request goes
on reading to show its answer): "saved, but not shown". The request's session is closed here
too, before Flask-SQLAlchemy would: its rollback on a dead connection must not escape the app
and leave the WSGI server to answer with its own bare error page.

The pages shown here stand alone (templates/errors/unavailable.html): they must render without
the database, which base.html needs for the signed-in user.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, make_response, request
from flask.typing import ResponseReturnValue
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import InternalServerError

from workflow.errors import CONFLICT_MESSAGE, OutcomeUnknown
from workflow.extensions import db
from workflow.pdf.fonts import FontMissingError
from workflow.pdf.render import PdfRenderError

log = logging.getLogger(__name__)

DB_UNAVAILABLE = (
    "データベースに接続できないため、処理を完了できませんでした。この操作の内容は保存されていません。"
    "しばらくしてから、もう一度お試しください。"
)
# The database aborted one of two transactions in each other's way (a deadlock, a failed
# serialisation); a row changed first by someone else is CONFLICT_MESSAGE, as on the API.
LOST_RACE = (
    "ほかの操作と重なったため、処理を完了できませんでした。この操作の内容は保存されていません。"
    "画面を読み込み直してから、もう一度操作してください。"
)
PDF_FAILED = (
    "PDFを作成できませんでした。案件や会議の内容は変わっていません。"
    "時間をおいても解決しない場合は、システム管理者にお問い合わせください。"
)
SERVER_ERROR = (
    "サーバーで問題が起きたため、処理を完了できませんでした。この操作の内容は保存されていません。"
    "時間をおいても解決しない場合は、システム管理者にお問い合わせください。"
)

# The database was there but busy: a lock held too long by another transaction, a statement past
# the request's time (DATABASE_WAIT_SECONDS, workflow.database). Nothing was committed.
DB_BUSY = (
    "データベースがほかの処理で混み合っていて、待ちきれなかったため、処理を完了できませんでした。"
    "この操作の内容は保存されていません。しばらくしてから、もう一度お試しください。"
)
# SQLSTATEs of a wait that ran out: lock_not_available (lock_timeout), query_canceled
# (statement_timeout); SQLite's busy timeout says "database is locked".
_BUSY_STATES = {"55P03", "57014"}

# A failure after the request's change was committed (showing the answer needed the database).
SAVED_NOT_SHOWN = (
    "この操作は保存されました。ただし、データベースに接続できないため、結果を表示できませんでした。"
    "もう一度操作せずに、しばらくしてから画面を読み込み直してください。"
)

# The database could not be reached or did not answer in time (_database_error sorts them out).
_UNREACHABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)

# SQLSTATEs with which PostgreSQL aborts one of two transactions that got in each other's way.
_LOST_RACE_STATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def init_app(app: Flask) -> None:
    """Register the handlers (app-wide: they apply to the pages and the API alike)."""
    for error in _UNREACHABLE:
        app.register_error_handler(error, _database_error)
    app.register_error_handler(sa_exc.DBAPIError, _dbapi_error)
    # A race lost inside a page's transaction (the API's blueprint answers its own first).
    app.register_error_handler(StaleDataError, _lost_race)
    app.register_error_handler(sa_exc.IntegrityError, _lost_race)
    app.register_error_handler(PdfRenderError, _pdf_error)
    app.register_error_handler(FontMissingError, _pdf_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(OutcomeUnknown, _outcome_unknown)
    # Registered after db.init_app: teardown functions run last-registered first, so this closes
    # the session and Flask-SQLAlchemy's own teardown then finds nothing left to close.
    app.teardown_appcontext(_close_session)


def _close_session(_exc: BaseException | None) -> None:
    """Close the request's session; a rollback that fails on a lost connection is only logged.

    The answer is already made and true (a commit happened or it did not); an exception here
    would replace it with the WSGI server's bare 500 page.
    """
    try:
        db.session.remove()
    except Exception:
        log.warning("closing the database session failed; its connection is dropped", exc_info=True)
        db.session.registry.clear()


def _rollback() -> None:
    """End the request's transaction; with the connection gone this only discards it."""
    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        log.warning("rollback after a database error failed too", exc_info=True)
        _close_session(None)


def _committed() -> bool:
    """Did this request commit its change before the failure? (workflow.services.transaction)"""
    return bool(g.get("committed"))


def _is_api() -> bool:
    return request.path == "/api/v1" or request.path.startswith("/api/")


def _answer(status: int, code: str, title: str, message: str) -> ResponseReturnValue:
    if status >= 500 and _committed():
        # The change is in the database; only showing it failed. Never "not saved" then.
        code, title, message = "saved_not_shown", "保存しましたが表示できません", SAVED_NOT_SHOWN
    if _is_api():
        from workflow.api import error_response

        response = error_response(status, code, message)
    else:
        # Straight from the Jinja environment: Flask's context processors would load the
        # signed-in user (Flask-Login's does), which needs the database.
        html = current_app.jinja_env.get_template("errors/unavailable.html").render(
            code=status,
            title=title,
            message=message,
            request_id=g.get("request_id"),
        )
        response = make_response(html, status)
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def _sqlstate(error: sa_exc.DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def _busy(error: sa_exc.SQLAlchemyError) -> bool:
    if not isinstance(error, sa_exc.DBAPIError) or error.connection_invalidated:
        return False
    return _sqlstate(error) in _BUSY_STATES or "database is locked" in str(error.orig)


def _database_error(error: sa_exc.SQLAlchemyError) -> ResponseReturnValue:
    _rollback()
    if isinstance(error, sa_exc.DBAPIError) and _sqlstate(error) in _LOST_RACE_STATES:
        log.info("transaction aborted by the database (%s): %s", _sqlstate(error), error.orig)
        return _answer(409, "conflict", "ほかの操作と重なりました", LOST_RACE)
    if _busy(error):
        log.warning(
            "gave up waiting for the database during %s %s: %s",
            request.method,
            request.path,
            error.orig,
        )
        return _answer(503, "database_busy", "ただいま混み合っています", DB_BUSY)
    log.error("database unavailable during %s %s: %s", request.method, request.path, error)
    return _answer(503, "database_unavailable", "ただいま処理できません", DB_UNAVAILABLE)


def _outcome_unknown(error: OutcomeUnknown) -> ResponseReturnValue:
    """The connection was lost during COMMIT: say so, and to check before trying again."""
    _rollback()
    log.error(
        "outcome unknown: connection lost during COMMIT of %s %s", request.method, request.path
    )
    return _answer(error.http_status, error.code, "保存されたか確認できません", error.message)


def _lost_race(error: sa_exc.SQLAlchemyError) -> ResponseReturnValue:
    """Someone changed the same row first (stale version, or the same unique row): 409."""
    _rollback()
    log.info("lost a race during %s %s: %s", request.method, request.path, error)
    return _answer(409, "conflict", "ほかの人が先に更新しました", CONFLICT_MESSAGE)


def _dbapi_error(error: sa_exc.DBAPIError) -> ResponseReturnValue:
    """Other driver errors: a dropped connection is a 503; anything else is a bug (500)."""
    if error.connection_invalidated:
        return _database_error(error)
    _rollback()
    log.exception("database error during %s %s", request.method, request.path, exc_info=error)
    return _answer(500, "internal_error", "サーバーで問題が起きました", SERVER_ERROR)


def _pdf_error(error: Exception) -> ResponseReturnValue:
    _rollback()
    log.error("PDF not rendered for %s: %s", request.path, error)
    return _answer(500, "pdf_failed", "PDFを作成できませんでした", PDF_FAILED)


def _server_error(error: InternalServerError) -> ResponseReturnValue:
    """An unexpected exception (production; tests let it propagate): Japanese, no traceback.

    A database error raised while another error was being answered (a 404 page for a signed-in
    user loads the user) reaches Flask as this 500: it is the database's 503 all the same.
    """
    original = getattr(error, "original_exception", None)
    if isinstance(original, _UNREACHABLE):
        return _database_error(original)
    _rollback()  # Flask has logged the exception with its traceback already
    return _answer(500, "internal_error", "サーバーで問題が起きました", SERVER_ERROR)
