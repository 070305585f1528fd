"""The JSON API v1: a thin layer over the services for other city systems and acceptance tests.

Every error is ``{"error": {"code", "message", "details"}}`` with a Japanese message; never an
HTML page, never a 500 for bad input. Authentication is by bearer token only (CSRF-exempt).
"""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from workflow.api.common import bp
from workflow.errors import CONFLICT_MESSAGE, WorkflowError
from workflow.extensions import csrf, db
from workflow.files import is_upload_request, too_large_message
from workflow.schemas.errors import error_body

PREFIX = "/api/v1"

# Japanese messages for the HTTP errors Werkzeug raises before a view runs.
HTTP_MESSAGES = {
    400: ("bad_request", "リクエストの形式が正しくありません。"),
    404: ("not_found", "指定されたURLはありません。"),
    405: ("method_not_allowed", "このURLではその操作（HTTPメソッド）は使えません。"),
    413: ("payload_too_large", "リクエストの本文が大きすぎます（上限 2 MiB）。"),
    415: ("unsupported_media_type", "この形式の本文は受け付けません。"),
    500: ("internal_error", "サーバーで問題が起きました。時間をおいてもう一度お試しください。"),
}


def error_response(
    status: int, code: str, message: str, details: dict | None = None
) -> ResponseReturnValue:
    """The one error shape of the API."""
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    if status == 401:
        challenge = 'Bearer realm="chogi"'
        if g.get("invalid_token"):
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response


def _workflow_error(exc: WorkflowError) -> ResponseReturnValue:
    db.session.rollback()
    response = error_response(exc.http_status, exc.code, exc.message, exc.details)
    if retry_after := getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(retry_after)
    return response


def _lost_race(exc: Exception) -> ResponseReturnValue:
    db.session.rollback()
    current_app.logger.info("API write lost a race: %s", exc)
    return error_response(409, "conflict", CONFLICT_MESSAGE, {"reason": type(exc).__name__})


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    db.session.rollback()
    code, message = HTTP_MESSAGES.get(exc.code or 500, ("http_error", exc.name))
    if exc.code == 413 and is_upload_request(request):
        message = too_large_message()  # an upload's own limit (ATTACHMENT_MAX_MB)
    response = error_response(exc.code or 500, code, message)
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _for_api_paths(previous):
    """An app-wide handler: JSON under /api/v1 (routing errors have no blueprint), else as before."""

    def handler(exc: HTTPException) -> ResponseReturnValue:
        if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
            return _http_error(exc)
        return previous(exc) if previous is not None else exc

    return handler


# The blueprint is shared by every app made in the process: set it up once, at import.
bp.register_error_handler(WorkflowError, _workflow_error)
bp.register_error_handler(StaleDataError, _lost_race)
bp.register_error_handler(IntegrityError, _lost_race)
# By code, so they win over app-wide handlers of the same code that the pages register.
for _status in HTTP_MESSAGES:
    bp.register_error_handler(_status, _http_error)
bp.register_error_handler(HTTPException, _http_error)

from workflow.api import (  # noqa: E402, F401 (routes)
    admin,
    attachments,
    items,
    me,
    meetings,
    notices,
    open_data,
    openapi,
    pdfs,
    user_imports,
)


def init_app(app: Flask) -> None:
    """Register the /api/v1 blueprint, exempt from CSRF (bearer tokens, no cookies)."""
    csrf.exempt(bp)
    app.register_blueprint(bp)

    # 404/405 from routing happen before any blueprint is chosen: wrap the app's handlers.
    for status in (404, 405):
        spec = app.error_handler_spec[None].get(status, {})
        previous = next(iter(spec.values()), None)
        app.register_error_handler(status, _for_api_paths(previous))
