"""``flask --app wsgi backup FILE`` and ``flask --app wsgi restore FILE``: the whole database.

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) — a consistent copy while
  the app keeps running, and the same API back into the database file on restore.
- PostgreSQL: ``pg_dump --format=custom``; restore turns the dump into SQL (``pg_restore -f -``)
  and runs it with ``psql --single-transaction`` (all or nothing), with the client programs of
  the server's major version (Debian: ``postgresql-client``; ``/usr/lib/postgresql/<major>/bin``
  is preferred).

A backup is written beside FILE and renamed into place, so FILE is never half-written; an
existing FILE is kept unless ``--force``. Restore checks that FILE is a backup of this engine and
refuses a database that holds data unless ``--force`` (the meeting kinds a fresh ``db upgrade``
seeds do not count). Errors are one Japanese line, exit status 1.

Restore replaces what running app servers are reading, so (issue 17):

- it refuses while other connections to the database exist and names them (PostgreSQL: the
  sessions in ``pg_stat_activity``; SQLite: the processes holding the file open, found in
  ``/proc``, and an exclusive lock that cannot be taken); ``--terminate`` ends them first
  (``pg_terminate_backend``; SIGTERM to our own user's processes) and then restores. It does not
  stop the servers: their workers connect again (gunicorn starts new ones) and wait for the
  restore, so stopping the servers stays the better way;
- PostgreSQL waits at most :data:`LOCK_TIMEOUT` for a lock a session that came later holds, then
  gives up and changes nothing (the dump's own ``SET lock_timeout = 0`` is replaced);
- no id is ever issued twice: each table's id counter ends past every id the database held before
  the restore, not only those of the backup, nor only those issued before the check: an app
  server reconnecting at once is counted (PostgreSQL: the script's transaction first locks the
  tables and notes their ids, and ends with ``setval``;
  SQLite: ``sqlite_sequence``, raised in the copy before it is written, with AUTOINCREMENT on
  every table since migration c3a7e1f04b52).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from workflow.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# Rows a freshly migrated database already has: not "data" for the restore's emptiness check.
SEEDED_TABLES = frozenset({"meeting_kinds", "alembic_version"})
# How long the restore waits for another session's lock before giving up (changing nothing).
LOCK_TIMEOUT = "60s"
# How long --terminate waits for the connections it ended to be gone.
TERMINATE_WAIT_SECONDS = 15.0


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
@click.option(
    "--terminate",
    is_flag=True,
    help="データベースにつながっている他の接続（アプリのサーバーなど）を終わらせてから戻す",
)
@with_appcontext
def restore_command(file: Path, force: bool, terminate: bool) -> None:
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
    # No pooled connection of ours may hold a lock on what is replaced, nor count as "another".
    engine.dispose()
    if engine.dialect.name == "sqlite":
        _sqlite_restore(file, engine.url, terminate=terminate)
    else:
        _pg_restore(engine, file, terminate=terminate)
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


def _sqlite_restore(file: Path, url: sa.URL, *, terminate: bool) -> None:
    """Copy *file* over the database in one backup step, under an exclusive lock held throughout.

    The lock is taken before anything is read and kept until the copy is written, so no other
    process opens the database in between. The id counters are raised in a temporary copy of
    *file* first, so that the one backup step writes them with the rows (all or nothing).
    """
    path = _sqlite_path(url)
    dest = _sqlite_exclusive(path, terminate=terminate)
    try:
        with _temporary_beside(Path(path)) as tmp:
            highest = _sqlite_highest_ids(dest)
            source = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
            copy = sqlite3.connect(tmp, isolation_level=None)
            try:
                source.backup(copy)
                _sqlite_raise_sequences(copy, highest)
                copy.backup(dest)  # replaces every page of the database, under our lock
            finally:
                copy.close()
                source.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite の復元に失敗しました（{exc}）。何も変わっていません。") from None
    finally:
        dest.close()  # lets go of the lock; the app's next connection finds the restored file


def _sqlite_exclusive(path: str, *, terminate: bool) -> sqlite3.Connection:
    """A connection to *path* holding its exclusive lock, or a BackupError naming who is in the way.

    In WAL mode (the app's, see workflow.database) every open connection keeps a shared lock, so
    the exclusive lock is refused while another process merely has the database open, idle or
    mid-read. A file in rollback-journal mode shows idle connections only in ``/proc``, so the
    processes found there count too. With *terminate*, our own user's processes are sent SIGTERM
    and the lock is tried again until :data:`TERMINATE_WAIT_SECONDS` have passed.
    """
    deadline = time.monotonic() + TERMINATE_WAIT_SECONDS
    signalled: set[int] = set()
    while True:
        holders = sqlite_holders(path)
        conn = None if holders else _sqlite_try_exclusive(path)
        if conn is not None:
            return conn
        if not terminate:
            raise BackupError(
                f"{_sqlite_in_the_way(holders)}。アプリのサーバーを止めてからやり直すか、"
                "--terminate を付けてください。何も変わっていません。"
            )
        others = [h for h in holders if not h.ours]
        if others:
            raise BackupError(
                "別の利用者のプロセスがデータベースを開いているため終わらせられません"
                f"（{_describe(others)}）。何も変わっていません。"
            )
        for holder in holders:
            if holder.pid not in signalled:
                _sigterm(holder.pid)
                signalled.add(holder.pid)
        if time.monotonic() > deadline:
            raise BackupError(
                f"{TERMINATE_WAIT_SECONDS:g} 秒待っても{_sqlite_in_the_way(holders)}。"
                "何も変わっていません。"
            )
        time.sleep(0.2)


def _sqlite_try_exclusive(path: str) -> sqlite3.Connection | None:
    """A connection holding *path*'s exclusive lock until it closes, or None if it is refused."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=1.0)
    try:
        # Set before the first read: the lock is then taken on the file itself and kept until
        # the connection closes (in WAL mode, without the shared memory other connections use).
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("COMMIT")  # the lock stays: locking_mode is EXCLUSIVE
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            return None
        raise BackupError(f"SQLite のデータベースを開けません（{exc}）。") from None
    return conn


def _sqlite_in_the_way(holders: list[Holder]) -> str:
    if holders:
        return f"他のプロセスがデータベースを開いています（{_describe(holders)}）"
    return "他の接続がデータベースを使っていて排他ロックを取れません"


@dataclass(frozen=True)
class Holder:
    """A process that has the SQLite database open."""

    pid: int
    command: str
    ours: bool  # runs as our user: --terminate may end it


def sqlite_holders(path: str) -> list[Holder]:
    """The other processes with *path* (or its -wal, -shm) open, by their ``/proc/<pid>/fd``.

    Processes of other users are listed only where their fds are readable (root's are not to
    us); the exclusive lock still finds them.
    """
    if not Path("/proc").is_dir():  # not Linux: the exclusive lock alone decides
        return []
    base = os.path.realpath(path)
    names = {base, f"{base}-wal", f"{base}-shm"}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if not any(os.readlink(fd) in names for fd in (entry / "fd").iterdir()):
                continue
            raw = (entry / "cmdline").read_bytes()
            ours = entry.stat().st_uid == os.getuid()
        except OSError:  # gone meanwhile, or not ours to look at
            continue
        command = " ".join(raw.decode(errors="replace").replace("\0", " ").split())  # one line
        found.append(Holder(int(entry.name), command[:80], ours))
    return sorted(found, key=lambda h: h.pid)


def _describe(holders: list[Holder]) -> str:
    return "、".join(f"pid {h.pid}: {h.command or '?'}" for h in holders)


def _sigterm(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    except PermissionError:
        raise BackupError(
            f"pid {pid} のプロセスを終わらせる権限がありません。何も変わっていません。"
        ) from None


def _sqlite_highest_ids(conn: sqlite3.Connection) -> dict[str, int]:
    """Per table, the highest id the database has issued: its sqlite_sequence or its rows."""
    highest: dict[str, int] = {}
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND sql NOT LIKE 'CREATE VIRTUAL%'"
        )
    ]
    for name in tables:
        try:
            (top,) = conn.execute(f'SELECT max(rowid) FROM "{name}"').fetchone()  # noqa: S608
        except sqlite3.OperationalError:  # WITHOUT ROWID: no id of SQLite's making
            continue
        highest[name] = top or 0
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence"):
            highest[name] = max(highest.get(name, 0), seq or 0)
    return highest


