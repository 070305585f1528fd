"""`flask backup FILE` and `flask restore FILE` on the engine the suite runs on: a round trip
that compares every table row by row, into a second database and over the same one.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.factories import make_item
from tests.support import make_app
from workflow.audit import verify_chain
from workflow.demo.load import load_demo
from workflow.extensions import db
from workflow.models import Item, PdfCache
from workflow.services.transaction import unit_of_work
from workflow.states.states import ItemStatus

Snapshot = dict[str, list[tuple]]


def snapshot(engine: sa.Engine) -> Snapshot:
    """Every row of every table, in primary-key order."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }


@pytest.fixture
def demo(app: Flask) -> Snapshot:
    """The demo data set, a cached PDF (binary column) and the whole database as rows."""
    with unit_of_work():
        load_demo(date(2026, 11, 23))
        db.session.add(PdfCache(key="k" * 64, kind="minutes", content=bytes(range(256)) * 4))
    db.session.remove()
    rows = snapshot(db.engine)
    for table in ("users", "items", "meetings", "agenda_entries", "history_events", "pdf_cache"):
        assert rows[table], f"the demo data should fill {table}"
    return rows


def _cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _ok(result) -> str:
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.stdout


def _error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("エラー: ")
    return lines[0]


def test_round_trip_into_a_empty_database(app, demo, empty_database, tmp_path):
    file = tmp_path / "chogi.backup"
    out = _ok(_cli(app, "backup", str(file)))
    assert f"{file} に保存しました" in out
    assert not list(tmp_path.glob(".chogi.backup.*")), "no temporary file left behind"

    other = make_app(empty_database)
    with other.app_context():
        out = _ok(_cli(other, "restore", str(file)))
        assert "を戻しました" in out
        assert snapshot(db.engine) == demo
        assert verify_chain().ok
        # The append-only triggers came along, and new rows get fresh ids (sequences restored).
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM history_events")
        item = make_item(ItemStatus.SUBMITTED)
        db.session.commit()
        assert item.id > max(row[0] for row in demo["items"])
        assert verify_chain().ok
        db.session.remove()
        db.engine.dispose()


def test_restore_over_the_same_database_with_force(app, demo, tmp_path):
    file = tmp_path / "chogi.backup"
    _ok(_cli(app, "backup", str(file)))
    make_item(ItemStatus.ACCEPTED, title="バックアップ後の案件")
    db.session.commit()
    db.session.remove()
    assert snapshot(db.engine) != demo

    message = _error(_cli(app, "restore", str(file)))
    assert "データがあります" in message
    assert "--force" in message
    assert db.session.scalar(sa.select(Item).where(Item.title == "バックアップ後の案件"))
    db.session.remove()

    _ok(_cli(app, "restore", "--force", str(file)))
    assert snapshot(db.engine) == demo
    assert verify_chain().ok


def test_backup_keeps_an_existing_file_unless_forced(app, demo, tmp_path):
    file = tmp_path / "chogi.backup"
    file.write_bytes(b"an older backup")
    assert "既にあります" in _error(_cli(app, "backup", str(file)))
    assert file.read_bytes() == b"an older backup"
    _ok(_cli(app, "backup", "--force", str(file)))
    assert file.read_bytes() != b"an older backup"


def test_a_backup_file_is_the_owners_only(app, tmp_path):
    old = os.umask(0o022)  # the common default, under which new files are world-readable
    try:
        _ok(_cli(app, "backup", str(tmp_path / "chogi.backup")))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "chogi.backup").stat().st_mode) == 0o600


def test_backup_into_a_missing_folder(app, tmp_path):
    assert "フォルダ" in _error(_cli(app, "backup", str(tmp_path / "no" / "such.backup")))


def test_restore_refuses_what_is_not_a_backup_of_this_engine(app, engine_name, tmp_path):
    missing = tmp_path / "missing.backup"
    assert "がありません" in _error(_cli(app, "restore", str(missing)))

    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"\x00" * 100)
    assert "backup で作ったファイルではありません" in _error(_cli(app, "restore", str(junk)))

    other_engine = tmp_path / "other.backup"
    other_engine.write_bytes(
        b"PGDMP\x01\x0e\x00" if engine_name == "sqlite" else b"SQLite format 3\x00" + b"\x00" * 84
    )
    assert "には戻せません" in _error(_cli(app, "restore", str(other_engine)))


def test_restore_refuses_an_sqlite_file_of_another_application(app, engine_name, tmp_path):
    if engine_name != "sqlite":
        pytest.skip("an SQLite file is checked table by table; a pg_dump file by pg_restore")
    file = tmp_path / "other-app.sqlite3"
    conn = sqlite3.connect(file)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    assert "このアプリのデータベースではありません" in _error(_cli(app, "restore", str(file)))
