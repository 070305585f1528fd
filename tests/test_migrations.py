"""`flask db upgrade` builds, on an empty database, exactly the schema the models describe.

When this fails after a model change, add a revision: ``flask --app wsgi db migrate -m "why"``,
then read and tidy the generated file (see migrations/README).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.support import flask_db
from workflow import PROJECT_ROOT
from workflow.extensions import db
from workflow.models import DEFAULT_KINDS, MeetingKind
from workflow.search_index import SQLITE_TABLES, include_object

MIGRATIONS = PROJECT_ROOT / "migrations"


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
