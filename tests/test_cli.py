"""flask section|user …: what an administrator types, and what happens to the database."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from workflow import cli
from workflow.extensions import db
from workflow.models import ApiToken, Section, User
from workflow.models.user import hash_token
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

PASSWORD = "correct-horse-battery"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    db.session.rollback()  # hold no transaction (on SQLite: no write lock) while the command runs
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    db.session.expire_all()
    return result


def snapshot() -> dict[str, list[tuple]]:
    """Every row the commands could write, to show that a refused command wrote nothing."""
    tables = {"sections": Section, "users": User, "api_tokens": ApiToken}
    rows = {
        name: [tuple(r) for r in db.session.execute(sa.select(model.__table__)).all()]
        for name, model in tables.items()
    }
    db.session.rollback()
    return rows


def assert_refused(result: Result, *words: str) -> None:
    """Exit status 1 and one line of Japanese on stderr, naming what was wrong."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("エラー: ")
    assert JAPANESE.search(lines[0].removeprefix("エラー: "))
    for word in words:
        assert word in lines[0]
    assert result.stdout == ""


@pytest.fixture
def section(app: Flask) -> Section:
    row = Section(name="情報政策課", bureau="総務局", division="ICT推進部")
    db.session.add(row)
    db.session.commit()
    return row


# -- section create -----------------------------------------------------------------------------


def test_section_create_stores_bureau_and_division(app):
    result = run(
        app, "section", "create", "情報政策課", "--bureau", "総務局", "--division", "ICT推進部"
    )
    assert result.exit_code == 0, result.output
    assert "情報政策課" in result.stdout
    row = db.session.scalar(sa.select(Section).where(Section.name == "情報政策課"))
    assert (row.bureau, row.division) == ("総務局", "ICT推進部")


def test_user_create_keeps_a_printable_name_trimmed(app, section):
    result = run(
        app,
        "user",
        "create",
        "yamada",
        "--role",
        "viewer",
        "--name",
        " 山田 𠮷子 ",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.login == "yamada"))
    assert user.display_name == "山田 𠮷子"


def test_section_create_without_bureau_or_division(app):
    result = run(app, "section", "create", "財政課")
    assert result.exit_code == 0, result.output
    row = db.session.scalar(sa.select(Section).where(Section.name == "財政課"))
    assert (row.bureau, row.division) == ("", "")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["情報政策課"], ["情報政策課", "既に"]),
        (["  情報政策課  "], ["既に"]),
        (["課" * 101], ["100文字"]),
        (["   "], ["課名"]),
        (["新しい課", "--bureau", "局" * 101], ["局・区", "100文字"]),
        (["広報課😀"], ["課名", "😀", "U+1F600", "印刷できません"]),
        (["広報課", "--division", "広報😀部"], ["部", "😀"]),
        (["広報\n課"], ["課名", "改行"]),
    ],
    ids=[
        "duplicate",
        "duplicate-with-spaces",
        "too-long",
        "blank",
        "long-bureau",
        "unprintable",
        "unprintable-division",
        "line-break",
    ],
)
def test_section_create_refuses_bad_input(app, section, args, words):
    before = snapshot()
    assert_refused(run(app, "section", "create", *args), *words)
    assert snapshot() == before


# -- user create --------------------------------------------------------------------------------


def test_user_create_reads_the_password_from_stdin(app, section):
    result = run(
        app,
        "user",
        "create",
        "tanaka",
        "--role",
        "department",
        "--section",
        "情報政策課",
        "--name",
        "田中 一郎",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "tanaka" in result.stdout
    assert PASSWORD not in result.output
    user = db.session.scalar(sa.select(User).where(User.login == "tanaka"))
    assert user.role is Role.DEPARTMENT
    assert user.section.name == "情報政策課"
    assert user.display_name == "田中 一郎"
    assert user.check_password(PASSWORD)
    assert PASSWORD not in user.password_hash


def test_user_create_takes_only_the_first_line_of_stdin(app):
    result = run(app, "user", "create", "viewer1", "--role", "viewer", input=f"{PASSWORD}\nnoise\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.login == "viewer1"))
    assert user.check_password(PASSWORD)
    assert user.display_name == "viewer1"  # no --name: the login
    assert user.section is None


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.VIEWER, Role.ADMIN])
def test_user_create_needs_no_section_outside_department(app, role):
    result = run(app, "user", "create", f"u-{role.value}", "--role", role.value, input=PASSWORD)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User.role).where(User.login == f"u-{role.value}")) is role


