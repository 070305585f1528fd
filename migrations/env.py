"""Alembic environment, run through Flask-Migrate (``flask --app wsgi db …``).

The app's engine and metadata drive everything; this file only adds what autogenerate and SQLite
need. Like every migration it imports no app code: Flask-Migrate hands it the app's ``db``.
"""

from __future__ import annotations

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    # Log to the console from `flask db …`; a host that set up logging already (pytest, a
    # server) keeps its own handlers, and the app's loggers stay alive either way.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
target_metadata = target_db.metadata
# The engine's search index lives beside the models (FTS5 tables on SQLite, GIN indexes on
# PostgreSQL); the metadata names those objects by kind, for autogenerate to leave alone.
OUTSIDE_MODELS = target_metadata.info.get("outside_models", {})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """The engine's search index is no model, so it is no difference either."""
    return name not in OUTSIDE_MODELS.get(type_, ())


def render_item(type_: str, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types, so migrations never import app code.

    A migration must keep working after the models move on; ``UTCDateTime`` is a
    ``DateTime(timezone=True)`` in the database, and that is what the file should say.
    """
    if type_ == "type" and obj.__class__.__module__.startswith("workflow."):
        impl = getattr(obj, "impl", None)
        if impl is not None:
            return f"sa.{impl!r}"
    return False


def _skip_empty_autogenerate(context, revision, directives) -> None:
    """`flask db migrate` with no model change writes no empty revision."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def _options(dialect_name: str) -> dict:
    options = {
        "target_metadata": target_metadata,
        "compare_type": True,
        # SQLite cannot ALTER most things: rebuild the table ("move and copy") instead.
        "render_as_batch": dialect_name == "sqlite",
        "render_item": render_item,
        # The engine's search index (FTS5 tables, a GIN index) is built beside the models.
        "include_object": include_object,
    }
    configured = dict(current_app.extensions["migrate"].configure_args)
    configured.setdefault("process_revision_directives", _skip_empty_autogenerate)
    return options | configured


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`flask db upgrade --sql`) instead of running it."""
    url = target_db.engine.url
    context.configure(url=url, literal_binds=True, **_options(url.get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the app's own engine (so its SQLite settings apply)."""
    engine = target_db.engine
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            # A batch migration rebuilds a table (copy, drop, rename): with foreign keys
            # enforced, the drop fails while other rows refer to the table. SQLite's documented
            # procedure for altering a table turns them off around it (outside a transaction:
            # the driver connection autocommits, see workflow.database) and checks them after.
            _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            context.configure(connection=connection, **_options(engine.dialect.name))
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = _sqlite_pragma(connection, "PRAGMA foreign_key_check")
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
        finally:
            if sqlite:
                _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


def _sqlite_pragma(connection, statement: str) -> list:
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        return cursor.execute(statement).fetchall()
    finally:
        cursor.close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
