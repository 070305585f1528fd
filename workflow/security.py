"""Security headers on every response, and a log line for every refused access.

Why a small ``after_request`` and not Flask-Talisman (1.1.0, no release since August 2023): the
headers here are fixed strings, and what Talisman adds on top is what this app must not have —
it redirects plain HTTP to HTTPS by default (the tests and ``make run`` serve plain HTTP),
rewrites ``SESSION_COOKIE_*`` settings that :mod:`workflow.config` already owns, still sends the
deprecated ``X-XSS-Protection``, and decides on HSTS from a client-supplied
``X-Forwarded-Proto``. Its real strengths (per-view policies, script nonces) are unused: the
pages have no inline script or style at all, so one policy fits every page.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_content_length

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

from workflow.schemas.limits import ID_MAX

log = logging.getLogger("workflow.security")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# Two years, the HSTS preload list's own minimum; sent only when the app is served over HTTPS.
HSTS = "max-age=63072000; includeSubDomains"
# No row id goes past a 32-bit integer; PostgreSQL answers a larger one with an error, not "none".
MAX_ID = ID_MAX


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every URL: ASCII digits, 0 to 2³¹−1, so /items/99999999999 is a 404, not
    a 500, and /items/１ a 404 like any unknown id."""

    # Werkzeug's ``\d`` matches every Unicode digit (full-width １, Arabic-Indic ٣) and int()
    # reads them all: one item would answer to many URLs.
    regex = "[0-9]+"

    def __init__(
        self,
        map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


def init_app(app: Flask) -> None:
    """Add the headers and the refused-access log; trust proxies only as configured."""
    # Sign-ins and refusals go to stderr (gunicorn's error log) through Flask's handler on the
    # "workflow" logger, made on first use of app.logger; INFO, so successful sign-ins are kept.
    _ = app.logger
    for name in ("workflow.auth", "workflow.security"):
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.INFO)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.wsgi_app = SizeUnsizedBodies(app.wsgi_app, app)
    app.before_request(_refuse_nul_in_query)
    app.after_request(_secure_headers)
    app.after_request(_log_refusal)
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        # Behind a reverse proxy every request comes from the proxy's address: take the client's
        # from X-Forwarded-For, or the per-address sign-in limit would count the whole city as one.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


class SizeUnsizedBodies:
    """Give a body sent without ``Content-Length`` (chunked) its length, so the limit holds.

    Werkzeug checks ``MAX_CONTENT_LENGTH`` against ``Content-Length``; a chunked body it only reads
    up to the limit and hands over what it read, as if the body ended there: a valid JSON prefix
    of a larger body would be parsed and saved. Here such a body is read (never more than one byte
    past the limit) and given its length, so Werkzeug answers 413 through the app's own handlers
    (JSON under /api/, the Japanese page elsewhere) the moment a view reads it, as for any other
    body over the limit.
    """

    def __init__(self, wsgi_app: WSGIApplication, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse):
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        # Without wsgi.input_terminated the server does not end the stream, and Werkzeug reads
        # no body at all: nothing to size.
        if (
            limit is not None
            and environ.get("wsgi.input_terminated")
            and get_content_length(environ) is None
            and not self._takes_upload(environ)
        ):
            body = _read_at_most(environ["wsgi.input"], limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            # The body is no longer chunked for the app: Werkzeug ignores the length otherwise.
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)

    def _takes_upload(self, environ: WSGIEnvironment) -> bool:
        return _takes_upload_view(self.app, environ)


def _takes_upload_view(app: Flask, environ: WSGIEnvironment) -> bool:
    """A view marked ``accepts_upload`` (workflow.files): a multipart body up to its own limit.

    Werkzeug reads an unsized body there through a stream that answers 413 past the limit rather
    than ending early, and a cut multipart body is no valid prefix: nothing to size, and reading
    it here would hold the whole file in memory.
    """
    try:
        endpoint, _args = app.url_map.bind_to_environ(environ).match(
            method=environ.get("REQUEST_METHOD")
        )
    except HTTPException:
        return False
    return bool(getattr(app.view_functions.get(endpoint), "accepts_upload", False))


def _read_at_most(stream, size: int) -> bytes:
    """Up to *size* bytes of *stream*, fewer only where it ends (a read may return less)."""
    chunks = []
    while size > 0:
        chunk = stream.read(min(size, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _refuse_nul_in_query() -> None:
    """NUL is never part of a search or a filter, and PostgreSQL cannot compare strings with it:
    a 400 (Japanese page, or the API's JSON error) before any view puts it in a query."""
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        abort(400)


def _secure_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if _depends_on_who_asks():
        # What a signed-in user or a token's user is shown must stay out of every cache, the
        # browser's included (a shared computer's back button). A view that chose its own policy
        # keeps it: PDFs send "private, no-cache" so their ETag still saves a download.
        response.headers.setdefault("Cache-Control", "no-store")
    if _served_over_https():
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _depends_on_who_asks() -> bool:
    """An API token's user, or a signed-in user whom the view looked at, made this answer.

    Flask-Login keeps the user it loaded in ``g._login_user``; a response that never asked
    (a static file, an anonymous public page) has none, or the anonymous user.
    """
    if g.get("api_user") is not None:
        return True
    user = g.get("_login_user")
    return user is not None and user.is_authenticated


def _served_over_https() -> bool:
    return bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def utc_now_text() -> str:
    """The current time in UTC, as the logs write it (whatever the server's time zone)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _who() -> str:
    """The login of whoever asked: API token's user, signed-in user, or anonymous."""
    user = g.get("api_user")
    if user is None and request.blueprint != "api" and current_user.is_authenticated:
        user = current_user
    return user.login if user is not None else "anonymous"


def _log_refusal(response: Response) -> Response:
    if response.status_code in (401, 403):
        log.warning(
            "access refused: %s %s %s user=%s address=%s at=%s",
            response.status_code,
            request.method,
            request.path,
            _who(),
            request.remote_addr,
            utc_now_text(),
        )
    return response
