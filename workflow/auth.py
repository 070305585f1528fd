"""Sign-in: Flask-Login on top of server-side sessions, so that a logged-out cookie is dead."""

from __future__ import annotations

import secrets
from datetime import timedelta
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
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from workflow.extensions import db, login_manager
from workflow.forms.auth import LoginForm
from workflow.models import User, UserSession
from workflow.models._types import utcnow

# Compared against when the login ID is unknown; its password is random and thrown away.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))

# Refresh last_seen_at at most this often: a write on every request would serialise readers.
_TOUCH_EVERY = timedelta(minutes=1)


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


def session_is_live(row: UserSession) -> bool:
    """Not revoked, not idle too long, not older than the absolute limit."""
    now = utcnow()
    cfg = current_app.config
    return (
        row.revoked_at is None
        and row.user.active
        and now - row.last_seen_at <= timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])
        and now - row.created_at <= timedelta(minutes=cfg["SESSION_ABSOLUTE_MINUTES"])
    )


@login_manager.user_loader
def load_user(token: str) -> User | None:
    row = UserSession.by_token(token)
    if row is None or not session_is_live(row):
        return None
    if utcnow() - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = utcnow()
        db.session.commit()
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


def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.login == form.login.data))
        if user is None:
            # Hash anyway, so the response time does not tell which login IDs exist.
            check_password_hash(_DUMMY_HASH, form.password.data)
        elif user.active and user.check_password(form.password.data):
            _clear_session_keys()
            start_session(user)
            db.session.commit()
            current_app.logger.info("login ok: %s from %s", user.login, request.remote_addr)
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
        current_app.logger.warning("login failed: %r from %s", form.login.data, request.remote_addr)
        form.password.errors.append("ログインIDまたはパスワードが正しくありません。")
    return render_template("auth/login.html", form=form)


@login_required
def logout() -> Response:
    end_session()
    _clear_session_keys()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))


def _clear_session_keys() -> None:
    """Drop everything from the signed cookie (CSRF token included) so nothing outlives a login."""
    session.clear()
