"""Signing in and out: server-side sessions, so a cookie dies with logout or timeout."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.support import make_app
from workflow.extensions import db
from workflow.models import User, UserSession
from workflow.models._types import utcnow
from workflow.models.user import hash_token
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

PASSWORD = "correct-horse-battery"
BAD_CREDENTIALS = "ログインIDまたはパスワードが正しくありません。"


@pytest.fixture
def user(app: Flask) -> User:
    row = User(login="tanaka", display_name="田中 一郎", role=Role.VIEWER)
    row.set_password(PASSWORD)
    db.session.add(row)
    db.session.commit()
    return row


def login(client: FlaskClient, login: str = "tanaka", password: str = PASSWORD, **kw):
    return client.post(
        kw.pop("url", "/login"), data={"login": login, "password": password, **kw.pop("data", {})}
    )


def is_signed_in(client: FlaskClient) -> bool:
    response = client.get("/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.location.startswith("/login")
    return False


def sessions() -> list[UserSession]:
    db.session.expire_all()
    return db.session.scalars(sa.select(UserSession).order_by(UserSession.id)).all()


def cookie_token(app: Flask, client: FlaskClient) -> str:
    """The per-login token inside the signed session cookie (what Flask-Login calls the user id)."""
    cookie = client.get_cookie("session")
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)["_user_id"]


def csrf_token_from(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


# -- the login page -----------------------------------------------------------------------------


def test_login_page_is_in_japanese(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="ja">' in page
    for text in ("<h1>ログイン</h1>", "ログインID", "パスワード", 'value="ログイン"'):
        assert text in page


def test_pages_need_a_login_and_say_so_in_japanese(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.location == "/login?next=%2F"
    assert "この画面を見るにはログインしてください。" in client.get(response.location).get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("login_id", "password"),
    [("tanaka", "wrong-password-123"), ("nobody", PASSWORD), ("TANAKA", PASSWORD)],
    ids=["wrong-password", "unknown-login", "login-is-case-sensitive"],
)
def test_bad_credentials_are_refused_in_japanese(client, user, login_id, password):
    response = login(client, login_id, password)
    assert response.status_code == 200
    assert BAD_CREDENTIALS in response.get_data(as_text=True)
    assert sessions() == []
    assert not is_signed_in(client)


def test_empty_fields_get_japanese_messages(client, user):
    page = login(client, "", "").get_data(as_text=True)
    assert "ログインIDを入力してください。" in page
    assert "パスワードを入力してください。" in page
    assert sessions() == []


def test_an_inactive_user_cannot_sign_in(client, user):
    user.active = False
    db.session.commit()
    assert BAD_CREDENTIALS in login(client).get_data(as_text=True)
    assert sessions() == []


def test_login_redirects_home_and_opens_a_server_side_session(app, client, user):
    response = login(client)
    assert response.status_code == 302
    assert response.location == "/"
    assert "田中 一郎さん" in client.get("/").get_data(as_text=True)
    [row] = sessions()
    assert row.user_id == user.id
    assert row.revoked_at is None
    # The cookie carries a random token; the database only its hash; the user id is in neither.
    token = cookie_token(app, client)
    assert row.token_hash == hash_token(token)
    assert token != str(user.id)


def test_login_follows_a_local_next(client, user):
    response = login(client, url="/login?next=/%3Fpage%3D2")
    assert response.location == "/?page=2"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/%5Cevil.example",
        "/%09/evil.example",
        "/%0A/evil.example",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
    ],
)
def test_login_refuses_to_redirect_to_another_site(client, user, target):
    response = login(client, url=f"/login?next={target}")
    assert response.status_code == 302
    assert response.location == "/"


def test_a_signed_in_user_visiting_login_goes_home(client, user):
    login(client)
    response = client.get("/login")
    assert response.status_code == 302
    assert response.location == "/"


# -- logout and the life of a session -----------------------------------------------------------


def test_logout_revokes_the_session_and_the_old_cookie_is_dead(app, client, user):
    login(client)
    stolen = client.get_cookie("session").value
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.location == "/login"
    assert "ログアウトしました。" in client.get("/login").get_data(as_text=True)
    [row] = sessions()
    assert row.revoked_at is not None
    assert not is_signed_in(client)

    replay = app.test_client()
    replay.set_cookie("session", stolen, domain="localhost")
    assert not is_signed_in(replay)


def test_each_login_gets_a_new_token(app, user):
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    assert cookie_token(app, first) != cookie_token(app, second)
    assert len({row.token_hash for row in sessions()}) == 2
    # Signing out on one device leaves the other signed in.
    first.post("/logout")
    assert not is_signed_in(first)
    assert is_signed_in(second)


def test_login_again_after_logout_gets_a_new_token(app, client, user):
    login(client)
    old = cookie_token(app, client)
    client.post("/logout")
    login(client)
    assert cookie_token(app, client) != old
    assert is_signed_in(client)


def _age_session(**changes: timedelta) -> None:
    [row] = sessions()
    for column, age in changes.items():
        setattr(row, column, utcnow() - age)
    db.session.commit()


def test_an_idle_session_ends(client, user):
    login(client)
    _age_session(last_seen_at=timedelta(minutes=61))  # SESSION_IDLE_MINUTES defaults to 60
    assert not is_signed_in(client)


def test_a_session_in_use_stays_alive_and_is_touched(client, user):
    login(client)
    _age_session(last_seen_at=timedelta(minutes=59))
    assert is_signed_in(client)
    [row] = sessions()
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


class Clock:
    """workflow.auth's idea of now, moved by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(utcnow())
    monkeypatch.setattr("workflow.auth.utcnow", clock)
    return clock