def _sqlite_raise_sequences(conn: sqlite3.Connection, highest: dict[str, int]) -> None:
    """Raise the restored copy's counters to at least *highest* (AUTOINCREMENT tables only:
    without it SQLite issues max(id) + 1, which nothing stored can raise)."""
    autoincrement = {
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"
        )
    }
    conn.execute("BEGIN IMMEDIATE")
    for name in sorted(autoincrement & highest.keys()):
        seq = highest[name]
        raise_ = "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?"
        if conn.execute(raise_, (seq, name)).rowcount == 0:  # no id issued in the copy yet
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq))
    conn.execute("COMMIT")


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


def _pg_restore(engine: sa.Engine, file: Path, *, terminate: bool) -> None:
    """Run the dump as one transaction: ``pg_restore -f -`` (SQL) streamed into ``psql -1``.

    Before: no other session may be connected (or, with *terminate*, they are ended). The script
    first locks every table with an id and notes the highest id each has issued, so ids an app
    server issued after the check count too; it then runs with our lock timeout in place of the
    dump's ``SET lock_timeout = 0``, and ends by moving every sequence past both what it was and
    the restored rows' ids, before the one COMMIT. Any failure changes nothing.
    """
    major = _server_major(engine)
    restore, psql = pg_program("pg_restore", major), pg_program("psql", major)
    with engine.connect() as conn:
        _pg_no_other_sessions(conn, terminate=terminate)
        columns = _pg_id_columns(conn)
        conn.rollback()
    engine.dispose()  # our own session must not hold a lock on what the script replaces
    env = _pg_environment(engine.url)
    env["PGAPPNAME"] = "chogi restore"
    # From the first statement on; the script's own SET is replaced as well (see _pg_feed).
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout={LOCK_TIMEOUT}".strip()
    dump = [restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "-f", "-"]
    script = [
        psql, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose",
        "--single-transaction", "-f", "-", f"--dbname={engine.url.database}",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as script_err:
        pipe, null = subprocess.PIPE, subprocess.DEVNULL
        producer = subprocess.Popen([*dump, str(file)], env=env, stdout=pipe, stderr=dump_err)  # noqa: S603
        consumer = subprocess.Popen(script, env=env, stdin=pipe, stdout=null, stderr=script_err)  # noqa: S603
        try:
            complete = _pg_feed(producer.stdout, consumer.stdin, columns)
            producer.stdout.close()
            dumped = producer.wait() == 0 and complete
            if dumped:
                consumer.stdin.close()  # psql commits at the end of its input
                consumer.wait()
            elif not complete:  # psql stopped reading: it failed, and is on its way out
                with contextlib.suppress(subprocess.TimeoutExpired):
                    consumer.wait(timeout=10)
        finally:
            stopped = consumer.poll() is None  # psql did not fail by itself: we stop it
            for process in (consumer, producer):
                if process.poll() is None:
                    # Killed before its input ended, psql never sends the COMMIT: the server
                    # rolls back the half-run script when the connection drops.
                    process.kill()
                    process.wait()
            for pipe in (consumer.stdin, producer.stdout):
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()
        if consumer.returncode != 0 or not dumped:
            # psql's own error (it stops at the first), else pg_restore's (psql was stopped).
            raise BackupError(_pg_failure("" if stopped else _read(script_err), _read(dump_err)))


def _pg_feed(dump: IO[bytes], script: IO[bytes], columns: list[tuple[str, str]]) -> bool:
    """Write the script: lock the id tables and note their ids, then the SQL from *dump* line by
    line (our lock timeout in place of the dump's), then the sequences' final positions. False
    when psql stopped reading (it failed)."""
    in_copy = False
    try:
        script.write(_pg_note_ids_sql(columns).encode())
        for line in dump:
            if in_copy:
                in_copy = line != b"\\.\n"
            elif line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
                in_copy = True
            elif line.strip() == b"SET lock_timeout = 0;":
                line = f"SET lock_timeout = '{LOCK_TIMEOUT}';\n".encode()
            script.write(line)
        script.write(_SEQUENCES_SQL.encode())
        script.flush()
    except BrokenPipeError:
        return False
    return True


def _read(file: IO[bytes]) -> str:
    file.seek(0)
    return " ".join(file.read().decode(errors="replace").split())


def _pg_failure(script_err: str, dump_err: str) -> str:
    """The message for a failed restore: psql's error when it failed, else pg_restore's."""
    if "55P03" in script_err:  # lock_not_available: our lock timeout ran out
        return (
            f"他の接続がロックを持っていて、{LOCK_TIMEOUT} 待っても戻せませんでした。"
            "アプリのサーバーを止めてからやり直してください。何も変わっていません。"
        )
    if script_err:
        return f"psql での復元が失敗しました。何も変わっていません（{script_err[:300]}）"
    return f"pg_restore が失敗しました。何も変わっていません（{dump_err[:300]}）"


# -- PostgreSQL: other sessions and id sequences --------------------------------------------------

_OTHER_SESSIONS = sa.text(
    "SELECT pid, application_name, host(client_addr) AS client_addr, state,"
    " backend_start FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    " AND backend_type = 'client backend' ORDER BY pid"
)


def _pg_no_other_sessions(conn: sa.Connection, *, terminate: bool) -> None:
    """Refuse while other sessions use the database; with *terminate*, end them and wait."""
    sessions = conn.execute(_OTHER_SESSIONS).all()
    if not sessions:
        return
    listed = "、".join(
        f"pid {s.pid}（{s.application_name or '名前なし'}、{s.client_addr or 'ソケット'}、"
        f"{s.state or '不明'}、{s.backend_start:%Y-%m-%d %H:%M:%S} から）"
        for s in sessions
    )
    if not terminate:
        raise BackupError(
            f"他の接続がデータベースを使っています: {listed}。アプリのサーバーを止めてから"
            "やり直すか、--terminate を付けてください。何も変わっていません。"
        )
    pids = [s.pid for s in sessions]
    try:
        # False only for a session that has ended meanwhile; the wait below sees to the rest.
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM unnest(:pids) AS pid"), {"pids": pids}
        )
    except sa.exc.DBAPIError as exc:  # not ours to end (another role's, a superuser's)
        detail = " ".join(str(exc.orig).split())
        raise BackupError(f"接続を終わらせられません（{detail}）。何も変わっていません。") from None
    deadline = time.monotonic() + TERMINATE_WAIT_SECONDS
    while True:
        conn.rollback()  # a fresh snapshot of pg_stat_activity each time
        left = (
            conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}
            )
            .scalars()
            .all()
        )
        if not left:
            return
        if time.monotonic() > deadline:
            raise BackupError(
                f"{TERMINATE_WAIT_SECONDS:g} 秒待っても接続 pid {left} が終わりません。"
                "何も変わっていません。"
            )
        time.sleep(0.1)


