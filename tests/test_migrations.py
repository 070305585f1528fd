"""`flask db upgrade` builds, on an empty database, exactly the schema the models describe.

When this fails after a model change, add a revision: ``flask --app wsgi db migrate -m "why"``,
then read and tidy the generated file (see migrations/README).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.factories import make_item_published_then_held, make_section, make_user
from tests.support import flask_db, search_rows
from workflow import PROJECT_ROOT
from workflow.extensions import db
from workflow.models import DEFAULT_KINDS, Item, ItemDetail, MeetingKind, User
from workflow.queries.search import search
from workflow.search_index import SQLITE_TABLES, fold, include_object, short_grams
from workflow.states.states import Role

MIGRATIONS = PROJECT_ROOT / "migrations"


def _schema_diff() -> list:
    with db.engine.connect() as conn:
        # As migrations/env.py does: the engine's search index is no model.
        opts = {"compare_type": True, "include_object": include_object}
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, db.metadata)


def _table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"} - SQLITE_TABLES


def _seeded_kinds() -> list[tuple[str, str, int, int, bool]]:
    rows = db.session.scalars(sa.select(MeetingKind).order_by(MeetingKind.sort_order))
    return [(k.code, k.name, k.level, k.sort_order, k.review) for k in rows]


def test_the_migrations_have_one_head():
    """Two engineers adding revisions in parallel must merge them, not leave two heads."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_on_an_empty_database_gives_the_models_schema(bare_app):
    assert _table_names() == set()
    flask_db(bare_app, "upgrade")
    assert _table_names() == set(db.metadata.tables)
    assert _schema_diff() == [], "models and migrations disagree: add a revision"


def test_upgrade_names_check_constraints_as_the_models_do(bare_app):
    """Autogenerate does not compare CHECKs; a later migration must find them by these names."""
    flask_db(bare_app, "upgrade")
    inspector = sa.inspect(db.engine)
    for table in db.metadata.sorted_tables:
        expected = {str(c.name) for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert found == expected, table.name


def test_upgrade_seeds_the_five_meeting_kinds(bare_app):
    flask_db(bare_app, "upgrade")
    assert _seeded_kinds() == list(DEFAULT_KINDS)


def test_downgrade_to_base_then_upgrade_again(bare_app):
    flask_db(bare_app, "upgrade")
    flask_db(bare_app, "downgrade", "base")
    assert _table_names() == set()
    flask_db(bare_app, "upgrade")
    assert _schema_diff() == []
    assert _seeded_kinds() == list(DEFAULT_KINDS)


def _imports(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize(
    "path", sorted(MIGRATIONS.rglob("*.py")), ids=lambda p: str(p.relative_to(MIGRATIONS))
)
def test_no_migration_imports_the_app(path: Path):
    """An old revision must run as it was written, not with today's models and helpers."""
    found = [m for m in _imports(ast.parse(path.read_text())) if m.split(".")[0] == "workflow"]
    assert found == [], f"{path.name} imports {found}"


def _revision(name: str) -> ModuleType:
    (path,) = MIGRATIONS.glob(f"versions/*_{name}.py")
    spec = importlib.util.spec_from_file_location(f"revision_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("text", ["", "a", "道路", "ＩＣＴ戦略、道路予算", "𠮷野家のｶﾞ"])
def test_the_migrations_copies_of_the_search_functions_agree_with_the_app(text: str):
    """SQLite's triggers call the app's chogi_grams() on rows the migration indexed with its own
    copy, and the search revision folds as the app does: a drift would leave stale tokens."""
    assert _revision("short_word_index").short_grams(fold(text)) == short_grams(fold(text))
    assert _revision("search_documents").fold(text) == fold(text)


def _upgraded_with_a_held_item(bare_app) -> tuple[int, int]:
    """Upgrade to head and write a held item with a 裏面 detail: (its id, the secretariat's id)."""
    flask_db(bare_app, "upgrade")
    secretariat = make_user(Role.SECRETARIAT)
    department = make_user(Role.DEPARTMENT, make_section("情報政策課"))
    item = make_item_published_then_held(secretariat, department)
    item.details = [ItemDetail(heading="背景", body="道路予算の見直し")]
    db.session.commit()
    return item.id, secretariat.id


def test_the_search_revisions_index_the_items_already_there(bare_app):
    """Upgrading a database that holds items gives the search rows and indexes the app keeps."""
    item_id, secretariat_id = _upgraded_with_a_held_item(bare_app)
    written = search_rows()
    assert {field for _i, _p, field, *_rest in written} >= {"title", "details", "opinions"}
    db.session.remove()

    flask_db(bare_app, "downgrade", "f942e37513f4")  # before search_documents
    assert "search_documents" not in _table_names()
    flask_db(bare_app, "upgrade")
    assert search_rows() == written
    reader = db.session.get(User, secretariat_id)
    for word in ("道路", "未公表の会議", "見直"):  # short words, and one the trigrams find
        assert [hit.item.id for hit in search(reader, word).hits] == [item_id], word


def _sqlite_schema() -> dict[str, str]:
    with db.engine.connect() as conn:
        query = "SELECT name, sql FROM sqlite_master WHERE sql NOT NULL"
        return {name: sql for name, sql in conn.exec_driver_sql(query)}


def _rows(skip: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    with db.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
            for t in db.metadata.sorted_tables
            if t.name not in skip
        }


# The notices the item's events wrote are in a table of a later revision (issue 19), which the
# downgrade drops with them.
LATER_TABLES = ("notices",)


def test_the_autoincrement_revision_keeps_rows_ids_and_triggers(bare_app, engine_name):
    """SQLite's tables are rebuilt with AUTOINCREMENT (issue 17): rows, ids, indexes and triggers
    stay, and the id of a deleted last row is not issued again. PostgreSQL: nothing changes."""
    item_id, secretariat_id = _upgraded_with_a_held_item(bare_app)
    db.session.remove()
    rows = _rows(skip=LATER_TABLES)

    flask_db(bare_app, "downgrade", "8d41c2e5a9b7")
    if engine_name == "sqlite":
        before = _sqlite_schema()
        assert not [name for name, sql in before.items() if "AUTOINCREMENT" in sql]
    flask_db(bare_app, "upgrade", "c3a7e1f04b52")
    if engine_name == "sqlite":
        assert set(_sqlite_schema()) == set(before), "every index and trigger is there again"
    flask_db(bare_app, "upgrade")  # the later revisions' tables say AUTOINCREMENT too
    assert _rows(skip=LATER_TABLES) == rows
    if engine_name == "sqlite":
        after = _sqlite_schema()
        rebuilt = {name for name, sql in after.items() if "AUTOINCREMENT" in sql}
        assert rebuilt == {
            t.name for t in db.metadata.tables.values() if t.autoincrement_column is not None
        }
    assert _schema_diff() == []

    # The search index's triggers: a new text is found, by a word and by a two-character one.
    held = db.session.get(Item, item_id)
    held.details.append(ItemDetail(heading="経緯", body="橋梁の点検"))
    db.session.commit()
    reader = db.session.get(User, secretariat_id)
    for word in ("道路", "橋梁の点検", "点検"):
        assert [hit.item.id for hit in search(reader, word).hits] == [item_id], word
    db.session.remove()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM history_events")
    last = make_section("最後の課")
    db.session.commit()
    deleted_id = last.id
    db.session.delete(last)
    db.session.commit()
    assert make_section("次の課").id > deleted_id
    db.session.commit()
