"""Sign-in limits: per login ID and address, per address, per device cookie and per account for
unknown browsers, counted in the database every worker shares (workflow.sign_in_limits)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from tests.factories import make_user
from tests.support import (
    Server,
    csrf_token,
    make_app,
    server_get,
    server_post_form,
    start_server,
    stop_server,
    wait_ready,
)
from workflow import sign_in_limits
from workflow.device_cookies import COOKIE
from workflow.extensions import db
from workflow.models import LoginAttempt, User, UserSession
from workflow.models._types import utcnow
from workflow.queries.sign_in import accounts_under_attack
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


def assert_refused(response, minutes: int = 15) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= minutes * 60
    html = response.get_data(as_text=True)
    assert TOO_MANY in html
    assert f"{minutes}分" in html
    # No session is given (an emptied one may be cleared), nor a device cookie.
    for cookie in response.headers.getlist("Set-Cookie"):
        assert cookie.startswith("session=;"), cookie


def test_five_failures_from_one_address_then_even_the_right_password_waits_there(client, user):
    fail(client, 5)
    assert_refused(login(client))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0
    assert client.get("/").status_code == 302  # still signed out
    # Only that pair: the same account from another address is not held back.
    assert login(client, addr="192.0.2.50").status_code == 302


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
    client.post("/logout")
    fail(client, 1, addr="192.0.2.3")  # the browser signed in before: its device is named
    rows = attempts()
    assert [(r.login, r.address, r.success, r.refused) for r in rows] == [
        ("tanaka", "192.0.2.1", False, False),
        ("tanaka", "192.0.2.2", True, False),
        ("tanaka", "192.0.2.3", False, False),
    ]
    assert [r.device for r in rows[:2]] == [None, None]
    assert rows[2].device
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


def test_two_attempts_counted_at_once_take_turns(app, user, monkeypatch):
    """With a limit of one, the second of two attempts counted at the same moment waits for the
    first one's row, and is refused: neither slips under the limit while the other is counted."""
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 1
    count = sign_in_limits.seconds_to_wait

    def slow_count(*args):
        wait = count(*args)
        time.sleep(0.5)  # between the count and the row: where a race would slip through
        return wait

    monkeypatch.setattr(sign_in_limits, "seconds_to_wait", slow_count)
    waits: list[int | None] = []

    def attempt() -> None:
        with app.app_context():
            waits.append(sign_in_limits.admit("tanaka", "192.0.2.1", None)[1])
            db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join(30)
    assert len(waits) == 2
    assert waits[0] is None
    assert waits[1] is not None
    assert [r.refused for r in attempts()] == [False, True]


@pytest.mark.slow
def test_the_limit_holds_across_two_gunicorn_servers_racing(servers):
    """Twelve wrong passwords at once, through two real servers on one PostgreSQL: exactly five
    are checked (the limit is counted in the database, not in a worker's memory, and attempts on
    one account take turns to be counted)."""
    race(servers)


@pytest.mark.slow
def test_the_limit_holds_across_two_workers_racing(two_workers):
    """The same through one server's two worker processes, on either engine."""
    race([two_workers, two_workers])


def race(servers: list[Server]) -> None:
    """Twelve wrong passwords for one account at once, alternately through *servers*: five are
    checked, seven refused; then the right password is refused too, and nothing was counted
    twice."""
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
    assert statuses.count(200) == 5, statuses  # the five the limit allows, not one more
    for server in servers:
        jar: dict[str, str] = {}
        _, _, page = server_get(server, "/login", jar)
        form = {"login": "raced", "password": PASSWORD, "csrf_token": csrf_token(page)}
        assert server_post_form(server, "/login", form, jar)[0] == 429
    db.session.expire_all()
    logged = db.session.execute(
        sa.select(LoginAttempt.refused, sa.func.count())
        .where(LoginAttempt.login == "raced", LoginAttempt.success.is_(False))
        .group_by(LoginAttempt.refused)
    ).all()
    # Every attempt is in the sign-in log; the refused ones were never checked nor counted.
    assert dict(logged) == {False: 5, True: 9}


