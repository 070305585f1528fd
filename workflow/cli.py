"""Command line: ``flask --app wsgi section|user|pdf-cache …`` for administrators of a city.

Every command checks all of its input before it writes anything; bad input ends with one line of
Japanese on stderr and exit status 1, and the database is left as it was.
"""

from __future__ import annotations

import re
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflow.audit import audit_cli
from workflow.backup import backup_command, restore_command
from workflow.demo.load import demo_cli
from workflow.extensions import db
from workflow.jobs import worker_command
from workflow.maintenance import prune_command
from workflow.models import ApiToken, Section, User
from workflow.passwords import password_problem
from workflow.pdf import cache as pdf_cache
from workflow.schemas.limits import NAME_MAX
from workflow.schemas.types import check_text
from workflow.search_index import search_cli
from workflow.states.states import Role

_LOGIN_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_ROLES = "・".join(role.value for role in Role)

section_cli = AppGroup("section", help="課の登録")
user_cli = AppGroup("user", help="利用者の登録とAPIトークンの発行")
pdf_cache_cli = AppGroup("pdf-cache", help="作成済みPDFのキャッシュ")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(section_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(pdf_cache_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(search_cli)
    app.cli.add_command(prune_command)
    app.cli.add_command(worker_command)


class CommandError(click.ClickException):
    """Bad input: one line of Japanese on stderr, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"エラー: {self.format_message()}", err=True)


def _check_name(label: str, value: str, *, required: bool = True) -> str:
    """*value* by the one text rule of the pages and the API: a name the PDFs cannot print would
    make every item that names it refused later, so it is refused here, before it is stored."""
    try:
        return check_text(value, NAME_MAX, required=required)
    except PydanticCustomError as exc:
        raise CommandError(f"{label}: {exc.message()}") from None


def _commit(conflict_message: str) -> None:
    """Commit, turning a unique-key race with another writer into the same message as the check."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise CommandError(conflict_message) from exc


# -- section ------------------------------------------------------------------------------------


@section_cli.command("create")
@click.argument("name")
@click.option("--bureau", default="", help="局・区（例: 企画局）")
@click.option("--division", default="", help="部（例: 企画部）")
def create_section(name: str, bureau: str, division: str) -> None:
    """課を登録する（NAME: 課名、例: 情報政策課）。"""
    name = _check_name("課名", name)
    bureau = _check_name("局・区", bureau, required=False)
    division = _check_name("部", division, required=False)
    duplicate = f"課「{name}」は既に登録されています。"
    if db.session.scalar(select(Section.id).where(Section.name == name)) is not None:
        raise CommandError(duplicate)
    db.session.add(Section(name=name, bureau=bureau, division=division))
    _commit(duplicate)
    click.echo(f"課「{name}」を登録しました。")


# -- user ---------------------------------------------------------------------------------------


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def _read_password() -> str:
    """Ask twice without echo at a terminal; otherwise take the first line of stdin (scripts)."""
    if _stdin_is_tty():
        password = click.prompt("パスワード", hide_input=True, default="", show_default=False)
        again = click.prompt("パスワード（確認）", hide_input=True, default="", show_default=False)
        if password != again:
            raise CommandError("パスワードが一致しません。")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if problem := password_problem(password):
        raise CommandError(problem)
    return password


@user_cli.command("create")
@click.argument("login")
@click.option("--role", "role_value", metavar="|".join(r.value for r in Role), help="役割")
@click.option("--section", "section_name", help="所属する課の名前（department では必須）")
@click.option("--name", "display_name", help="表示名（省略時はログインID）")
def create_user(
    login: str, role_value: str | None, section_name: str | None, display_name: str | None
) -> None:
    """利用者を作成する。パスワードは端末では2回入力、それ以外では標準入力の1行目から読む。"""
    if not _LOGIN_PATTERN.fullmatch(login):
        raise CommandError(
            f"ログインID「{login}」は使えません。英数字と . _ @ - で64文字以内にしてください。"
        )
    if role_value is None:
        raise CommandError(f"--role を指定してください（{_ROLES}）。")
    try:
        role = Role(role_value)
    except ValueError:
        raise CommandError(
            f"役割「{role_value}」はありません。{_ROLES} のいずれかを指定してください。"
        ) from None
    section = None
    if section_name is not None:
        section = db.session.scalar(select(Section).where(Section.name == section_name.strip()))
        if section is None:
            raise CommandError(
                f"課「{section_name}」は登録されていません。先に flask section create で登録してください。"
            )
    if role is Role.DEPARTMENT and section is None:
        raise CommandError("所管課職員（department）には --section で課を指定してください。")
    display_name = _check_name("表示名", display_name or login)
    duplicate = f"ログインID「{login}」は既に使われています。"
    if db.session.scalar(select(User.id).where(User.login == login)) is not None:
        raise CommandError(duplicate)

    password = _read_password()
    user = User(login=login, display_name=display_name, role=role, section=section)
    user.set_password(password)
    db.session.add(user)
    _commit(duplicate)
    where = f"・{section.name}" if section else ""
    click.echo(f"利用者「{login}」（{role.label}{where}）を作成しました。")


@user_cli.command("token")
@click.argument("login")
def issue_token(login: str) -> None:
    """APIトークンを発行する。トークンは最後の行に一度だけ表示され、保存されるのはハッシュだけ。"""
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        raise CommandError(f"ログインID「{login}」の利用者はいません。")
    if not user.active:
        raise CommandError(f"利用者「{login}」は無効にされています。")
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.commit()
    click.echo(f"利用者「{login}」のAPIトークンを発行しました。再表示はできません。")
    click.echo(token)


# -- user import (the April reshuffle) ----------------------------------------------------------


@user_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="変更内容を表示するだけで、適用しない")
def import_users(file, dry_run: bool) -> None:
    """人事異動のCSV（login,name,email,role,section,action）で利用者を作成・更新・無効化する。

    一行ずつ変更内容を表示する。問題があれば全部を行番号つきで表示し、何も変更しない。
    """
    from workflow.errors import WorkflowError
    from workflow.services import reshuffle

    data = file.read()
    try:
        text = reshuffle.read(data)
    except WorkflowError as error:
        raise CommandError(error.message) from None
    plan = reshuffle.check(text)
    if not plan.ok:
        for problem in plan.problems:
            click.echo(f"エラー: {problem}", err=True)
        db.session.rollback()
        raise SystemExit(1)
    for change in plan.changes:
        click.echo(f"{change.line}行目: {change.login} {change.action_label}: {change.describe()}")
    if dry_run:
        db.session.rollback()
        click.echo(f"確認のみ（適用していません）: {plan.summary()}")
        return
    name = getattr(file, "name", "") or "reshuffle.csv"
    try:
        user_import = reshuffle.store(None, name.rsplit("/", 1)[-1], data, text, plan)
        reshuffle.apply(None, "cli", user_import)
        db.session.commit()
    except WorkflowError as error:
        db.session.rollback()
        raise CommandError(error.message) from None
    click.echo(f"適用しました: {plan.summary()}")


# -- pdf-cache ----------------------------------------------------------------------------------


@pdf_cache_cli.command("clear")
def clear_pdf_cache() -> None:
    """PDFキャッシュを空にする。各PDFは次のダウンロードで作り直される。"""
    removed = pdf_cache.clear()
    db.session.commit()
    click.echo(f"PDFキャッシュを{removed:,}件削除しました。次のダウンロードで作り直します。")
