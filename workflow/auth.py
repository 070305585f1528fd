"""Sign-in: Flask-Login on top of server-side sessions, so that a logged-out cookie is dead.

Sign-in is limited per login ID and per address (``LOGIN_FAILURES_PER_ACCOUNT`` /
``LOGIN_FAILURES_PER_ADDRESS`` failures in ``LOGIN_WINDOW_MINUTES``), counted in the
``login_attempts`` table. Why the database and not Flask-Limiter: its default memory storage is
per worker (two gunicorn workers let through twice the limit), and a shared Redis would be
one more server to run; the database is already shared by every worker and app server, works with
zero set-up on SQLite, and the same rows are the sign-in log an auditor asks for. Each attempt is
committed *before* the count is read, so concurrent attempts cannot all slip under the limit.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from workflow import credentials
from workflow.database import writing
from workflow.directory import DirectoryUnavailable
from workflow.extensions import db, login_manager
from workflow.forms.auth import LoginForm
from workflow.models import LoginAttempt, User, UserSession
from workflow.models._types import utcnow
from workflow.models.login_attempt import ADDRESS_MAX, LOGIN_MAX
from workflow.security import utc_now_text

log = logging.getLogger("workflow.auth")

TOO_MANY_ATTEMPTS = (
    "ログインの試行回数が上限に達しました。しばらくしてから（{minutes}分ほど後に）"
    "もう一度お試しください。"
)


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


@login_manager.user_loader
def load_user(token: str) -> User | None:
    row = UserSession.by_token(token)
    if row is None or not session_is_live(row, _last_request()):
        return None
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
        attempt = _record_attempt(form.login.data)
        if _over_the_limit(attempt):
            log.warning(
                "login refused (too many attempts): %r from %s at=%s",
                attempt.login,
                attempt.address,
                utc_now_text(),
            )
            minutes = current_app.config["LOGIN_WINDOW_MINUTES"]
            form.password.errors.append(TOO_MANY_ATTEMPTS.format(minutes=minutes))
            return render_template("auth/login.html", form=form), 429
        try:
            user = credentials.verify(form.login.data, form.password.data)
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
            log.info("login ok: %s from %s at=%s", user.login, attempt.address, utc_now_text())
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
        log.warning(
            "login failed: %r from %s at=%s", attempt.login, attempt.address, utc_now_text()
        )
        form.password.errors.append("ログインIDまたはパスワードが正しくありません。")
    return render_template("auth/login.html", form=form)


def _record_attempt(login_id: str) -> LoginAttempt:
    """Write the attempt (as a failure until it succeeds) and commit, so every worker counts it."""
    attempt = LoginAttempt(
        login=login_id[:LOGIN_MAX],
        address=(request.remote_addr or "unknown")[:ADDRESS_MAX],
        success=False,
        at=utcnow(),
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt


def _over_the_limit(attempt: LoginAttempt) -> bool:
    """More failures than allowed in the window, for this login ID or from this address.

    An account's count starts again after its last successful sign-in; an address's does not
    (one address trying many login IDs is the attack it stops).
    """
    cfg = current_app.config
    since = attempt.at - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.login == attempt.login, LoginAttempt.success.is_(True)
        )
    )
    account_since = max(since, last_success) if last_success else since
    failures = select(func.count()).where(LoginAttempt.success.is_(False))
    by_account = db.session.scalar(
        failures.where(LoginAttempt.login == attempt.login, LoginAttempt.at > account_since)
    )
    by_address = db.session.scalar(
        failures.where(LoginAttempt.address == attempt.address, LoginAttempt.at > since)
    )
    return (
        by_account > cfg["LOGIN_FAILURES_PER_ACCOUNT"]
        or by_address > cfg["LOGIN_FAILURES_PER_ADDRESS"]
    )


@login_required
def logout() -> Response:
    end_session()
    _clear_session_keys()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))


def _clear_session_keys() -> None:
    """Drop everything from the signed cookie (CSRF token included) so nothing outlives a login."""
    session.clear()
