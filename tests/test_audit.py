"""The history is tamper-evident: a hash chain that `flask audit verify` checks, and a database
that refuses UPDATE and DELETE on it (triggers on both engines).

Tampering is done the way an intruder with database access would: raw SQL, with the triggers
dropped on purpose first.
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask

from tests.factories import make_item, make_item_published_then_held, make_meeting, make_user
from tests.support import insert_row, make_app
from workflow import PROJECT_ROOT
from workflow.audit import verify_chain
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Section, User
from workflow.models.history import (
    GENESIS,
    content_hash,
    create_append_only_guard,
    drop_append_only_guard,
)
from workflow.services import items
from workflow.services.transaction import unit_of_work
from workflow.states.states import ItemStatus, Role

REVISION = "f46382df07c0"  # the migration that introduced the chain


def _rows() -> list[HistoryEvent]:
    return list(db.session.scalars(sa.select(HistoryEvent).order_by(HistoryEvent.id)))


def _verify(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def _raw(sql: str, **params) -> None:
    """Run SQL as an intruder would, with the append-only triggers out of the way."""
    db.session.rollback()
    with db.engine.begin() as conn:
        drop_append_only_guard(conn)
        conn.execute(sa.text(sql), params)
        create_append_only_guard(conn)


@pytest.fixture
def history(app) -> list[HistoryEvent]:
    """Two items taken along the workflow: half a dozen history rows from real transitions."""
    secretariat = make_user(Role.SECRETARIAT)
    make_item(ItemStatus.APPROVED, secretariat=secretariat)
    make_item(ItemStatus.RETURNED, secretariat=secretariat)
    db.session.commit()
    rows = _rows()
    assert len(rows) >= 6
    db.session.expunge_all()  # keep them as they were read, whatever the tests do to the table
    db.session.rollback()  # and end the read: on SQLite it holds the write lock
    return rows


def test_every_row_is_linked_to_the_one_before(history):
    assert history[0].prev_hash == GENESIS
    for before, row in zip(history, history[1:], strict=False):
        assert row.prev_hash == before.hash
    for row in history:
        assert row.hash == content_hash(row.content())
        assert len(row.hash) == 64
    assert len({row.hash for row in history}) == len(history)


def test_verify_passes_on_an_intact_chain(app, history):
    result = _verify(app)
    assert result.exit_code == 0, result.output + result.stderr
    assert f"履歴の鎖に問題はありません（{len(history)}件" in result.output
    assert history[-1].hash in result.output


def test_verify_on_an_empty_history(app):
    result = _verify(app)
    assert result.exit_code == 0
    assert "履歴はまだありません" in result.output


def test_an_edited_row_is_named(app, history):
    victim = history[3]
    _raw("UPDATE history_events SET reason = :r WHERE id = :id", r="書き換え", id=victim.id)
    result = _verify(app)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"履歴 #{victim.id}: 内容がハッシュと一致しません（記録後に書き換えられています）"
    ]
    assert "1件の問題" in result.stderr


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(app, history):
    """An intruder who rehashes the row they changed still breaks the link after it."""
    victim, after = history[2], history[3]
    content = victim.content() | {"to_state": "approved"}
    _raw(
        "UPDATE history_events SET to_state = 'approved', hash = :h WHERE id = :id",
        h=content_hash(content),
        id=victim.id,
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"履歴 #{after.id}: 直前の履歴 #{victim.id}とのつながりが切れています"
        "（間の履歴が削除・挿入されたか、書き換えられています）"
    ]


def test_a_deleted_row_is_found_at_the_next_one(app, history):
    victim, after = history[4], history[5]
    _raw("DELETE FROM history_events WHERE id = :id", id=victim.id)
    result = _verify(app)
    assert result.exit_code == 1
    assert f"履歴 #{after.id}: 直前の履歴 #{history[3].id}とのつながりが切れています" in (
        result.output
    )


def test_a_deleted_first_row_is_found(app, history):
    _raw("DELETE FROM history_events WHERE id = :id", id=history[0].id)
    result = _verify(app)
    assert result.exit_code == 1
    assert f"履歴 #{history[1].id}: 直前の鎖の始まりとのつながりが切れています" in result.output


def test_a_wholesale_rewrite_is_caught_by_the_anchor(app, history):
    """Rehashing the whole chain passes the hash checks; the head recorded earlier does not."""
    anchor = history[-1].hash
    assert _verify(app, "--anchor", anchor).exit_code == 0
    with db.engine.begin() as conn:
        drop_append_only_guard(conn)
        head = GENESIS
        for row in history:
            content = row.content() | {"reason": "全部書き換え", "prev_hash": head}
            head = content_hash(content)
            conn.execute(
                sa.text(
                    "UPDATE history_events SET reason = :r, prev_hash = :p, hash = :h WHERE id = :id"
                ),
                {"r": "全部書き換え", "p": content["prev_hash"], "h": head, "id": row.id},
            )
        create_append_only_guard(conn)
    assert _verify(app).exit_code == 0
    result = _verify(app, "--anchor", anchor)
    assert result.exit_code == 1
    assert f"控えたハッシュ {anchor} が履歴の鎖の中にありません" in result.output


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE history_events SET reason = 'x'",
        "UPDATE history_events SET hash = hash",
        "DELETE FROM history_events",
        "DELETE FROM history_events WHERE id = (SELECT max(id) FROM history_events)",
    ],
)
def test_the_database_refuses_update_and_delete(app, history, sql):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text(sql))
    db.session.expire_all()
    assert [(r.id, r.hash, r.reason) for r in _rows()] == [
        (r.id, r.hash, r.reason) for r in history
    ]


def test_postgresql_refuses_truncate(app, history, engine_name):
    if engine_name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite's DELETE without WHERE is refused above")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE history_events"))
    assert len(_rows()) == len(history)


def test_new_rows_are_appended_after_the_head(app, history):
    """Through the ORM too (not only fire): every new row is chained in before_flush."""
    item = db.session.scalar(sa.select(Item).limit(1))
    db.session.add(HistoryEvent(item_id=item.id, event="e", from_state="a", to_state="b"))
    db.session.add(HistoryEvent(item_id=item.id, event="f", from_state="b", to_state="c"))
    db.session.commit()
    rows = _rows()
    assert [r.event for r in rows[-2:]] == ["e", "f"]
    assert rows[-2].prev_hash == history[-1].hash
    assert rows[-1].prev_hash == rows[-2].hash
    assert verify_chain().ok


def test_a_fork_is_refused_by_the_database(app, history):
    """Even a writer that skipped the lock could not fork the chain: prev_hash is unique."""
    row = history[-1]
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
        conn.execute(
            sa.insert(HistoryEvent.__table__).values(
                item_id=row.item_id,
                event="fork",
                from_state="a",
                to_state="b",
                params={},
                reason="",
                occurred_at=row.occurred_at,
                prev_hash=row.prev_hash,
                hash="f" * 64,
            )
        )


# -- concurrent writers keep one chain ----------------------------------------------------------


def _accept_after(app: Flask, item_id: int, secretariat_id: int, barrier, results: list) -> None:
    with app.app_context():
        try:
            barrier.wait()
            with unit_of_work():
                items.accept(db.session.get(User, secretariat_id), db.session.get(Item, item_id))
            results.append("ok")
        except Exception as exc:  # the test reports what went wrong
            results.append(repr(exc))
        finally:
            db.session.remove()


def _submitted_items(n: int) -> tuple[list[int], int]:
    secretariat = make_user(Role.SECRETARIAT)
    ids = [make_item(ItemStatus.SUBMITTED, secretariat=secretariat).id for _ in range(n)]
    db.session.commit()
    return ids, secretariat.id


def _assert_one_chain(expected_rows: int) -> None:
    db.session.expire_all()
    report = verify_chain()
    assert report.ok, [p.line() for p in report.problems]
    assert report.rows == expected_rows
    db.session.rollback()


def test_threads_appending_at_once_keep_one_chain(app):
    ids, secretariat_id = _submitted_items(6)
    before = len(_rows())
    db.session.rollback()
    barrier, results = threading.Barrier(len(ids), timeout=30), []
    threads = [
        threading.Thread(target=_accept_after, args=(app, i, secretariat_id, barrier, results))
        for i in ids
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == ["ok"] * len(ids)
    _assert_one_chain(before + len(ids))


def _process_main(url: str, item_ids: list[int], secretariat_id: int, barrier, queue) -> None:
    app = make_app(url)
    results: list[str] = []
    barrier.wait()
    for item_id in item_ids:
        _accept_after(app, item_id, secretariat_id, threading.Barrier(1), results)
    with app.app_context():
        db.engine.dispose()
    queue.put(results)


@pytest.mark.slow
def test_processes_appending_at_once_keep_one_chain(app, database_url):
    ids, secretariat_id = _submitted_items(12)
    before = len(_rows())
    db.session.rollback()
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(3, timeout=60), ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_main, args=(database_url, ids[k::3], secretariat_id, barrier, queue)
        )
        for k in range(3)
    ]
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get(timeout=120)]
    for p in procs:
        p.join(30)
    assert results == ["ok"] * len(ids)
    _assert_one_chain(before + len(ids))


# -- the migration: existing rows chained, the same triggers as create_all ----------------------


def _triggers(conn: sa.Connection) -> set[tuple[str, str]]:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            sa.text(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger"
                " WHERE tgrelid = 'history_events'::regclass AND NOT tgisinternal"
            )
        )
    else:
        rows = conn.execute(
            sa.text(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'trigger' AND tbl_name = 'history_events'"
            )
        )
    return {(name, " ".join(sql.split())) for name, sql in rows}


def _db(app: Flask, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)


def test_the_migration_chains_existing_rows_and_adds_the_triggers(app, empty_database):
    expected_triggers = _triggers(db.session.connection())  # the test schema: create_all
    db.session.rollback()
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    before = ScriptDirectory.from_config(config).get_revision(REVISION).down_revision

    other = make_app(empty_database)
    with other.app_context():
        _db(other, "upgrade", before)
        with db.engine.begin() as conn:  # Core, not the ORM: no later feature's hooks
            section_id = insert_row(conn, Section, name="課")
            item_id = insert_row(conn, Item, title="移行前の案件", section_id=section_id)
        history = sa.table(
            "history_events",
            *(sa.column(c) for c in ("item_id", "event", "from_state", "to_state", "reason")),
            sa.column("occurred_at", sa.DateTime(timezone=True)),
            sa.column("params", sa.JSON),
        )
        with db.engine.begin() as conn:
            for n, event in enumerate(("submit", "accept", "schedule")):
                conn.execute(
                    history.insert().values(
                        item_id=item_id,
                        event=event,
                        from_state=f"s{n}",
                        to_state=f"s{n + 1}",
                        reason="移行前" if n == 1 else "",
                        occurred_at=datetime(2020, 1, n + 1, 9, 30, 15, 123456, tzinfo=UTC),
                        params={"meeting_id": 7, "名前": "値"} if n == 2 else {},
                    )
                )
        _db(other, "upgrade")
        report = verify_chain()
        assert report.ok, [p.line() for p in report.problems]
        assert report.rows == 3
        rows = _rows()
        assert rows[0].prev_hash == GENESIS
        db.session.rollback()
        assert _triggers(db.session.connection()) == expected_triggers
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM history_events"))
        _db(other, "downgrade", before)
        with db.engine.connect() as conn:
            assert _triggers(conn) == set()
            assert conn.scalar(sa.text("SELECT count(*) FROM history_events")) == 3
        db.session.remove()
        db.engine.dispose()


def test_the_hash_covers_the_content_only(history):
    """Bulk writers (flask demo generate) hash row dicts that may carry more, such as the id."""
    row = history[1]
    assert content_hash(row.content() | {"id": row.id, "hash": row.hash}) == row.hash
    with pytest.raises(KeyError):
        content_hash({k: v for k, v in row.content().items() if k != "meeting_id"})


# -- statuses follow the history ------------------------------------------------------------------


def _set_status(table: str, row_id: int, status: str) -> None:
    """Edit a status with plain SQL, as someone with database access would, past the machine."""
    db.session.rollback()  # end the session's read: on SQLite it holds the write lock
    statement = {
        "items": "UPDATE items SET status = :status WHERE id = :id",
        "meetings": "UPDATE meetings SET status = :status WHERE id = :id",
    }[table]
    with db.engine.begin() as conn:
        conn.execute(sa.text(statement), {"status": status, "id": row_id})


def _status_lines(app: Flask) -> list[str]:
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert "問題があります" in result.stderr
    return result.stdout.splitlines()


def test_verify_passes_when_every_status_follows_its_history(app, history):
    secretariat = make_user(Role.SECRETARIAT)
    make_item(ItemStatus.DRAFT)  # no history row yet: a draft
    make_meeting(secretariat)  # none either: planned
    make_item_published_then_held(secretariat)  # meetings held and published, by their events
    db.session.commit()
    result = _verify(app)
    assert result.exit_code == 0, result.output + result.stderr
    assert "状態も履歴どおりです" in result.output


def test_an_item_status_edited_in_the_database_is_named(app, history):
    item_id = history[-1].item_id
    last = max(row.id for row in history if row.item_id == item_id)
    before = next(row.to_state for row in history if row.id == last)
    assert before != "approved"
    _set_status("items", item_id, "approved")
    assert _status_lines(app) == [
        f"案件 #{item_id}: 状態が「approved」ですが、最後の履歴 #{last} では「{before}」です"
        "（履歴を経ずに書き換えられています）"
    ]


def test_an_item_without_history_must_be_a_draft(app, history):
    item_id = make_item(ItemStatus.DRAFT).id
    db.session.commit()
    _set_status("items", item_id, "submitted")
    assert _status_lines(app) == [
        f"案件 #{item_id}: 状態が「submitted」ですが、履歴がないので「draft」のはずです"
        "（履歴を経ずに書き換えられています）"
    ]


def test_a_meeting_status_edited_in_the_database_is_named(app):
    meeting_id = make_meeting(make_user(Role.SECRETARIAT)).id
    db.session.commit()
    _set_status("meetings", meeting_id, "published")
    assert _status_lines(app) == [
        f"会議 #{meeting_id}: 状態が「published」ですが、履歴がないので「planned」のはずです"
        "（履歴を経ずに書き換えられています）"
    ]
