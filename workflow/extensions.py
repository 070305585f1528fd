"""Flask extensions, created unbound and initialised in :func:`workflow.create_app`."""

from typing import Any

import click
from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations can refer to them on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class LazyMigrate:
    """Flask-Migrate, imported the first time something uses it.

    Importing Flask-Migrate imports Alembic (0.2 s on a quiet machine, far more under load),
    which only the ``flask db`` commands, migrations/env.py and ``flask doctor`` need; a web
    worker, a PDF rendering or any other command starts without it. ``init_app`` takes the
    arguments of ``Migrate.init_app``; the real one runs on first use.
    """

    def init_app(self, app: Flask, db: SQLAlchemy, **kwargs: Any) -> None:
        app.extensions["migrate"] = _DeferredMigrateConfig(app, db, kwargs)
        app.cli.add_command(_DeferredDbGroup("db", help="Perform database migrations."))


class _DeferredMigrateConfig:
    """Stands in ``app.extensions["migrate"]`` until an attribute is read, then is replaced."""

    def __init__(self, app: Flask, db: SQLAlchemy, kwargs: dict[str, Any]) -> None:
        self._app, self._db, self._kwargs = app, db, kwargs

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        from flask_migrate import Migrate

        if self._app.extensions.get("migrate") is self:
            Migrate().init_app(self._app, self._db, **self._kwargs)
        return getattr(self._app.extensions["migrate"], name)


class _DeferredDbGroup(click.Group):
    """``flask db …``: stands in the top-level command list; parsing hands over to
    Flask-Migrate's own group (its options, its callback, its commands)."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        from flask_migrate.cli import db as db_group

        return db_group.make_context(info_name, args, parent=parent, **extra)


db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