# -- device cookies, the untrusted limit, refusals that do not count -----------------------------


def signed_in_before(app: Flask, addr: str = "198.51.100.1") -> FlaskClient:
    """A browser that signed in as tanaka before (so it holds a device cookie), signed out."""
    browser = app.test_client()
    assert login(browser, addr=addr).status_code == 302
    browser.post("/logout")
    assert browser.get_cookie(COOKIE, path="/login") is not None
    return browser


def attack_from_three_addresses(client: FlaskClient, failures: int = 10) -> None:
    """*failures* wrong passwords for tanaka spread over three addresses: under the limit of each
    (account, address) pair, enough for the account's limit of unknown browsers."""
    for n in range(failures):
        fail(client, 1, addr=f"203.0.113.{n % 3 + 1}")


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def test_the_owners_known_browser_signs_in_while_an_attacker_hammers_the_account(app, client, user):
    owner = signed_in_before(app)
    attack_from_three_addresses(client)
    for _ in range(30):
        assert_refused(login(client, password="wrong-password-here", addr="203.0.113.1"))
    # From another address than last time: the device cookie, not the address, vouches for it.
    response = login(owner, addr="198.51.100.2")
    assert response.status_code == 302
    assert response.location == "/"


def test_an_unknown_browser_is_refused_after_the_untrusted_limit_from_any_address(
    app, client, user
):
    attack_from_three_addresses(client, failures=9)
    stranger = app.test_client()
    assert login(stranger, addr="198.51.100.77").status_code == 302  # nine: not yet
    fail(client, 1, addr="203.0.113.9")
    response = login(app.test_client(), addr="198.51.100.78")
    assert_refused(response)
    assert 880 < retry_after(response) <= 900
    assert [r.refused for r in attempts()][-1] is True


def test_a_refusal_says_when_to_come_back_and_is_never_counted(client, user):
    fail(client, 5)
    for _ in range(20):
        response = login(client, password="wrong-password-here")
        assert_refused(response)
    rows = attempts()
    assert [r.refused for r in rows] == [False] * 5 + [True] * 20
    # Retry-After: until the oldest of the five counted failures leaves the 15 minutes.
    rows[0].at -= timedelta(minutes=10)
    db.session.commit()
    response = login(client)
    assert_refused(response, minutes=5)
    assert 295 <= retry_after(response) <= 300
    # The twenty refusals are recent, but only the failures counted: one leaves, and the owner
    # is let in at once.
    rows[0].at -= timedelta(minutes=6)
    db.session.commit()
    assert login(client).status_code == 302


def test_an_admins_unlock_clears_the_account(app, client, user):
    fail(client, 5, addr="203.0.113.10")
    attack_from_three_addresses(client, failures=5)
    assert_refused(login(app.test_client(), addr="198.51.100.78"))
    assert_refused(login(app.test_client(), addr="203.0.113.10"))
    user.unlocked_at = utcnow()
    db.session.commit()
    assert login(app.test_client(), addr="198.51.100.78").status_code == 302
    assert login(app.test_client(), addr="203.0.113.10").status_code == 302


def test_a_known_browser_is_not_held_back_by_its_address(app, client, user):
    """Twenty failures over many accounts from one address (a shared office NAT): an unknown
    browser there waits, the owner's known browser there does not."""
    owner = signed_in_before(app, addr="192.0.2.7")
    for n in range(20):
        fail(client, 1, f"guess{n}", addr="192.0.2.7")
    assert_refused(login(app.test_client(), addr="192.0.2.7"))
    assert login(owner, addr="192.0.2.7").status_code == 302


def test_a_known_browser_has_its_own_limit(app, client, user):
    owner = signed_in_before(app)
    other_browser = signed_in_before(app)
    fail(owner, 5, addr="198.51.100.1")
    response = login(owner, addr="198.51.100.1")
    assert_refused(response)
    assert 880 < retry_after(response) <= 900
    assert all(r.device for r in attempts() if not r.success)
    # That device only: the owner's other browser, and an unknown browser elsewhere, sign in.
    assert login(other_browser, addr="198.51.100.1").status_code == 302
    assert login(client, addr="198.51.100.9").status_code == 302


