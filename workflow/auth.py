"""Sign-in: Flask-Login on top of server-side sessions, so that a logged-out cookie is dead.

Who may have a password checked, and when, is :mod:`workflow.sign_in_limits` (failures counted
in ``login_attempts``, the table every worker and app server shares: Flask-Limiter's default
memory storage is per worker, and a shared Redis would be one more server to run; the rows are
also the sign-in log an auditor asks for). A browser that signs in gets a device cookie
(:mod:`workflow.device_cookies`), so its owner is not locked out by someone else's guesses.

A user whose password an admin reset (``must_change_password``) is sent to the password page
(:mod:`workflow.views.account`) from every page until it is changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from workflow import credentials, sign_in_limits
from workflow.database import writing
from workflow.device_cookies import device_for, remember_device
from workflow.directory import DirectoryUnavailable
from workflow.extensions import db, login_manager
from workflow.forms.auth import LoginForm
from workflow.models import User, UserSession
from workflow.models._types import utcnow
from workflow.security import utc_now_text

log = logging.getLogger("workflow.auth")
P = ParamSpec("P")
R = TypeVar("R")


# Refresh last_seen_at at most this often: a write on every request would serialise readers.
_TOUCH_EVERY = timedelta(minutes=1)
# So last_seen_at may be up to a minute behind the last request, and an idle limit counted from it
# alone would end a session up to a minute early. The exact time of the browser's last request
# rides in its signed session cookie under this key (a client can neither forge it nor, by
# replaying an older cookie, gain anything), and the limit counts from the later of the two.
_SEEN_KEY = "_seen"


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "この画面を見るにはログインしてください。"
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session does this job
    app.add_url_rule("/login", "auth.login", login, methods=["GET", "POST"])
    app.add_url_rule("/logout", "auth.logout", logout, methods=["POST"])
    app.before_request(_password_change_first)


# What a user who must change the password may still reach: the page that changes it, logout,
# static files, the health checks, and the API (a token keeps working for scripts).
_BEFORE_PASSWORD_CHANGE = frozenset({"account.password", "auth.logout", "static"})
_BEFORE_PASSWORD_CHANGE_BLUEPRINTS = ("api.", "health.")


def _password_change_first() -> Response | None:
    """Send a user whose password was reset to the password page until it is changed."""
    endpoint = request.endpoint or ""
    if endpoint in _BEFORE_PASSWORD_CHANGE or endpoint.startswith(
        _BEFORE_PASSWORD_CHANGE_BLUEPRINTS
    ):
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("account.password"))
    return None


def start_session(user: User) -> None:
    """Sign *user* in with a fresh server-side session (a new token at every login)."""
    row = UserSession.start(user)
    db.session.add(row)
    db.session.flush()
    user.current_session = row
    login_user(user)


def end_session() -> None:
    """Revoke the current server-side session and clear the cookie's login."""
    if current_user.is_authenticated and current_user.current_session is not None:
        current_user.current_session.revoked_at = utcnow()
        db.session.commit()
    logout_user()


def session_is_live(row: UserSession, last_request: datetime | None = None) -> bool:
    """Not revoked, not idle too long, not older than the absolute limit.

    Idle time counts from *last_request* (the cookie's exact time) when it is later than the
    row's coarse ``last_seen_at``.
    """
    now = utcnow()
    cfg = current_app.config
    seen = row.last_seen_at if last_request is None else max(row.last_seen_at, last_request)
    return (
        row.revoked_at is None
        and row.user.active
        and now - seen <= timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])
        and now - row.created_at <= timedelta(minutes=cfg["SESSION_ABSOLUTE_MINUTES"])
    )


def _last_request() -> datetime | None:
    """When this browser last made a signed-in request, from its session cookie."""
    value = session.get(_SEEN_KEY)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    # Never later than now: another app server's clock may run a little ahead of this one's.
    return min(datetime.fromtimestamp(value, UTC), utcnow())


def not_extending_sign_in(view: Callable[P, R]) -> Callable[P, R]:
    """Mark a view whose requests do not count as the user's activity: the meeting room's draft,
    saved as the secretary types, must not keep an unattended sign-in alive past the idle limit."""
    view.not_extending_sign_in = True  # type: ignore[attr-defined]
    return view


def _extends_sign_in() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "not_extending_sign_in", False)


@login_manager.user_loader
def load_user(token: str) -> User | None:
    row = UserSession.by_token(token)
    if row is None or not session_is_live(row, _last_request()):
        return None
    if not _extends_sign_in():
        row.token = token
        row.user.current_session = row
        return row.user
    now = utcnow()
    if now - row.last_seen_at > _TOUCH_EVERY:
        writing()
        row.last_seen_at = now
        db.session.commit()
    session[_SEEN_KEY] = now.timestamp()
    row.token = token
    row.user.current_session = row
    return row.user


def _safe_next(target: str | None) -> str | None:
    """Only local paths: never redirect a user to another host after login.

    Browsers drop tabs and newlines inside a URL and read a backslash as ``/``, so ``/%09/evil``
    and ``/%5Cevil`` both mean ``//evil``: refuse whitespace, control characters and backslashes.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        login_id = form.login.data
        address = request.remote_addr or "unknown"
        attempt, wait = sign_in_limits.admit(login_id, address, device_for(login_id))
        if wait is not None:
            return _refused(form, login_id, address, wait)
        try:
            user = credentials.verify(login_id, form.password.data)
        except DirectoryUnavailable:
            # Not the user's mistake: say so, rather than "wrong password" (logged by directory),
            # and count it as no failure (no password was checked).
            db.session.rollback()
            attempt.refused = True
            db.session.commit()
            form.password.errors.append(DirectoryUnavailable.message)
            return render_template("auth/login.html", form=form), 503
        if user is not None:
            _clear_session_keys()
            attempt.success = True
            start_session(user)
            db.session.commit()
            log.info("login ok: %s from %s at=%s", user.login, address, utc_now_text())
            if user.must_change_password:
                target = url_for("account.password")
            else:
                target = _safe_next(request.args.get("next")) or url_for("main.index")
            response = redirect(target)
            remember_device(response, login_id)
            return response
        log.warning("login failed: %r from %s at=%s", login_id, address, utc_now_text())
        form.password.errors.append("ログインIDまたはパスワードが正しくありません。")
    return render_template("auth/login.html", form=form)


def _refused(form: LoginForm, login_id: str, address: str, wait: int) -> Response:
    """429 at once, saying when to try again; the password was not checked."""
    log.warning(
        "login refused (too many attempts): %r from %s at=%s", login_id, address, utc_now_text()
    )
    form.password.errors.append(sign_in_limits.too_many_attempts(wait))
    response = make_response(render_template("auth/login.html", form=form), 429)
    response.headers["Retry-After"] = str(wait)
    return response


@login_required
def logout() -> Response:
    end_session()
    _clear_session_keys()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))


def _clear_session_keys() -> None:
    """Drop everything from the signed cookie (CSRF token included) so nothing outlives a login."""
    session.clear()