def test_user_create_at_a_terminal_asks_twice_without_echo(app, monkeypatch):
    monkeypatch.setattr(cli, "_stdin_is_tty", lambda: True)
    result = run(
        app, "user", "create", "admin1", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "パスワード（確認）" in result.output
    assert PASSWORD not in result.output
    assert db.session.scalar(sa.select(User).where(User.login == "admin1")).check_password(PASSWORD)


def test_user_create_at_a_terminal_refuses_mismatched_passwords(app, monkeypatch):
    monkeypatch.setattr(cli, "_stdin_is_tty", lambda: True)
    before = snapshot()
    result = run(
        app, "user", "create", "admin1", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}x\n"
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["エラー: パスワードが一致しません。"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("args", "password", "words"),
    [
        (["new", "--role", "mayor"], PASSWORD, ["mayor", "department"]),
        (["new"], PASSWORD, ["--role"]),
        (["new", "--role", "viewer", "--section", "存在しない課"], PASSWORD, ["存在しない課"]),
        (["new", "--role", "department"], PASSWORD, ["--section"]),
        (["existing", "--role", "viewer"], PASSWORD, ["existing", "既に"]),
        (["new", "--role", "viewer"], "short-11chr", ["12文字"]),
        (["new", "--role", "viewer"], "", ["12文字"]),
        (["has space", "--role", "viewer"], PASSWORD, ["has space"]),
        (["x" * 65, "--role", "viewer"], PASSWORD, ["64文字"]),
        (["new", "--role", "viewer", "--name", "名" * 101], PASSWORD, ["表示名"]),
        (["new", "--role", "viewer", "--name", "山田😀"], PASSWORD, ["表示名", "😀"]),
    ],
    ids=[
        "unknown-role",
        "no-role",
        "unknown-section",
        "department-without-section",
        "duplicate-login",
        "short-password",
        "empty-password",
        "login-with-space",
        "login-too-long",
        "name-too-long",
        "unprintable-name",
    ],
)
def test_user_create_refuses_bad_input(app, section, args, password, words):
    existing = User(login="existing", display_name="既存", role=Role.VIEWER)
    existing.set_password(PASSWORD)
    db.session.add(existing)
    db.session.commit()
    before = snapshot()
    assert_refused(run(app, "user", "create", *args, input=password + "\n"), *words)
    assert snapshot() == before


# -- user token ---------------------------------------------------------------------------------


def test_user_token_prints_the_token_last_and_stores_only_its_hash(app):
    user = User(login="robot", display_name="連携システム", role=Role.VIEWER)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()

    result = run(app, "user", "token", "robot")
    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[-1]
    assert token.startswith("chogi_")
    assert len(token) > 40

    row = ApiToken.lookup(token)
    assert row is not None
    assert row.user.login == "robot"
    assert row.token_hash == hash_token(token)
    stored = db.session.execute(sa.select(ApiToken.__table__)).one()
    assert token not in [str(value) for value in stored]


def test_user_token_gives_a_new_token_each_time(app):
    user = User(login="robot", display_name="連携システム", role=Role.VIEWER)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    first = run(app, "user", "token", "robot").stdout.splitlines()[-1]
    second = run(app, "user", "token", "robot").stdout.splitlines()[-1]
    assert first != second
    assert ApiToken.lookup(first) is not None
    assert ApiToken.lookup(second) is not None


def test_user_token_refuses_an_unknown_login(app):
    before = snapshot()
    assert_refused(run(app, "user", "token", "nobody"), "nobody")
    assert snapshot() == before


def test_user_token_refuses_an_inactive_user(app):
    user = User(login="gone", display_name="退職者", role=Role.VIEWER, active=False)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    before = snapshot()
    assert_refused(run(app, "user", "token", "gone"), "gone")
    assert snapshot() == before


def test_the_command_groups_are_registered(app):
    result = run(app, "--help")
    assert result.exit_code == 0
    assert re.search(r"^\s+section\b", result.output, re.M)
    assert re.search(r"^\s+user\b", result.output, re.M)