def test_a_new_sign_in_gives_the_browser_a_new_device(app, user):
    owner = signed_in_before(app)
    fail(owner, 4)
    first_device = attempts()[-1].device
    assert login(owner).status_code == 302
    owner.post("/logout")
    fail(owner, 4)  # a fresh count: four plus four would be over the limit of five
    assert attempts()[-1].device not in (None, first_device)
    assert login(owner).status_code == 302


def other_key_cookie(login_id: str) -> str:
    forged = URLSafeSerializer("not-the-apps-secret-key-at-all-32chars", salt="chogi.device-cookie")
    return forged.dumps([[login_id, "forged-nonce", int(time.time())]])


@pytest.mark.parametrize("kind", ["other login", "other key", "garbage"])
def test_a_forged_or_another_logins_device_cookie_is_ignored(app, client, user, kind):
    other = User(login="suzuki", display_name="鈴木", role=Role.VIEWER)
    other.set_password(PASSWORD)
    db.session.add(other)
    db.session.commit()
    browser = app.test_client()
    if kind == "other login":
        assert login(browser, "suzuki", addr="198.51.100.5").status_code == 302
        browser.post("/logout")
    else:
        value = other_key_cookie("tanaka") if kind == "other key" else "tanaka.garbage"
        browser.set_cookie(COOKIE, value, path="/login")
    attack_from_three_addresses(client)
    assert_refused(login(browser, addr="198.51.100.5"))
    assert [r.device for r in attempts() if r.login == "tanaka"] == [None] * 11


def test_the_device_cookie_is_signed_httponly_lax_and_only_for_the_sign_in_page(client, user):
    response = login(client)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE + "=")]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/login" in cookie
    assert f"Max-Age={365 * 24 * 60 * 60}" in cookie
    assert "Secure" not in cookie  # as the session cookie: plain HTTP unless CHOGI_HTTPS is set
    assert "tanaka" not in cookie or "." in cookie  # signed (itsdangerous: payload.signature)


def test_the_device_cookie_is_secure_behind_https(database_url, user, monkeypatch):
    monkeypatch.setenv("CHOGI_HTTPS", "1")
    https_app = make_app(database_url)
    try:
        response = https_app.test_client().post(
            "https://localhost/login", data={"login": "tanaka", "password": PASSWORD}
        )
        [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE + "=")]
        assert "Secure" in cookie
    finally:
        with https_app.app_context():
            db.engine.dispose()


# -- the admin's view ----------------------------------------------------------------------------


def test_accounts_under_attack(app, client, user):
    attack_from_three_addresses(client)
    fail(client, 2, "ghost", addr="203.0.113.50")
    old = LoginAttempt(login="ghost", address="203.0.113.51", success=False)
    old.at = utcnow() - timedelta(minutes=20)  # out of the window
    db.session.add(old)
    db.session.commit()
    login(client, addr="203.0.113.1")  # refused: neither a failure nor a success
    [tanaka, ghost] = accounts_under_attack()
    assert (tanaka.login, tanaka.failures, tanaka.addresses, tanaka.locked, tanaka.user_id) == (
        "tanaka",
        10,
        3,
        True,
        user.id,
    )
    assert (ghost.login, ghost.failures, ghost.addresses, ghost.locked, ghost.user_id) == (
        "ghost",
        2,
        1,
        False,
        None,
    )
    assert tanaka.last_at == max(r.at for r in attempts() if r.login == "tanaka" and not r.refused)
    user.unlocked_at = utcnow()
    db.session.commit()
    assert [row.login for row in accounts_under_attack()] == ["ghost"]


# -- issue 18's done-when, through a real server with two workers ---------------------------------


@pytest.fixture
def two_workers(app, database_url: str, tmp_path) -> Iterator[Server]:
    """One gunicorn server with two worker processes on the suite's database, either engine."""
    db.session.commit()
    server = start_server(database_url, tmp_path / "server.log", workers=2)
    try:
        wait_ready(server)
        yield server
    finally:
        stop_server(server)


