"""Command line: ``flask --app wsgi section|user|pdf-cache …`` for administrators of a city.

Every command checks all of its input before it writes anything; bad input ends with one line of
Japanese on stderr and exit status 1, and the database is left as it was.
"""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import click
from flask import Flask
from flask.cli import AppGroup
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workflow.audit import audit_cli
from workflow.backup import backup_command, restore_command
from workflow.demo.load import demo_cli
from workflow.directory_cli import directory_cli
from workflow.errors import CONFLICT_MESSAGE, WorkflowError
from workflow.extensions import db
from workflow.jobs import worker_command
from workflow.maintenance import prune_command
from workflow.models import ApiToken, Section, User
from workflow.models._types import utcnow
from workflow.notify_cli import notify_command
from workflow.passwords import password_problem
from workflow.pdf import cache as pdf_cache
from workflow.schemas.limits import ID_MAX, NAME_MAX
from workflow.schemas.types import check_text
from workflow.search_index import search_cli
from workflow.services import admin
from workflow.states.states import Role
from workflow.views import JST

T = TypeVar("T")

section_cli = AppGroup("section", help="課の登録")
user_cli = AppGroup("user", help="利用者の登録・変更とAPIトークンの発行")
token_cli = AppGroup("token", help="APIトークンの一覧と失効")
pdf_cache_cli = AppGroup("pdf-cache", help="作成済みPDFのキャッシュ")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(section_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(token_cli)
    app.cli.add_command(pdf_cache_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(directory_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(search_cli)
    app.cli.add_command(prune_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(notify_command)


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


# -- admin operations ---------------------------------------------------------------------------


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusal (a Japanese message) as the command's one line on stderr; nothing
    it had begun stays (the command's transaction is rolled back)."""
    try:
        yield
    except WorkflowError as exc:
        db.session.rollback()
        raise CommandError(exc.message) from None


def _apply(change: Callable[[], T], conflict: str = CONFLICT_MESSAGE) -> T:
    """Make the service's *change* and commit it with its audit row; a refusal is the error line."""
    with _refusals():
        result = change()
    _commit(conflict)
    return result


def _user(login: str) -> User:
    with _refusals():
        return admin.user_by_login(login)


def _section(name: str) -> Section:
    with _refusals():
        return admin.section_by_name(name)


def _days(value: str | None) -> int | None:
    """``--days``: read here, so that a typo is Japanese too (click's own message is English)."""
    if value is None:
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise CommandError(f"--days には日数を整数で指定してください（{value}）。")
    return int(text)


# -- section ------------------------------------------------------------------------------------


@section_cli.command("create")
@click.argument("name")
@click.option("--bureau", default="", help="局・区（例: 企画局）")
@click.option("--division", default="", help="部（例: 企画部）")
def create_section(name: str, bureau: str, division: str) -> None:
    """課を登録する（NAME: 課名、例: 情報政策課）。"""
    section = _apply(
        lambda: admin.create_section(None, "cli", name=name, bureau=bureau, division=division),
        f"課「{name.strip()}」は既に登録されています。",  # a race lost at commit
    )
    click.echo(f"課「{section.name}」を登録しました。")


@section_cli.command("rename")
@click.argument("old")
@click.argument("new")
def rename_section(old: str, new: str) -> None:
    """課の名前を変える。変更前に作られた様式２・次第・会議録は旧名のまま。"""
    section = _section(old)
    old_name = section.name
    _apply(
        lambda: admin.rename_section(None, "cli", section, new),
        f"課「{new.strip()}」は既に登録されています。",  # a race lost at commit
    )
    click.echo(f"課「{old_name}」の名前を「{section.name}」に変更しました。")


@section_cli.command("move")
@click.argument("name")
@click.option("--bureau", help="移動先の局・区（省略時は今のまま）")
@click.option("--division", help="移動先の部（省略時は今のまま。空文字で部なし）")
def move_section(name: str, bureau: str | None, division: str | None) -> None:
    """課をほかの局・区／部へ移す。"""
    if bureau is None and division is None:
        raise CommandError("--bureau か --division で移動先を指定してください。")
    section = _section(name)
    _apply(
        lambda: admin.move_section(
            None,
            "cli",
            section,
            bureau=section.bureau if bureau is None else bureau,
            division=section.division if division is None else division,
        )
    )
    where = "・".join(p for p in (section.bureau, section.division) if p) or "（局・部なし）"
    click.echo(f"課「{section.name}」を{where}へ移しました。")


@section_cli.command("merge")
@click.argument("source")
@click.argument("into")
def merge_section(source: str, into: str) -> None:
    """課 SOURCE を課 INTO に統合する（案件と利用者は INTO へ移り、SOURCE は廃止）。"""
    from_section, into_section = _section(source), _section(into)
    _apply(lambda: admin.merge_section(None, "cli", from_section, into_section))
    click.echo(f"課「{from_section.name}」を「{into_section.name}」に統合しました。")


@section_cli.command("retire")
@click.argument("name")
def retire_section(name: str) -> None:
    """課を廃止する。案件はそのまま残り、新しい案件は登録できなくなる。"""
    section = _section(name)
    _apply(lambda: admin.retire_section(None, "cli", section))
    click.echo(f"課「{section.name}」を廃止しました。")


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
@click.option("--email", help="通知を送るメールアドレス（省略可）")
def create_user(
    login: str,
    role_value: str | None,
    section_name: str | None,
    display_name: str | None,
    email: str | None,
) -> None:
    """利用者を作成する。パスワードは端末では2回入力、それ以外では標準入力の1行目から読む。"""
    if role_value is None:
        raise CommandError(f"--role を指定してください（{admin.ROLES_TEXT}）。")
    # Everything is checked before the password is asked for: a typo costs no typing.
    with _refusals():
        admin.check_login(login)
        role = admin.parse_role(role_value)
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
    with _refusals():
        admin.check_email(email)

    password = _read_password()
    _apply(
        lambda: admin.create_user(
            None,
            "cli",
            login=login,
            display_name=display_name,
            role=role,
            section=section,
            email=email,
            password=password,
        ),
        duplicate,
    )
    where = f"・{section.name}" if section else ""
    click.echo(f"利用者「{login}」（{role.label}{where}）を作成しました。")


@user_cli.command("token")
@click.argument("login")
@click.option("--name", "token_name", default="", help="トークンの名前（例: 議事録取込スクリプト）")
@click.option("--days", help="有効日数（省略時は API_TOKEN_DAYS、既定365日）")
def issue_token(login: str, token_name: str, days: str | None) -> None:
    """APIトークンを発行する。トークンは最後の行に一度だけ表示され、保存されるのはハッシュだけ。"""
    user = _user(login)
    row, token = _apply(
        lambda: admin.issue_token(None, "cli", user, name=token_name, days=_days(days))
    )
    click.echo(
        f"利用者「{login}」のAPIトークン（ID {row.id}、有効期限 {_local(row.expires_at)}）を"
        "発行しました。再表示はできません。"
    )
    click.echo(token)


@user_cli.command("disable")
@click.argument("login")
@click.option("--reason", default="", help="理由（履歴に残る）")
def disable_user(login: str, reason: str) -> None:
    """利用者を無効にする。サインイン中のセッションは終わり、APIトークンも使えなくなる。"""
    user = _user(login)
    was_active = user.active
    _apply(lambda: admin.disable_user(None, "cli", user, reason))
    if was_active:
        click.echo(f"利用者「{login}」を無効にしました。")
    else:
        click.echo(f"利用者「{login}」は既に無効です。")


@user_cli.command("enable")
@click.argument("login")
def enable_user(login: str) -> None:
    """無効にした利用者を有効に戻す。"""
    user = _user(login)
    was_active = user.active
    _apply(lambda: admin.enable_user(None, "cli", user))
    if was_active:
        click.echo(f"利用者「{login}」は既に有効です。")
    else:
        click.echo(f"利用者「{login}」を有効にしました。")


@user_cli.command("role")
@click.argument("login")
@click.argument("role_value", metavar="ROLE")
def change_role(login: str, role_value: str) -> None:
    """利用者の役割を変える（department にするには所属課が必要）。"""
    user = _user(login)
    with _refusals():
        role = admin.parse_role(role_value)
        changed = admin.update_user(None, "cli", user, role=role)
    _commit(CONFLICT_MESSAGE)
    if changed:
        click.echo(f"利用者「{login}」の役割を{role.label}（{role.value}）にしました。")
    else:
        click.echo(f"利用者「{login}」の役割は既に{role.label}（{role.value}）です。")


@user_cli.command("password")
@click.argument("login")
def change_password(login: str) -> None:
    """パスワードを設定する（user create と同じく標準入力から）。サインイン中のセッションは終わる。"""
    user = _user(login)
    with _refusals():
        admin.check_local_password(user)  # before the password is typed
    password = _read_password()
    _apply(lambda: admin.set_password(None, "cli", user, password))
    click.echo(f"利用者「{login}」のパスワードを変更しました。")


@user_cli.command("end-sessions")
@click.argument("login")
def end_sessions(login: str) -> None:
    """利用者のサインイン中のセッションをすべて終わらせる。"""
    user = _user(login)
    ended = _apply(lambda: admin.end_sessions(None, "cli", user))
    click.echo(f"利用者「{login}」のセッションを{ended}件終了しました。")


@user_cli.command("unlock")
@click.argument("login")
def unlock_user(login: str) -> None:
    """サインインの試行制限を解除する（これまでの失敗は数えなくなる）。"""
    user = _user(login)
    _apply(lambda: admin.unlock(None, "cli", user))
    click.echo(f"利用者「{login}」のサインイン制限を解除しました。")


# -- user import (the April reshuffle) ----------------------------------------------------------


@user_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="変更内容を表示するだけで、適用しない")
def import_users(file, dry_run: bool) -> None:
    """人事異動のCSV（login,name,email,role,section,action）で利用者を作成・更新・無効化する。

    一行ずつ変更内容を表示する。問題があれば全部を行番号つきで表示し、何も変更しない。
    """
    from workflow.services import reshuffle

    data = file.read()
    with _refusals():
        text = reshuffle.read(data)
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
    with _refusals():
        user_import = reshuffle.store(None, file.name, data, text, plan)
        reshuffle.apply(None, "cli", user_import)
    _commit(CONFLICT_MESSAGE)
    click.echo(f"適用しました: {plan.summary()}")


# -- token --------------------------------------------------------------------------------------

_STATE_LABELS = {"active": "有効", "expired": "期限切れ", "revoked": "失効"}


def _local(moment: datetime | None) -> str:
    """A moment as an operator reads it: Japan's time, to the minute; 「-」 for none."""
    if moment is None:
        return "-"
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def _width(text: str) -> int:
    """Columns a terminal gives *text*: two for each wide (Japanese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


@token_cli.command("list")
@click.argument("login")
def list_tokens(login: str) -> None:
    """利用者のAPIトークンの一覧（日時は日本時間）。"""
    user = _user(login)
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ).all()
    if not tokens:
        click.echo(f"利用者「{login}」のAPIトークンはありません。")
        return
    now = utcnow()
    header = ["ID", "状態", "発行", "有効期限", "最終使用", "名前"]
    rows = [
        [
            str(t.id),
            _STATE_LABELS[admin.token_state(t, now)],
            _local(t.created_at),
            _local(t.expires_at),
            _local(t.last_used_at),
            t.name or "-",
        ]
        for t in tokens
    ]
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())


@token_cli.command("revoke")
@click.argument("token_id", metavar="ID")
def revoke_token(token_id: str) -> None:
    """APIトークンを失効させる（ID は flask token list で確認）。"""
    row = None
    if token_id.isascii() and token_id.isdigit() and int(token_id) <= ID_MAX:
        row = db.session.get(ApiToken, int(token_id))
    if row is None:
        raise CommandError(f"ID「{token_id}」のAPIトークンはありません。")
    was_revoked = row.revoked_at is not None
    _apply(lambda: admin.revoke_token(None, "cli", row))
    if was_revoked:
        click.echo(f"APIトークン {row.id}（{row.user.login}）は既に失効しています。")
    else:
        click.echo(f"APIトークン {row.id}（{row.user.login}）を失効させました。")


# -- pdf-cache ----------------------------------------------------------------------------------


@pdf_cache_cli.command("clear")
def clear_pdf_cache() -> None:
    """PDFキャッシュを空にする。各PDFは次のダウンロードで作り直される。"""
    removed = pdf_cache.clear()
    db.session.commit()
    click.echo(f"PDFキャッシュを{removed:,}件削除しました。次のダウンロードで作り直します。")