@pytest.mark.parametrize(
    ("idle", "signed_in"),
    [
        (timedelta(minutes=60) - timedelta(seconds=1), True),
        (timedelta(minutes=60, seconds=1), False),
    ],
    ids=["a second before the limit", "a second after it"],
)
def test_the_idle_limit_counts_from_the_last_request_exactly(client, user, clock, idle, signed_in):
    """last_seen_at is written at most once a minute; the limit still counts from the last request."""
    login(client)
    [row] = sessions()
    clock.now = row.last_seen_at + timedelta(seconds=50)
    assert is_signed_in(client)  # too soon after sign-in to write last_seen_at again
    [row] = sessions()
    assert clock.now - row.last_seen_at == timedelta(seconds=50)
    clock.now += idle  # 60 minutes idle (SESSION_IDLE_MINUTES), give or take a second
    assert is_signed_in(client) is signed_in


def test_an_old_session_ends_even_when_in_use(client, user):
    login(client)
    _age_session(created_at=timedelta(minutes=721), last_seen_at=timedelta(0))  # absolute: 720
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    "age",
    [
        {"last_seen_at": timedelta(minutes=6)},
        {"created_at": timedelta(minutes=31), "last_seen_at": timedelta(0)},
    ],
    ids=["idle", "absolute"],
)
def test_timeouts_come_from_the_configuration(app, client, user, age):
    """Well inside the defaults (60/720 minutes), past the configured 5/30."""
    app.config.update(SESSION_IDLE_MINUTES=5, SESSION_ABSOLUTE_MINUTES=30)
    login(client)
    _age_session(**age)
    assert not is_signed_in(client)


def test_deactivating_a_user_ends_their_sessions(client, user):
    login(client)
    user.active = False
    db.session.commit()
    assert not is_signed_in(client)


# -- cookies and CSRF ---------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_and_samesite_lax(client, user):
    cookie = login(client).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP unless CHOGI_HTTPS is set


def test_the_session_cookie_is_secure_behind_https(database_url, user, monkeypatch):
    monkeypatch.setenv("CHOGI_HTTPS", "1")
    https_app = make_app(database_url)
    try:
        assert https_app.config["SESSION_COOKIE_SECURE"] is True
        client = https_app.test_client()
        cookie = login(client, url="https://localhost/login").headers["Set-Cookie"]
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
    finally:
        with https_app.app_context():
            db.engine.dispose()


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def test_login_without_csrf_token_is_refused(csrf_app, client, user):
    response = login(client)
    assert response.status_code == 400
    assert sessions() == []
    assert not is_signed_in(client)


def test_login_with_csrf_token_works(csrf_app, client, user):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = login(client, data={"csrf_token": token})
    assert response.status_code == 302
    assert is_signed_in(client)


def test_logout_without_csrf_token_is_refused(csrf_app, client, user):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    login(client, data={"csrf_token": token})
    home = client.get("/").get_data(as_text=True)

    assert client.post("/logout").status_code == 400
    [row] = sessions()
    assert row.revoked_at is None
    assert is_signed_in(client)

    # The form on every page carries the token, and with it logout works.
    response = client.post("/logout", data={"csrf_token": csrf_token_from(home)})
    assert response.status_code == 302
    assert sessions()[0].revoked_at is not None
    assert not is_signed_in(client)


def test_a_token_from_an_earlier_sign_in_is_refused(csrf_app, client, user):
    """A sign-in starts a new CSRF token: a page kept from the one before cannot post."""
    login(client, data={"csrf_token": csrf_token_from(client.get("/login").get_data(as_text=True))})
    old_token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": old_token})
    login(client, data={"csrf_token": csrf_token_from(client.get("/login").get_data(as_text=True))})
    new_token = csrf_token_from(client.get("/").get_data(as_text=True))

    assert new_token != old_token
    assert client.post("/logout", data={"csrf_token": old_token}).status_code == 400
    assert is_signed_in(client)
    assert client.post("/logout", data={"csrf_token": new_token}).status_code == 302
    assert not is_signed_in(client)