@dataclass
class Answer:
    status: int
    headers: dict
    started: float
    seconds: float  # the slower of the page's GET and the form's POST


def sign_in(server: Server, jar: dict, password: str, source: str) -> Answer:
    """Open the sign-in page and send it as *secretariat*, from the loopback address *source*."""
    started = time.monotonic()
    _, _, page = server_get(server, "/login", jar, source)
    got_page = time.monotonic()
    form = {"login": "secretariat", "password": password, "csrf_token": csrf_token(page)}
    status, headers, _ = server_post_form(server, "/login", form, jar, source)
    done = time.monotonic()
    return Answer(status, headers, started, max(got_page - started, done - got_page))


@pytest.mark.slow
@pytest.mark.parametrize(
    "attackers",
    [["127.0.0.2"], ["127.0.0.2", "127.0.0.4", "127.0.0.5"]],
    ids=["one address", "three addresses"],
)
def test_the_owner_signs_in_while_an_attacker_hammers_the_account(two_workers, attackers):
    """Issue 18: with an attacker sending wrong passwords for `secretariat` all along, the real
    secretariat, from another address and a browser it signed in with before, signs in with the
    right password within 10 s, each attempt answered within 5 s. Spread over three addresses,
    the attacker also locks out unknown browsers, and still not the owner's."""
    server = two_workers
    make_user(Role.SECRETARIAT, login="secretariat")
    db.session.commit()
    owner: dict[str, str] = {}
    assert sign_in(server, owner, PASSWORD, "127.0.0.3").status == 302  # some day before
    _, _, page = server_get(server, "/", owner, "127.0.0.3")
    server_post_form(server, "/logout", {"csrf_token": csrf_token(page)}, owner, "127.0.0.3")

    stop = threading.Event()
    answers: list[Answer] = []

    def attack() -> None:
        jars = {address: {} for address in attackers}
        deadline = time.monotonic() + 90
        while not stop.is_set() and time.monotonic() < deadline:
            for address in attackers:
                answers.append(sign_in(server, jars[address], "wrong-password-here", address))

    attacker = threading.Thread(target=attack)
    attacker.start()
    try:
        # The attacker has used up what it may try: it is refused now from every address.
        deadline = time.monotonic() + 60
        while sum(a.status == 429 for a in answers) < 20 * len(attackers):
            assert time.monotonic() < deadline, [a.status for a in answers]
            time.sleep(0.05)
        if len(attackers) > 1:
            stranger = sign_in(server, {}, PASSWORD, "127.0.0.6")
            assert stranger.status == 429
            assert int(stranger.headers["Retry-After"]) > 0
        began = time.monotonic()
        tries = []
        while not tries or tries[-1].status != 302:
            assert time.monotonic() - began < 10, [t.status for t in tries]
            tries.append(sign_in(server, owner, PASSWORD, "127.0.0.3"))
        finished = time.monotonic()
        # The owner may need one quick try, shorter than the attacker's loop: let the attacker
        # start once more after it, so the attack provably went on all along.
        while not any(a.started > finished for a in answers):
            assert time.monotonic() - finished < 30
            time.sleep(0.05)
    finally:
        stop.set()
        attacker.join(120)
    assert finished - began < 10
    assert all(t.seconds < 5 for t in tries), [t.seconds for t in tries]
    assert tries[-1].headers["Location"].endswith("/")
    # The attacker's loop sends one request after another, so one begun before the owner's first
    # try and one begun after its last mean it was at work the whole time.
    assert any(a.started < began for a in answers)
    assert any(a.started > finished for a in answers)
    assert {a.status for a in answers} == {200, 429}
    assert all(a.seconds < 5 for a in answers), max(a.seconds for a in answers)
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers if a.status == 429)
    db.session.expire_all()
    failures = db.session.scalar(
        sa.select(sa.func.count()).where(
            LoginAttempt.login == "secretariat",
            LoginAttempt.success.is_(False),
            LoginAttempt.refused.is_(False),
        )
    )
    # Five per address, ten at most from unknown browsers: every other attempt was refused
    # unchecked, and refusals are not counted.
    assert failures == min(5 * len(attackers), 10)
