"""flask user|token|section …: the admin operations of issue 18, asking nothing, one Japanese
line each, ``エラー: …`` and exit 1 on bad input, every change a row of the history chain."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from tests.factories import PASSWORD, make_item, make_section, make_user
from tests.support import API, admin_events, auth, login
from workflow.audit import verify_chain
from workflow.extensions import db
from workflow.models import ApiToken, HistoryEvent, Item, Section, User, UserSession
from workflow.models._types import utcnow
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

NEW_PASSWORD = "another-long-passphrase"


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    db.session.commit()  # what the test made is visible, and no write lock is held
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    db.session.expire_all()
    return result


def ok(result: Result, *words: str) -> str:
    """Exit 0 and one line of Japanese naming *words*."""
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    for word in words:
        assert word in lines[0]
    return lines[0]


def refused(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("エラー: ")
    for word in words:
        assert word in line


def test_a_user_disabled_on_the_cli_loses_their_session_and_token(app, client):
    user = make_user(Role.VIEWER, login="tanaka")
    login(client, user)
    headers = auth(user)
    assert client.get("/items/").status_code == 200
    assert client.get(f"{API}/items", headers=headers).status_code == 200

    ok(run(app, "user", "disable", "tanaka", "--reason", "異動"), "tanaka", "無効")
    response = client.get("/items/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get(f"{API}/items", headers=headers).status_code == 401
    row = db.session.scalars(
        sa.select(HistoryEvent).where(HistoryEvent.event == "admin.user.disable")
    ).one()
    assert row.reason == "異動"
    assert row.params["via"] == "cli"

    ok(run(app, "user", "enable", "tanaka"), "有効")
    # Disabling revoked the token: enabling the user again does not bring it back.
    assert client.get(f"{API}/items", headers=headers).status_code == 401
    assert verify_chain().problems == []


def test_the_last_admin_is_not_disabled_nor_demoted(app):
    make_user(Role.ADMIN, login="root")
    refused(run(app, "user", "disable", "root"), "最後")
    refused(run(app, "user", "role", "root", "viewer"), "最後")
    make_user(Role.ADMIN, login="root2")
    ok(run(app, "user", "role", "root", "viewer"), "職員")
    refused(run(app, "user", "disable", "root2"), "最後")
    assert admin_events() == ["admin.user.update"]


def test_user_role_and_create_with_email(app):
    make_section("情報政策課")
    result = run(
        app,
        "user",
        "create",
        "sato",
        "--role",
        "viewer",
        "--email",
        "sato@city.example.jp",
        input=PASSWORD + "\n",
    )
    ok(result, "sato")
    user = db.session.scalar(sa.select(User).where(User.login == "sato"))
    assert user.email == "sato@city.example.jp"
    assert not user.must_change_password
    refused(run(app, "user", "create", "x", "--role", "viewer", "--email", "no-at-sign"), "メール")
    refused(run(app, "user", "role", "sato", "mayor"), "mayor")
    refused(run(app, "user", "role", "sato", "department"), "課")
    refused(run(app, "user", "role", "nobody", "viewer"), "nobody")
    ok(run(app, "user", "role", "sato", "secretariat"), "庁議事務局")
    assert db.session.scalar(sa.select(User.role).where(User.login == "sato")) is Role.SECRETARIAT


def test_user_password_reads_stdin_and_ends_sessions(app, client):
    user = make_user(Role.VIEWER, login="suzuki")
    login(client, user)
    ok(run(app, "user", "password", "suzuki", input=NEW_PASSWORD + "\n"), "suzuki")
    user = db.session.scalar(sa.select(User).where(User.login == "suzuki"))
    assert user.check_password(NEW_PASSWORD)
    assert not user.must_change_password
    assert client.get("/items/").status_code == 302
    refused(run(app, "user", "password", "suzuki", input="short\n"), "12文字")
    assert db.session.scalar(sa.select(User).where(User.login == "suzuki")).check_password(
        NEW_PASSWORD
    )


def test_end_sessions_and_unlock(app, client):
    user = make_user(Role.VIEWER, login="kato")
    login(client, user)
    ok(run(app, "user", "end-sessions", "kato"), "1件")
    assert client.get("/items/").status_code == 302
    ok(run(app, "user", "unlock", "kato"), "解除")
    assert db.session.scalar(sa.select(User.unlocked_at).where(User.login == "kato")) is not None
    assert admin_events() == ["admin.user.end_sessions", "admin.user.unlock"]


def test_tokens_named_with_days_listed_and_revoked(app, client):
    make_user(Role.VIEWER, login="robot")
    result = run(app, "user", "token", "robot", "--name", "議事録取込", "--days", "30")
    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[-1]
    row = ApiToken.lookup(token)
    assert row.name == "議事録取込"
    assert row.expires_at - row.created_at == timedelta(days=30)
    refused(run(app, "user", "token", "robot", "--days", "zero"), "--days")
    refused(run(app, "user", "token", "robot", "--days", "0"), "有効日数")

    listing = run(app, "token", "list", "robot")
    assert listing.exit_code == 0, listing.output
    header, line = listing.stdout.splitlines()
    assert header.split() == ["ID", "状態", "発行", "有効期限", "最終使用", "名前"]
    assert line.split()[:2] == [str(row.id), "有効"]
    assert line.endswith("議事録取込")

    ok(run(app, "token", "revoke", str(row.id)), str(row.id), "失効")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/items", headers=headers).status_code == 401
    assert "失効" in run(app, "token", "list", "robot").stdout
    refused(run(app, "token", "revoke", "999999"), "999999")
    refused(run(app, "token", "revoke", "abc"), "abc")


def test_an_expired_token_is_answered_401_saying_so(app, client):
    user = make_user(Role.VIEWER, login="old")
    token = run(app, "user", "token", "old", "--days", "1").stdout.splitlines()[-1]
    row = ApiToken.lookup(token)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(f"{API}/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "有効期限" in response.get_json()["error"]["message"]
    assert "期限切れ" in run(app, "token", "list", user.login).stdout


def test_section_rename_move_merge_retire(app):
    old = make_section("旧課", bureau="総務局")
    into = make_section("新課")
    department = make_user(Role.DEPARTMENT, old, login="worker")
    item = make_item(department=department)
    ok(run(app, "section", "rename", "旧課", "改名課"), "旧課", "改名課")
    refused(run(app, "section", "rename", "改名課", "新課"), "既に")
    refused(run(app, "section", "rename", "無い課", "x"), "無い課")
    ok(
        run(app, "section", "move", "改名課", "--bureau", "企画局", "--division", "企画部"),
        "企画局",
    )
    refused(run(app, "section", "move", "改名課"), "--bureau")
    ok(run(app, "section", "merge", "改名課", "新課"), "統合")
    assert db.session.get(Item, item.id).section.name == "新課"
    assert db.session.scalar(sa.select(User).where(User.login == "worker")).section.name == "新課"
    merged = db.session.get(Section, old.id)
    assert merged.retired_at is not None
    assert merged.merged_into_id == into.id
    refused(run(app, "section", "merge", "新課", "改名課"), "廃止")
    ok(run(app, "section", "retire", "新課"), "廃止")
    refused(run(app, "section", "retire", "新課"), "廃止されています")
    assert admin_events() == [
        "admin.section.rename",
        "admin.section.move",
        "admin.section.merge",
        "admin.section.retire",
    ]
    audit = run(app, "audit", "verify")
    assert audit.exit_code == 0, audit.output


def test_a_refused_command_leaves_no_session_revoked(app, client):
    admin_user = make_user(Role.ADMIN, login="root")
    login(client, admin_user)
    refused(run(app, "user", "disable", "root"), "最後")
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(UserSession)
            .where(UserSession.revoked_at.is_(None))
        )
        == 1
    )
    assert admin_events() == []
