"""Test set-up: one database per run (SQLite file, or a fresh PostgreSQL database with --db), and
the fixtures several test modules use. Shared plain helpers live in tests/support.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.support import (
    PG_ADMIN_URL,
    Server,
    create_pg_database,
    drop_pg_database,
    empty_all_tables,
    make_app,
    start_server,
    stop_server,
    wait_ready,
)
from workflow.extensions import db
from workflow.models import seed_meeting_kinds


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("CHOGI_TEST_DB", "sqlite"),
        help="database engine the suite runs on (PostgreSQL: a fresh database per run)",
    )


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
    if config.getoption("--db") != "postgresql" or hasattr(config, "workerinput"):
        return
    try:
        config.chogi_pg_url = create_pg_database()
    except sa.exc.OperationalError as exc:
        detail = " ".join(str(exc.orig).split())  # psycopg's message spans lines
        reason = f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({detail})"
        if _in_ci():
            pytest.exit(f"FAILED: {reason}; CI needs it", returncode=1)
        pytest.exit(f"SKIPPED the PostgreSQL run: {reason}", returncode=0)


def pytest_unconfigure(config: pytest.Config) -> None:
    if url := getattr(config, "chogi_pg_url", None):
        drop_pg_database(url)


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


@pytest.fixture(scope="session")
def _schema(database_url: str) -> str:
    app = make_app(database_url)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return database_url


@pytest.fixture
def app(_schema: str) -> Iterator[Flask]:
    """A fresh app on an emptied database with the meeting kinds seeded, inside its context."""
    app = make_app(_schema)
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def empty_database(engine_name: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (not the suite's shared one, which create_all built)."""
    if engine_name == "postgresql":
        url = create_pg_database()
        yield url
        drop_pg_database(url)
    else:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


@pytest.fixture
def bare_app(empty_database: str) -> Iterator[Flask]:
    """An app on :func:`empty_database`, inside its context."""
    app = make_app(empty_database)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def servers(app, database_url: str, engine_name: str, tmp_path: Path) -> Iterator[list[Server]]:
    """Two gunicorn servers on the suite's PostgreSQL database (skipped on SQLite)."""
    if engine_name != "postgresql":
        pytest.skip(
            "several servers share one PostgreSQL; SQLite serves one machine "
            "(tests/test_sqlite_concurrency.py covers its processes)"
        )
    yield from _serving(database_url, tmp_path, 2)


@pytest.fixture
def server(app, database_url: str, tmp_path: Path) -> Iterator[Server]:
    """One gunicorn server on the suite's database, either engine: what a real server hands over."""
    for [started] in _serving(database_url, tmp_path, 1):
        yield started


def _serving(database_url: str, tmp_path: Path, count: int) -> Iterator[list[Server]]:
    db.session.commit()
    started = [start_server(database_url, tmp_path / f"server{n}.log") for n in range(1, count + 1)]
    try:
        for server in started:
            wait_ready(server)
        yield started
    finally:
        for server in started:
            stop_server(server)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for a browser-test module (tests/browser)."""
    from tests.browser import chromium

    with chromium() as launched:
        yield launched
