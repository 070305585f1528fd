"""``flask --app wsgi backup FILE`` and ``flask --app wsgi restore FILE``: the whole database.

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) — a consistent copy while
  the app keeps running, and the same API back into the database file on restore.
- PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists
  --single-transaction`` (all or nothing), with the client programs of the server's major
  version (Debian: ``postgresql-client``; ``/usr/lib/postgresql/<major>/bin`` is preferred).

A backup is written beside FILE and renamed into place, so FILE is never half-written; an
existing FILE is kept unless ``--force``. Restore checks that FILE is a backup of this engine and
refuses a database that holds data unless ``--force`` (the meeting kinds a fresh ``db upgrade``
seeds do not count). Stop the app servers while restoring: PostgreSQL waits at most a minute for
their locks, then gives up and changes nothing. Errors are one Japanese line, exit status 1.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from workflow.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# Rows a freshly migrated database already has: not "data" for the restore's emptiness check.
SEEDED_TABLES = frozenset({"meeting_kinds", "alembic_version"})
# How long pg_restore waits for another session's lock before giving up (changing nothing).
LOCK_TIMEOUT = "60s"


class BackupError(click.ClickException):
    """One line of Japanese on stderr, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"エラー: {self.format_message()}", err=True)


# -- commands -------------------------------------------------------------------------------------


@click.command("backup", help="データベース全体をファイルに保存する（SQLite・PostgreSQL）")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="FILE が既にあれば上書きする")
@with_appcontext
def backup_command(file: Path, force: bool) -> None:
    if file.exists() and not force:
        raise BackupError(f"{file} は既にあります。上書きするなら --force を付けてください。")
    if not file.parent.is_dir():
        raise BackupError(f"保存先のフォルダ {file.parent} がありません。")
    db.session.rollback()
    engine = db.engine
    with _temporary_beside(file) as tmp:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(engine.url, tmp)
        elif engine.dialect.name == "postgresql":
            _pg_dump(engine, tmp)
        else:
            raise BackupError(f"{engine.dialect.name} のバックアップには対応していません。")
        os.replace(tmp, file)
    size = file.stat().st_size
    click.echo(
        f"データベース（{engine.dialect.name}）を {file} に保存しました（{size:,} バイト）。"
    )


@click.command("restore", help="backup で保存したファイルからデータベース全体を戻す")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="データのあるデータベースでも置き換える")
@with_appcontext
def restore_command(file: Path, force: bool) -> None:
    engine = db.engine
    if not file.is_file():
        raise BackupError(f"{file} がありません。")
    _check_backup_file(file, engine.dialect.name)
    db.session.rollback()
    if not force and (table := _table_with_data(engine)) is not None:
        raise BackupError(
            f"戻し先のデータベースにはデータがあります（{table} など）。"
            "置き換えてよければ --force を付けてください。"
        )
    db.session.remove()
    engine.dispose()  # no pooled connection of ours may hold a lock on what is replaced
    if engine.dialect.name == "sqlite":
        _sqlite_restore(file, engine.url)
    else:
        _pg_restore(engine, file)
    engine.dispose()  # connections made before the restore may cache the old schema
    click.echo(f"{file} からデータベース（{engine.dialect.name}）を戻しました。")


# -- checks ---------------------------------------------------------------------------------------


def _check_backup_file(file: Path, dialect: str) -> None:
    with file.open("rb") as f:
        head = f.read(16)
    kind = "sqlite" if head == SQLITE_MAGIC else "postgresql" if head[:5] == PG_DUMP_MAGIC else None
    if kind is None:
        raise BackupError(f"{file} は backup で作ったファイルではありません。")
    if kind != dialect:
        raise BackupError(
            f"{file} は {kind} のバックアップです。{dialect} のデータベースには戻せません。"
        )
    if kind == "sqlite":
        _check_sqlite_backup(file)


def _check_sqlite_backup(file: Path) -> None:
    try:
        conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{file} を読めません（{exc}）。") from None
    if ok != "ok":
        raise BackupError(f"{file} は壊れています（{ok}）。")
    if not {"items", "history_events"} <= tables:
        raise BackupError(f"{file} はこのアプリのデータベースではありません。")


def _table_with_data(engine: sa.Engine) -> str | None:
    """The first of our tables that holds a row (seeded tables aside), or None."""
    existing = set(sa.inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name not in existing or table.name in SEEDED_TABLES:
                continue
            if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                return table.name
    return None


@contextmanager
def _temporary_beside(target: Path) -> Iterator[Path]:
    """A temporary path next to *target* (same file system, so the rename is atomic)."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


# -- SQLite ---------------------------------------------------------------------------------------


def _sqlite_path(url: sa.URL) -> str:
    if url.database in (None, "", ":memory:"):
        raise BackupError("メモリ上の SQLite データベースは保存できません。")
    return url.database


def _sqlite_backup(url: sa.URL, target: Path) -> None:
    source = sqlite3.connect(_sqlite_path(url))
    dest = sqlite3.connect(target)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        source.backup(dest)  # one step: a consistent snapshot even while the app writes
        dest.execute("PRAGMA journal_mode=DELETE")  # the file stands alone, no -wal beside it
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite のバックアップに失敗しました（{exc}）。") from None
    finally:
        dest.close()
        source.close()


def _sqlite_restore(file: Path, url: sa.URL) -> None:
    source = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    dest = sqlite3.connect(_sqlite_path(url))
    try:
        dest.execute("PRAGMA busy_timeout=30000")
        source.backup(dest)  # replaces every page of the database, under its write lock
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite の復元に失敗しました（{exc}）。何も変わっていません。") from None
    finally:
        dest.close()
        source.close()


# -- PostgreSQL -----------------------------------------------------------------------------------


def _pg_environment(url: sa.URL) -> dict[str, str]:
    """libpq's variables for *url*: no password on a command line."""
    env = dict(os.environ)
    for var, value in {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }.items():
        if value:
            env[var] = value
    if sslmode := url.query.get("sslmode"):
        env["PGSSLMODE"] = str(sslmode)
    return env


def _server_major(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("SHOW server_version_num").scalar()) // 10000


def pg_program(name: str, server_major: int) -> str:
    """The client program for the server's major version (Debian keeps each under its own dir)."""
    versioned = Path(f"/usr/lib/postgresql/{server_major}/bin/{name}")
    path = str(versioned) if versioned.is_file() else shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} が見つかりません（apt-get install postgresql-client を実行してください）。"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if match is None or int(match.group(1)) < server_major:
        found = match.group(1) if match else "不明"
        raise BackupError(
            f"{name} の版（{found}）がサーバーの版（{server_major}）より古いため使えません"
            f"（postgresql-client-{server_major} を入れてください）。"
        )
    return path


def _run(args: list[str], env: dict[str, str], failure: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        detail = " ".join(result.stderr.split())[:300]
        raise BackupError(f"{failure}（{detail}）")


def _pg_dump(engine: sa.Engine, target: Path) -> None:
    program = pg_program("pg_dump", _server_major(engine))
    args = [program, "--format=custom", f"--file={target}", "--no-password"]
    _run(args, _pg_environment(engine.url), "pg_dump が失敗しました")


def _pg_restore(engine: sa.Engine, file: Path) -> None:
    program = pg_program("pg_restore", _server_major(engine))
    env = _pg_environment(engine.url)
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout={LOCK_TIMEOUT}".strip()
    _run(
        [
            program,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={engine.url.database}",
            str(file),
        ],
        env,
        "pg_restore が失敗しました。何も変わっていません",
    )