def _pg_id_columns(conn: sa.Connection) -> list[tuple[str, str]]:
    """(table, column) for every column fed by a sequence; the table's name schema-qualified,
    for the script (which empties search_path)."""
    return [
        (table, column)
        for table, column in conn.execute(
            sa.text(
                "SELECT format('%I.%I', n.nspname, t.relname) AS tbl, a.attname AS col"
                " FROM pg_class s"
                " JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid"
                "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
                " JOIN pg_class t ON t.oid = d.refobjid"
                " JOIN pg_namespace n ON n.oid = t.relnamespace"
                " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"
                " WHERE s.relkind = 'S' AND n.nspname = current_schema() ORDER BY 1, 2"
            )
        )
    ]


# Runs first in the script's transaction: every table with an id is locked, then the highest id
# each has issued (its sequence's last value, or its largest id) is noted. Under the locks no app
# server can issue another id until the restore commits: one that reconnected after the check
# (gunicorn's workers do at once) waits, and the ids it issued before are counted.
_IDS_TABLE_SQL = (
    "CREATE TEMPORARY TABLE chogi_ids_before (tbl text, col text, top bigint) ON COMMIT DROP;\n"
)
_NOTE_IDS_SQL = """
DO $chogi$
DECLARE
    r record;
    top bigint;
BEGIN
    FOR r IN SELECT * FROM (VALUES %(rows)s) AS v(tbl, col) LOOP
        EXECUTE format('LOCK TABLE %%s IN ACCESS EXCLUSIVE MODE', r.tbl);
    END LOOP;
    FOR r IN SELECT * FROM (VALUES %(rows)s) AS v(tbl, col) LOOP
        EXECUTE format('SELECT max(%%I) FROM %%s', r.col, r.tbl) INTO top;
        INSERT INTO chogi_ids_before VALUES (r.tbl, r.col, GREATEST(top,
            pg_catalog.pg_sequence_last_value(pg_catalog.pg_get_serial_sequence(r.tbl, r.col))));
    END LOOP;
END
$chogi$;
"""

