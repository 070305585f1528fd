"""Sign-in limits: per login ID and per address, counted in the database every worker shares."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.support import csrf_token, make_app, server_get, server_post_form
from workflow.extensions import db
from workflow.models import LoginAttempt, User, UserSession
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

PASSWORD = "correct-horse-battery"
TOO_MANY = "ログインの試行回数が上限に達しました。しばらくしてから"
BAD_CREDENTIALS = "ログインIDまたはパスワードが正しくありません。"


@pytest.fixture
def user(app: Flask) -> User:
    row = User(login="tanaka", display_name="田中 一郎", role=Role.VIEWER)
    row.set_password(PASSWORD)
    db.session.add(row)
    db.session.commit()
    return row


def login(client: FlaskClient, login: str = "tanaka", password: str = PASSWORD, addr=None):
    environ = {"REMOTE_ADDR": addr} if addr else {}
    return client.post("/login", data={"login": login, "password": password}, environ_base=environ)


def fail(client: FlaskClient, times: int, login_id: str = "tanaka", addr=None) -> None:
    for _ in range(times):
        response = login(client, login_id, "wrong-password-here", addr=addr)
        assert response.status_code == 200
        assert BAD_CREDENTIALS in response.get_data(as_text=True)


def attempts() -> list[LoginAttempt]:
    db.session.expire_all()
    return db.session.scalars(sa.select(LoginAttempt).order_by(LoginAttempt.id)).all()


def assert_refused(response) -> None:
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert TOO_MANY in html
    assert "15分" in html
    assert "Set-Cookie" not in response.headers or "session=" not in response.headers["Set-Cookie"]


def test_five_failures_for_an_account_then_even_the_right_password_waits(client, user):
    fail(client, 5)
    assert_refused(login(client))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0
    assert client.get("/").status_code == 302  # still signed out


def test_a_success_before_the_limit_starts_the_account_count_again(client, user):
    fail(client, 4)
    assert login(client).status_code == 302
    client.post("/logout")
    fail(client, 5)
    assert_refused(login(client))


def test_the_account_limit_does_not_touch_other_accounts(client, user):
    other = User(login="suzuki", display_name="鈴木", role=Role.VIEWER)
    other.set_password(PASSWORD)
    db.session.add(other)
    db.session.commit()
    fail(client, 5)
    assert_refused(login(client))
    assert login(client, "suzuki").status_code == 302


def test_the_window_passes_and_the_account_may_try_again(client, user):
    fail(client, 5)
    assert_refused(login(client))
    for row in attempts():
        row.at -= timedelta(minutes=16)
    db.session.commit()
    assert login(client).status_code == 302


def test_twenty_failures_from_one_address_over_many_accounts(client, user):
    for n in range(20):
        fail(client, 1, f"guess{n}", addr="192.0.2.7")
    assert_refused(login(client, addr="192.0.2.7"))
    # Another address is not held back by the first one's failures.
    assert login(client, addr="192.0.2.8").status_code == 302


def test_the_limits_come_from_the_configuration(app, client, user):
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 2
    fail(client, 2)
    assert_refused(login(client))


def test_the_count_is_shared_by_two_apps_on_one_database(database_url, user):
    """Two app instances (two workers, or two servers) on one database see the same attempts."""
    first, second = make_app(database_url), make_app(database_url)
    try:
        a, b = first.test_client(), second.test_client()
        for n in range(5):
            fail(a if n % 2 else b, 1)
        assert_refused(login(a))
        assert_refused(login(b))
    finally:
        for extra in (first, second):
            with extra.app_context():
                db.engine.dispose()


def test_every_attempt_is_a_row_of_the_sign_in_log(client, user):
    fail(client, 1, addr="192.0.2.1")
    login(client, addr="192.0.2.2")
    rows = attempts()
    assert [(r.login, r.address, r.success) for r in rows] == [
        ("tanaka", "192.0.2.1", False),
        ("tanaka", "192.0.2.2", True),
    ]
    assert all(r.at.utcoffset() == timedelta(0) for r in rows)


def test_every_attempt_is_logged_with_login_address_and_utc_time(client, user, caplog):
    caplog.set_level(logging.INFO, logger="workflow")
    fail(client, 1, addr="192.0.2.1")
    login(client, addr="192.0.2.2")
    client.post("/logout")
    fail(client, 5, addr="192.0.2.3")
    login(client, addr="192.0.2.3")
    messages = [r.getMessage() for r in caplog.records if r.name == "workflow.auth"]
    stamp = r"at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.fullmatch(rf"login failed: 'tanaka' from 192\.0\.2\.1 {stamp}", messages[0])
    assert re.fullmatch(rf"login ok: tanaka from 192\.0\.2\.2 {stamp}", messages[1])
    assert re.fullmatch(
        rf"login refused \(too many attempts\): 'tanaka' from 192\.0\.2\.3 {stamp}", messages[-1]
    )


def test_behind_a_trusted_proxy_the_client_address_counts(database_url, user):
    proxied = make_app(database_url, TRUSTED_PROXIES=1)
    try:
        client = proxied.test_client()
        client.post(
            "/login",
            data={"login": "tanaka", "password": "wrong-password-here"},
            headers={"X-Forwarded-For": "198.51.100.9"},
        )
        assert [r.address for r in attempts()] == ["198.51.100.9"]
    finally:
        with proxied.app_context():
            db.engine.dispose()


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client, user):
    client.post(
        "/login",
        data={"login": "tanaka", "password": "wrong-password-here"},
        headers={"X-Forwarded-For": "198.51.100.9"},
    )
    assert [r.address for r in attempts()] == ["127.0.0.1"]


@pytest.mark.parametrize("login_id", ["a\x00b", "x" * 65])
def test_unstorable_or_overlong_login_ids_are_refused_before_the_database(client, login_id):
    response = client.post("/login", data={"login": login_id, "password": "whatever-it-is"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "使用できない文字" in html or "64文字以内" in html
    assert attempts() == []


@pytest.mark.slow
def test_the_limit_holds_across_two_gunicorn_servers_racing(servers):
    """Twelve wrong passwords at once, through two real servers on one PostgreSQL: at most five
    are even checked (the limit is counted in the database, not in a worker's memory)."""
    user = User(login="raced", display_name="競合 太郎", role=Role.VIEWER)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    barrier = threading.Barrier(12, timeout=60)
    statuses: list[int] = []

    def attempt(server) -> None:
        jar: dict[str, str] = {}
        _, _, page = server_get(server, "/login", jar)
        form = {
            "login": "raced",
            "password": "wrong-password-here",
            "csrf_token": csrf_token(page),
        }
        barrier.wait()
        statuses.append(server_post_form(server, "/login", form, jar)[0])

    threads = [threading.Thread(target=attempt, args=(servers[n % 2],)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == 12
    assert set(statuses) <= {200, 429}
    assert 1 <= statuses.count(200) <= 5, statuses
    for server in servers:
        jar: dict[str, str] = {}
        _, _, page = server_get(server, "/login", jar)
        form = {"login": "raced", "password": PASSWORD, "csrf_token": csrf_token(page)}
        assert server_post_form(server, "/login", form, jar)[0] == 429
    failures = db.session.scalar(
        sa.select(sa.func.count()).where(
            LoginAttempt.login == "raced", LoginAttempt.success.is_(False)
        )
    )
    assert failures == 14  # every attempt is in the sign-in log, refused ones too
