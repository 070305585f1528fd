"""One JSON log line per request with a request id, and the health endpoints."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD, make_user
from tests.support import make_app
from workflow.extensions import db
from workflow.models import ApiToken
from workflow.states.states import Role


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def request_log(app: Flask) -> Iterator[list[dict]]:
    handler = _Lines()
    logger = logging.getLogger("chogi.requests")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def test_every_request_is_one_json_line(client: FlaskClient, request_log):
    before = datetime.now(UTC)
    response = client.get("/login?next=/secret-search-term")
    assert response.status_code == 200
    (line,) = request_log
    assert set(line) == {"time", "request_id", "method", "path", "status", "duration_ms", "user_id"}
    assert line["method"] == "GET"
    assert line["path"] == "/login"  # no query string: it may hold what someone searched for
    assert line["status"] == 200
    assert line["user_id"] is None
    assert 0 <= line["duration_ms"] < 60_000
    assert line["time"].endswith("Z")
    logged = datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= logged <= datetime.now(UTC) + timedelta(seconds=1)
    assert response.headers["X-Request-ID"] == line["request_id"]
    assert len(line["request_id"]) == 32


def test_a_sane_request_id_is_kept_and_echoed(client: FlaskClient, request_log):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:42"})
    assert response.headers["X-Request-ID"] == "lb-7f3a:42"
    assert request_log[-1]["request_id"] == "lb-7f3a:42"


@pytest.mark.parametrize("given", ["", "a b", "x" * 200, "<script>", "id\u3000全角", "-leading"])
def test_an_odd_request_id_is_replaced(client: FlaskClient, request_log, given):
    response = client.get("/healthz", headers={"X-Request-ID": given})
    rid = response.headers["X-Request-ID"]
    assert rid != given
    assert len(rid) == 32
    assert rid.isalnum()
    assert request_log[-1]["request_id"] == rid


def test_the_signed_in_user_and_the_token_user_are_logged(app, client: FlaskClient, request_log):
    user = make_user(Role.SECRETARIAT, login="sec")
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.commit()
    user_id = user.id
    client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"})
    assert request_log[-1]["user_id"] == user_id
    assert request_log[-1]["path"] == "/api/v1/items"

    response = client.post("/login", data={"login": "sec", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert request_log[-1]["user_id"] == user_id
    client.get("/api/v1/items", headers={"Authorization": "Bearer chogi_wrong"})
    assert request_log[-1]["status"] == 401
    assert request_log[-1]["user_id"] is None


def test_errors_are_logged_with_their_status(client: FlaskClient, request_log):
    client.get("/no-such-page")
    client.post("/api/v1/items", data=b"{")
    assert [line["status"] for line in request_log] == [404, 401]


# -- /healthz and /readyz -------------------------------------------------------------------------


def _down_app(app: Flask) -> Flask:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        return make_app("postgresql+psycopg://nobody@127.0.0.1:1/none")
    return make_app("sqlite:////nonexistent-directory/chogi.sqlite3")


def test_healthz_needs_no_database_and_no_sign_in(app: Flask):
    for flask_app in (app, _down_app(app)):
        response = flask_app.test_client().get("/healthz")
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok"}


@pytest.fixture
def stamped(app: Flask) -> Iterator[None]:
    """The test database says it is at the migrations' head (create_all built it)."""
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["db", "stamp", "heads"])
    assert result.exit_code == 0, result.output
    yield
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")


@pytest.mark.usefixtures("stamped")
def test_readyz_when_everything_is_ready(client: FlaskClient):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "fonts": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_a_database_behind_the_migrations(client: FlaskClient):
    db.session.rollback()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert "flask --app wsgi db upgrade" in body["checks"]["migrations"]
    assert body["reason"] == body["checks"]["migrations"]


@pytest.mark.usefixtures("stamped")
def test_readyz_after_an_old_revision(app: Flask, client: FlaskClient):
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('b55473d47769')"))
    assert client.get("/readyz").status_code == 503


def test_readyz_without_a_database(app: Flask):
    response = _down_app(app).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"] == "データベースに接続できません。"
    assert body["checks"]["migrations"].startswith("データベースに接続できないため")
    assert body["reason"].startswith("データベースに接続できません。")