# Runs last in the script's transaction: the restore and the sequences commit together.
_SEQUENCES_SQL = """
DO $chogi$
DECLARE
    r record;
    seq regclass;
    top bigint;
BEGIN
    FOR r IN SELECT * FROM pg_temp.chogi_ids_before LOOP
        CONTINUE WHEN to_regclass(r.tbl) IS NULL;
        seq := pg_catalog.pg_get_serial_sequence(r.tbl, r.col);
        CONTINUE WHEN seq IS NULL;
        EXECUTE format('SELECT max(%I) FROM %s', r.col, r.tbl) INTO top;
        top := GREATEST(r.top, top, pg_catalog.pg_sequence_last_value(seq));
        IF top > 0 THEN
            PERFORM pg_catalog.setval(seq, top);
        END IF;
    END LOOP;
END
$chogi$;
"""


def _pg_note_ids_sql(columns: list[tuple[str, str]]) -> str:
    """The script's first statements: lock the id tables and note their highest ids (the names
    are the catalog's own, written as literals)."""
    if not columns:
        return _IDS_TABLE_SQL  # the last statement reads it, empty
    rows = ", ".join(f"({_literal(t)}, {_literal(c)})" for t, c in columns)
    return _IDS_TABLE_SQL + _NOTE_IDS_SQL % {"rows": rows}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
