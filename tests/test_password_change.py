"""「パスワード変更」: a forced change after an admin's reset, and a user's own change; what an API
token does meanwhile, and how an expired one is told."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD, make_user
from tests.support import API, token_for
from workflow.audit import verify_chain
from workflow.extensions import db
from workflow.models import ApiToken, HistoryEvent, LoginAttempt, User, UserSession
from workflow.models._types import utcnow
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

NEW_PASSWORD = "kawasemi-no-sumu-kawa-42"
PAGE = "/account/password"


@pytest.fixture
def user(app: Flask) -> User:
    row = make_user(Role.SECRETARIAT, login="tanaka", display_name="田中 一郎")
    db.session.commit()
    return row


def sign_in(client: FlaskClient, password: str = PASSWORD, login: str = "tanaka"):
    return client.post("/login", data={"login": login, "password": password})


def change(client: FlaskClient, current=PASSWORD, new=NEW_PASSWORD, again=None):
    data = {"current_password": current, "new_password": new, "new_password_again": again or new}
    return client.post(PAGE, data=data)


def live_sessions(user: User) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
        )
    )


# -- a forced change ---------------------------------------------------------------------------


def test_a_reset_password_sends_the_user_to_the_password_page_first(client, user):
    user.must_change_password = True
    db.session.commit()
    response = sign_in(client)
    assert response.status_code == 302
    assert response.location == PAGE
    page = client.get(PAGE).get_data(as_text=True)
    assert "管理者が設定した仮のパスワードでサインインしました" in page
    for path in ("/", "/items", "/meetings", "/search?q=a", "/public/", "/nowhere"):
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.location == PAGE, path
    assert client.post("/items/new", data={}).location == PAGE
    with client.get("/static/css/app.css") as static:
        assert static.status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.post("/logout").location == "/login"


def test_a_reset_password_ignores_next_until_it_is_changed(client, user):
    user.must_change_password = True
    db.session.commit()
    response = client.post("/login?next=/meetings", data={"login": "tanaka", "password": PASSWORD})
    assert response.location == PAGE


def test_after_the_change_the_user_goes_on(client, user):
    user.must_change_password = True
    db.session.commit()
    sign_in(client)
    response = change(client)
    assert response.status_code == 302
    assert response.location == "/"
    db.session.expire_all()
    assert user.must_change_password is False
    home = client.get("/")
    assert home.status_code == 200
    assert "パスワードを変更しました。" in home.get_data(as_text=True)


def test_an_api_token_still_works_while_the_change_is_pending(client, user):
    token = token_for(user)
    user.must_change_password = True
    db.session.commit()
    response = client.get(f"{API}/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


# -- the change --------------------------------------------------------------------------------


def test_the_header_links_to_the_password_page(client, user):
    sign_in(client)
    assert f'href="{PAGE}"' in client.get("/").get_data(as_text=True)
    assert "現在のパスワード" in client.get(PAGE).get_data(as_text=True)


def test_the_page_needs_a_sign_in(client):
    assert client.get(PAGE).location.startswith("/login")


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("wrong-password-here", NEW_PASSWORD, None, "現在のパスワードが正しくありません。"),
        (PASSWORD, "short", None, "パスワードは12文字以上にしてください。"),
        (PASSWORD, "password1234", None, "よく使われていて推測されやすい"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "新しいパスワードが確認欄と一致しません。"),
        (PASSWORD, PASSWORD, None, "現在のパスワードと別のものにしてください。"),
        ("", NEW_PASSWORD, None, "現在のパスワードを入力してください。"),
    ],
    ids=["wrong current", "short", "common", "mismatch", "unchanged", "empty"],
)
def test_a_refused_change_says_why_and_changes_nothing(client, user, current, new, again, message):
    user.must_change_password = True
    db.session.commit()
    before = user.password_hash
    sign_in(client)
    response = change(client, current, new, again)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.password_hash == before
    assert user.must_change_password is True
    assert db.session.scalars(sa.select(HistoryEvent)).all() == []


def test_a_change_ends_the_other_sessions_and_is_in_the_chain(app, client, user):
    elsewhere = app.test_client()
    sign_in(elsewhere)
    sign_in(client)
    assert live_sessions(user) == 2
    response = change(client)
    assert response.status_code == 302
    assert "ほかの端末のログイン（1件）は終了しました。" in client.get("/").get_data(as_text=True)
    assert live_sessions(user) == 1
    assert client.get("/").status_code == 200  # this one goes on
    assert elsewhere.get("/").status_code == 302  # the other one is signed out
    client.post("/logout")
    assert sign_in(client).status_code == 200  # the old password no longer works
    assert sign_in(client, NEW_PASSWORD).status_code == 302
    [row] = db.session.scalars(sa.select(HistoryEvent)).all()
    assert row.event == "admin.user.password"
    assert row.actor_id == user.id
    assert row.params["subject"] == {"type": "user", "id": user.id, "name": "tanaka"}
    assert row.params["via"] == "web"
    assert row.params["after"] == {"must_change_password": False, "sessions_ended": 1}
    assert PASSWORD not in str(row.params)
    assert NEW_PASSWORD not in str(row.params)
    assert verify_chain().ok


def test_a_directory_account_changes_its_password_in_the_directory(client, user):
    sign_in(client)
    user.directory = True
    db.session.commit()
    response = change(client)
    assert response.status_code == 422
    assert "ディレクトリ（LDAP）のアカウント" in response.get_data(as_text=True)


# -- API tokens --------------------------------------------------------------------------------


def test_an_expired_token_is_401_and_says_so(client, user):
    token = token_for(user)
    row = db.session.scalar(sa.select(ApiToken))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(f"{API}/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "APIトークンの有効期限が切れています。"


def test_a_token_not_yet_expired_works(client, user):
    token = token_for(user)
    db.session.scalar(sa.select(ApiToken)).expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    response = client.get(f"{API}/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("how", ["disabled user", "revoked"])
def test_a_disabled_users_or_revoked_token_is_401_without_the_expiry_message(client, user, how):
    token = token_for(user)
    row = db.session.scalar(sa.select(ApiToken))
    row.expires_at = utcnow() - timedelta(days=1)  # expired too: the other reason is told
    if how == "revoked":
        row.revoked_at = utcnow()
    else:
        user.active = False
    db.session.commit()
    response = client.get(f"{API}/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "APIトークンが正しくないか、失効しています。"


def test_guessing_the_current_password_is_limited_as_a_sign_in(client, user):
    sign_in(client)
    for _ in range(5):
        assert change(client, current="wrong-password-here").status_code == 422
    response = change(client)  # even the right one waits now, from this address
    assert response.status_code == 429
    assert 880 < int(response.headers["Retry-After"]) <= 900
    assert "ログインの試行回数が上限に達しました。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.check_password(PASSWORD)
    rows = db.session.scalars(sa.select(LoginAttempt).order_by(LoginAttempt.id)).all()
    assert [(r.success, r.refused) for r in rows] == [(True, False)] + [(False, False)] * 5 + [
        (False, True)
    ]


def test_a_right_current_password_with_a_refused_new_one_is_no_failure(client, user):
    sign_in(client)
    assert change(client, new=PASSWORD).status_code == 422  # the same as the current one
    db.session.expire_all()
    assert [r.success for r in db.session.scalars(sa.select(LoginAttempt))] == [True, True]
