"""/api/v1/admin/…: an admin token changes users, tokens, sections and meeting kinds; nobody else."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_item, make_section, make_user
from tests.support import API, auth, login
from workflow.audit import verify_chain
from workflow.extensions import db
from workflow.models import ApiToken, HistoryEvent, Item, MeetingKind, User
from workflow.models._types import utcnow
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

ADMIN = f"{API}/admin"
NEW_PASSWORD = "another-long-passphrase"


@pytest.fixture
def root():
    return make_user(Role.ADMIN, login="root")


@pytest.fixture
def headers(root):
    h = auth(root)
    db.session.commit()
    return h


def events() -> list[str]:
    return list(
        db.session.scalars(
            sa.select(HistoryEvent.event)
            .where(HistoryEvent.event.like("admin.%"))
            .order_by(HistoryEvent.id)
        )
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/users"),
        ("post", "/users"),
        ("get", "/users/root"),
        ("patch", "/users/root"),
        ("post", "/users/root/disable"),
        ("post", "/users/root/password"),
        ("get", "/users/root/tokens"),
        ("delete", "/tokens/1"),
        ("get", "/sections"),
        ("post", "/sections/1/retire"),
        ("get", "/meeting-kinds"),
        ("patch", "/meeting-kinds/section_managers"),
    ],
)
def test_only_an_admin_token_may_call(client, root, method, path):
    secretariat = make_user(Role.SECRETARIAT)
    as_secretariat = auth(secretariat)
    db.session.commit()
    call = getattr(client, method)
    assert call(f"{ADMIN}{path}", json={}).status_code == 401
    response = call(f"{ADMIN}{path}", json={}, headers=as_secretariat)
    assert response.status_code == 403
    assert "システム管理者" in response.get_json()["error"]["message"]


def test_create_read_and_patch_a_user(client, headers):
    make_section("情報政策課")
    db.session.commit()
    body = {
        "login": "tanaka",
        "display_name": "田中 一郎",
        "role": "department",
        "section": "情報政策課",
        "email": "tanaka@city.example.jp",
        "password": NEW_PASSWORD,
    }
    response = client.post(f"{ADMIN}/users", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["section"] == "情報政策課"
    assert made["active"] is True
    assert made["must_change_password"] is False
    assert set(made) == {
        "id", "login", "display_name", "email", "role", "section", "active",
        "must_change_password", "directory", "created_at",
    }  # fmt: skip
    assert client.post(f"{ADMIN}/users", json=body, headers=headers).status_code == 409
    bad = client.post(
        f"{ADMIN}/users", json={**body, "login": "x", "role": "mayor"}, headers=headers
    )
    assert bad.status_code == 422
    assert "role" in bad.get_json()["error"]["details"]["fields"]
    unknown = client.post(
        f"{ADMIN}/users", json={**body, "login": "y", "section": "無い課"}, headers=headers
    )
    assert unknown.status_code == 422
    assert "無い課" in unknown.get_json()["error"]["details"]["fields"]["section"][0]

    response = client.patch(
        f"{ADMIN}/users/tanaka", json={"role": "viewer", "section": None}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["role"] == "viewer"
    assert response.get_json()["section"] is None
    assert client.get(f"{ADMIN}/users/tanaka", headers=headers).get_json()["role"] == "viewer"
    assert client.get(f"{ADMIN}/users/nobody", headers=headers).status_code == 404
    listed = client.get(f"{ADMIN}/users", headers=headers).get_json()
    assert [u["login"] for u in listed["users"]] == ["root", "tanaka"]
    assert events() == ["admin.user.create", "admin.user.update"]


def test_a_user_disabled_through_the_api_loses_session_and_token(client, headers, app):
    user = make_user(Role.VIEWER, login="sato")
    browser = app.test_client()
    login(browser, user)
    their_token = auth(user)
    db.session.commit()
    assert client.get(f"{API}/items", headers=their_token).status_code == 200

    response = client.post(f"{ADMIN}/users/sato/disable", json={"reason": "退職"}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["active"] is False
    page = browser.get("/items/")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]
    assert client.get(f"{API}/items", headers=their_token).status_code == 401

    assert client.post(f"{ADMIN}/users/sato/enable", headers=headers).status_code == 200
    # Disabling revoked the token: enabling the user again does not bring it back.
    assert client.get(f"{API}/items", headers=their_token).status_code == 401
    assert events() == ["admin.user.disable", "admin.user.enable"]
    assert verify_chain().problems == []


def test_an_admin_cannot_disable_themself_nor_the_last_admin_be_demoted(client, headers):
    response = client.post(f"{ADMIN}/users/root/disable", headers=headers)
    assert response.status_code == 422
    assert "自分自身" in response.get_json()["error"]["message"]
    response = client.patch(f"{ADMIN}/users/root", json={"role": "viewer"}, headers=headers)
    assert response.status_code == 422
    assert "最後" in response.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(User.role).where(User.login == "root")) is Role.ADMIN
    assert events() == []


def test_an_admin_cannot_drop_their_own_admin_role(client, headers):
    make_user(Role.ADMIN, login="deputy")
    db.session.commit()
    response = client.patch(f"{ADMIN}/users/root", json={"role": "viewer"}, headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (
        error["message"] == "自分の管理者の役割は外せません。別の管理者に変更を依頼してください。"
    )
    assert db.session.scalar(sa.select(User.role).where(User.login == "root")) is Role.ADMIN
    assert client.get(f"{ADMIN}/users", headers=headers).status_code == 200
    assert events() == []


def test_password_set_and_reset(client, headers, app):
    user = make_user(Role.VIEWER, login="kato")
    browser = app.test_client()
    login(browser, user)
    db.session.commit()
    response = client.post(
        f"{ADMIN}/users/kato/password", json={"password": NEW_PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "login": "kato",
        "must_change_password": False,
        "temporary_password": None,
    }
    assert browser.get("/items/").status_code == 302  # the session ended
    short = client.post(f"{ADMIN}/users/kato/password", json={"password": "x"}, headers=headers)
    assert short.status_code == 422

    reset = client.post(f"{ADMIN}/users/kato/password", headers=headers).get_json()
    assert reset["must_change_password"] is True
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.login == "kato"))
    assert user.check_password(reset["temporary_password"])
    assert reset["temporary_password"] not in str([e for e in events()])


def test_end_sessions_and_unlock(client, headers, app):
    user = make_user(Role.VIEWER, login="ito")
    browser = app.test_client()
    login(browser, user)
    db.session.commit()
    response = client.post(f"{ADMIN}/users/ito/end-sessions", headers=headers)
    assert response.get_json() == {"login": "ito", "sessions_ended": 1}
    assert browser.get("/items/").status_code == 302
    assert client.post(f"{ADMIN}/users/ito/unlock", headers=headers).status_code == 200
    assert events() == ["admin.user.end_sessions", "admin.user.unlock"]


def test_tokens_issued_listed_revoked_and_expired(client, headers):
    make_user(Role.VIEWER, login="robot")
    db.session.commit()
    response = client.post(
        f"{ADMIN}/users/robot/tokens", json={"name": "取込", "days": 7}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    issued = response.get_json()
    assert set(issued) == {"id", "name", "token", "expires_at"}
    theirs = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get(f"{API}/items", headers=theirs).status_code == 200

    [listed] = client.get(f"{ADMIN}/users/robot/tokens", headers=headers).get_json()["tokens"]
    assert listed["state"] == "active"
    assert listed["name"] == "取込"
    assert listed["last_used_at"] is not None
    assert "token" not in listed

    row = db.session.get(ApiToken, issued["id"])
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.get(f"{API}/items", headers=theirs)
    assert expired.status_code == 401
    assert "有効期限" in expired.get_json()["error"]["message"]
    [listed] = client.get(f"{ADMIN}/users/robot/tokens", headers=headers).get_json()["tokens"]
    assert listed["state"] == "expired"

    revoked = client.delete(f"{ADMIN}/tokens/{issued['id']}", headers=headers)
    assert revoked.get_json()["state"] == "revoked"
    assert client.delete(f"{ADMIN}/tokens/999999", headers=headers).status_code == 404
    bad = client.post(f"{ADMIN}/users/robot/tokens", json={"days": 0}, headers=headers)
    assert bad.status_code == 422
    assert events() == ["admin.token.issue", "admin.token.revoke"]


def test_sections_created_renamed_moved_merged_retired(client, headers):
    department = make_user(Role.DEPARTMENT, make_section("統計課"))
    item = make_item(department=department)
    into = client.post(f"{ADMIN}/sections", json={"name": "データ課"}, headers=headers)
    assert into.status_code == 201, into.get_json()
    into = into.get_json()
    source = department.section.id
    assert (
        client.post(f"{ADMIN}/sections", json={"name": "データ課"}, headers=headers).status_code
        == 409
    )
    response = client.patch(
        f"{ADMIN}/sections/{source}",
        json={"name": "統計分析課", "bureau": "総務局"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["name"], response.get_json()["bureau"]) == ("統計分析課", "総務局")
    merged = client.post(
        f"{ADMIN}/sections/{source}/merge", json={"into": into["id"]}, headers=headers
    )
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["merged_into"] == "データ課"
    assert merged.get_json()["retired_at"] is not None
    db.session.expire_all()
    assert db.session.get(Item, item.id).section_id == into["id"]
    again = client.post(
        f"{ADMIN}/sections/{source}/merge", json={"into": into["id"]}, headers=headers
    )
    assert again.status_code == 422
    assert client.post(f"{ADMIN}/sections/{into['id']}/retire", headers=headers).status_code == 200
    filed = client.post(
        f"{API}/items",
        json={"title": "新しい案件", "section": "データ課"},
        headers=auth(department),
    )
    assert filed.status_code == 422
    sections = client.get(f"{ADMIN}/sections", headers=headers).get_json()["sections"]
    assert {s["name"]: s["merged_into"] for s in sections} == {
        "データ課": None,
        "統計分析課": "データ課",
    }
    assert client.patch(f"{ADMIN}/sections/999999", json={}, headers=headers).status_code == 404
    assert events() == [
        "admin.section.create",
        "admin.section.rename",
        "admin.section.move",
        "admin.section.merge",
        "admin.section.retire",
    ]


def test_meeting_kinds_added_and_changed(client, headers):
    body = {"code": "special", "name": "特別会議", "level": 3, "sort_order": 20}
    response = client.post(f"{ADMIN}/meeting-kinds", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["deadline_days"] == 5
    assert client.post(f"{ADMIN}/meeting-kinds", json=body, headers=headers).status_code == 409
    response = client.patch(
        f"{ADMIN}/meeting-kinds/special",
        json={"deadline_days": 10, "review": True},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert db.session.get(MeetingKind, "special").deadline_days == 10
    bad = client.patch(f"{ADMIN}/meeting-kinds/special", json={"level": 0}, headers=headers)
    assert bad.status_code == 422
    assert (
        client.patch(f"{ADMIN}/meeting-kinds/nothing", json={}, headers=headers).status_code == 404
    )
    codes = [
        k["code"]
        for k in client.get(f"{ADMIN}/meeting-kinds", headers=headers).get_json()["meeting_kinds"]
    ]
    assert codes[-1] == "special"
    assert events() == ["admin.meeting_kind.create", "admin.meeting_kind.update"]
