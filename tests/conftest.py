"""Test set-up: one database per run (SQLite file, or a fresh PostgreSQL database with --db)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient

from workflow import create_app
from workflow.extensions import db
from workflow.models import seed_meeting_kinds
from workflow.models.history import create_append_only_guard, drop_append_only_guard

PG_ADMIN_URL = os.environ.get(
    "CHOGI_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("CHOGI_TEST_DB", "sqlite"),
        help="database engine the suite runs on (PostgreSQL: a fresh database per run)",
    )


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _create_pg_database() -> str:
    """Create an empty database for this run on the PostgreSQL server; return its URL."""
    name = f"chogi_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(url: str) -> None:
    name = sa.make_url(url).database
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
    if config.getoption("--db") != "postgresql" or hasattr(config, "workerinput"):
        return
    try:
        config.chogi_pg_url = _create_pg_database()
    except sa.exc.OperationalError as exc:
        detail = " ".join(str(exc.orig).split())  # psycopg's message spans lines
        reason = f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({detail})"
        if _in_ci():
            pytest.exit(f"FAILED: {reason}; CI needs it", returncode=1)
        pytest.exit(f"SKIPPED the PostgreSQL run: {reason}", returncode=0)


def pytest_unconfigure(config: pytest.Config) -> None:
    if url := getattr(config, "chogi_pg_url", None):
        _drop_pg_database(url)


def pytest_report_header(config: pytest.Config) -> str:
    return f"chogi database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory) -> str:
    if request.config.getoption("--db") == "postgresql":
        return request.config.chogi_pg_url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'chogi.sqlite3'}"


@pytest.fixture(scope="session")
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


class FreshGClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as it does in production.

    The ``app`` fixture keeps one app context pushed for the whole test and Flask reuses it for
    each request, so ``g`` would outlive a request: Flask-Login caches the signed-in user there
    and Flask-WTF the CSRF token, and a second client (or a timed-out session) would see them.
    """

    def open(self, *args, **kwargs):
        for name in list(g):
            g.pop(name)
        return super().open(*args, **kwargs)


def make_app(database_url: str, **config) -> Flask:
    """An app on the test database (used by fixtures and by tests that need a second one)."""
    app = _create_test_app(database_url, **config)
    app.test_client_class = FreshGClient
    return app


def _create_test_app(database_url: str, **config) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            **config,
        }
    )


@pytest.fixture(scope="session")
def _schema(database_url: str) -> str:
    app = make_app(database_url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return database_url


def _empty_all_tables() -> None:
    tables = db.metadata.sorted_tables
    # The database refuses to delete history (workflow.models.history): lift that for the wipe.
    drop_append_only_guard(db.session.connection())
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    create_append_only_guard(db.session.connection())
    db.session.commit()


@pytest.fixture
def app(_schema: str) -> Iterator[Flask]:
    """A fresh app on an emptied database with the meeting kinds seeded, inside its context."""
    app = make_app(_schema)
    with app.app_context():
        _empty_all_tables()
        seed_meeting_kinds()
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
