"""Request logs, request ids, and the health endpoints a load balancer asks.

- Every request is logged as one JSON line on stderr (logger ``chogi.requests``): UTC time,
  request id, method, path (no query string: it may hold what someone searched for), status,
  duration in milliseconds, and the user's id when someone is signed in or sent a token.
- The request id is the caller's ``X-Request-ID`` when it looks like one (a proxy's, say), else a
  new one; the response echoes it, and error pages show it, so a user's report finds its line.
- ``GET /healthz``: the process answers (no database), 200 ``{"status": "ok"}``.
- ``GET /readyz``: the database answers ``SELECT 1``, its schema is at the migrations' head, the
  PDF fonts are installed; 200, or 503 naming what is not ready. No sign-in needed for either.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin
from werkzeug.wrappers import Response

from workflow.extensions import db

request_log = logging.getLogger("chogi.requests")

# A caller's id is kept only if it is short and plain: it goes into logs and a response header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}")

bp = Blueprint("health", __name__)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (gunicorn and pytest both replace it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def lines_to_stderr(logger: logging.Logger) -> None:
    """Send *logger*'s messages (one JSON line each) to stderr, once per process, and not again
    through the root logger: the request log, the worker's job log."""
    if logger.handlers:
        return
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def log_time() -> str:
    """Now, as every log line stamps it: UTC to the millisecond, 「…Z」."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def init_app(app: Flask) -> None:
    """Request ids and logs for every request; /healthz and /readyz."""
    if app.config.get("REQUEST_LOG", True):
        lines_to_stderr(request_log)
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


def request_id() -> str:
    """This request's id (made on first use)."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-ID", "").strip()
        g.request_id = given if _SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    return g.request_id


def _start() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _user_id() -> int | None:
    """Who asked, if already known: never a database query just for the log."""
    user = g.get("api_user") or g.get("_login_user")
    # Not user.is_authenticated: it reads is_active, which reloads an expired row, and after the
    # commit the connection may be gone (an answer that was true would become a 500).
    if user is None or isinstance(user, AnonymousUserMixin):
        return None
    return user.__dict__.get("id")  # loaded attribute only; an expired row stays unasked


def _finish(response: Response) -> Response:
    rid = request_id()
    response.headers["X-Request-ID"] = rid
    started = g.get("request_started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else None
    record = {
        "time": log_time(),
        "request_id": rid,
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(duration, 1) if duration is not None else None,
        "user_id": _user_id(),
    }
    request_log.info(json.dumps(record, ensure_ascii=False))
    return response


# -- health ---------------------------------------------------------------------------------------


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive (no database: a database outage must not make it restart us)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Ready for traffic: database reachable, schema current, fonts installed."""
    checks = {
        "database": _check_database(),
        "migrations": None,
        "fonts": _check_fonts(),
    }
    if checks["database"] is None:
        checks["migrations"] = _check_migrations()
    else:
        checks["migrations"] = "データベースに接続できないため確かめられません。"
    problems = {name: reason for name, reason in checks.items() if reason is not None}
    body = {
        "status": "unavailable" if problems else "ok",
        "checks": {name: reason or "ok" for name, reason in checks.items()},
    }
    if problems:
        body["reason"] = "；".join(problems.values())
    response = jsonify(body)
    response.status_code = 503 if problems else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_database() -> str | None:
    try:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        current_app.logger.warning("readyz: database not reachable: %s", exc)
        return "データベースに接続できません。"
    return None


@functools.cache
def _migration_heads(directory: str) -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _check_migrations() -> str | None:
    directory = current_app.extensions["migrate"].directory
    try:
        with db.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:  # the database answered SELECT 1 a moment ago; say what we can
        current_app.logger.warning("readyz: migration state unreadable: %s", exc)
        return "データベースの構造の版を読めません。"
    if current != _migration_heads(directory):
        return "データベースの構造が最新ではありません（flask --app wsgi db upgrade が必要です）。"
    return None


_fonts_found = False  # fonts do not vanish from a running server: look until found once


def _check_fonts() -> str | None:
    global _fonts_found
    from workflow.pdf import fonts

    if _fonts_found:
        return None
    missing = []
    for font in fonts.FONTS:
        try:
            fonts.font_path(font)
        except fonts.FontMissingError:
            missing.append(font.label)
    if missing:
        return f"PDFの書体がありません: {'、'.join(missing)}"
    _fonts_found = True
    return None
