"""`flask db upgrade` builds, on an empty database, exactly the schema the models describe.

When this fails after a model change, add a revision: ``flask --app wsgi db migrate -m "why"``,
then read and tidy the generated file (see migrations/README).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from tests.conftest import _create_pg_database, _drop_pg_database, make_app
from workflow import PROJECT_ROOT
from workflow.extensions import db
from workflow.models import DEFAULT_KINDS, MeetingKind
from workflow.search_index import SQLITE_TABLES, include_object

MIGRATIONS = PROJECT_ROOT / "migrations"


@pytest.fixture
def empty_database(engine_name: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (not the suite's shared one, which create_all built)."""
    if engine_name == "postgresql":
        url = _create_pg_database()
        yield url
        _drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


@pytest.fixture
def bare_app(empty_database: str) -> Iterator[Flask]:
    app = make_app(empty_database)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _flask_db(app: Flask, *args: str) -> None:
    """Run ``flask db …`` the way an operator does."""
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)


def _schema_diff() -> list:
    with db.engine.connect() as conn:
        # As migrations/env.py does: the engine's search index is no model.
        opts = {"compare_type": True, "include_object": include_object}
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, db.metadata)


def _table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"} - SQLITE_TABLES


def _seeded_kinds() -> list[tuple[str, str, int, int]]:
    rows = db.session.scalars(sa.select(MeetingKind).order_by(MeetingKind.sort_order))
    return [(k.code, k.name, k.level, k.sort_order) for k in rows]


def test_the_migrations_have_one_head():
    """Two engineers adding revisions in parallel must merge them, not leave two heads."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_on_an_empty_database_gives_the_models_schema(bare_app):
    assert _table_names() == set()
    _flask_db(bare_app, "upgrade")
    assert _table_names() == set(db.metadata.tables)
    assert _schema_diff() == [], "models and migrations disagree: add a revision"


def test_upgrade_names_check_constraints_as_the_models_do(bare_app):
    """Autogenerate does not compare CHECKs; a later migration must find them by these names."""
    _flask_db(bare_app, "upgrade")
    inspector = sa.inspect(db.engine)
    for table in db.metadata.sorted_tables:
        expected = {str(c.name) for c in table.constraints if isinstance(c, sa.CheckConstraint)}
        found = {c["name"] for c in inspector.get_check_constraints(table.name)}
        assert found == expected, table.name


def test_upgrade_seeds_the_five_meeting_kinds(bare_app):
    _flask_db(bare_app, "upgrade")
    assert _seeded_kinds() == list(DEFAULT_KINDS)


def test_downgrade_to_base_then_upgrade_again(bare_app):
    _flask_db(bare_app, "upgrade")
    _flask_db(bare_app, "downgrade", "base")
    assert _table_names() == set()
    _flask_db(bare_app, "upgrade")
    assert _schema_diff() == []
    assert _seeded_kinds() == list(DEFAULT_KINDS)
