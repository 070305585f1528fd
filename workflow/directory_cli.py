"""``flask --app wsgi directory check LOGIN``: what a directory sign-in of LOGIN would find.

For whoever sets up ``LDAP_*``: it binds as LOGIN with the password given, shows the entry, its
groups, the role and 課 they map to, and whether chogi would let that person in, and writes
nothing (no user is created or changed).
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from workflow import credentials, directory
from workflow.extensions import db

directory_cli = AppGroup("directory", help="ディレクトリ（LDAP / Active Directory）でのサインイン")


def _read_password() -> str:
    """Asked once without echo at a terminal; otherwise the first line of stdin."""
    if sys.stdin.isatty():
        return click.prompt("パスワード", hide_input=True, default="", show_default=False)
    return sys.stdin.readline().rstrip("\r\n")


@directory_cli.command("check")
@click.argument("login")
def check_command(login: str) -> None:
    """LOGIN がディレクトリでサインインするとどうなるかを表示する（何も変更しない）。"""
    from workflow.cli import CommandError  # here: workflow.cli imports this module

    if not directory.enabled(current_app.config):
        raise CommandError(
            "LDAP_URL が設定されていません（ディレクトリでのサインインは無効です）。"
        )
    settings = directory.Settings.from_config(current_app.config)
    password = _read_password()
    try:
        entry = directory.authenticate(settings, login, password)
    except directory.DirectoryUnavailable as exc:
        raise CommandError(f"{directory.DirectoryUnavailable.message}（{exc}）") from None
    if entry is None:
        raise CommandError(
            f"{settings.url} に「{login}」がないか、パスワードが正しくありません。"
            "LDAP_BASE_DN と LDAP_USER_FILTER も確かめてください。"
        )
    found = credentials.assess(entry)
    db.session.rollback()  # a read only
    mapped = {group for group, _role in settings.role_groups}
    click.echo(f"エントリ: {entry.dn}")
    click.echo(f"表示名: {entry.display_name}")
    click.echo(f"メール: {entry.email or '（なし）'}")
    for group in sorted(entry.groups):
        click.echo(f"グループ: {group}{'（LDAP_ROLE_GROUPS にあり）' if group in mapped else ''}")
    role = f"{entry.role.label}（{entry.role.value}）" if entry.role else "（なし）"
    click.echo(f"役割: {role}")
    section = entry.section_name or "（なし）"
    click.echo(
        f"課: {section}{'' if found.section or not entry.section_name else '（使えません）'}"
    )
    if found.refusal is not None:
        raise CommandError(f"サインインできません: {found.refusal.message}。")
    click.echo("サインインできます。")
