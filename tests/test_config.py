"""Configuration from the environment: a real secret key always, and the database URL."""

from __future__ import annotations

import gc
import os
import re
import runpy
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from workflow import PROJECT_ROOT
from workflow.config import load_config


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "DATABASE_URL", "CHOGI_HTTPS", "SESSION_IDLE_MINUTES"):
        monkeypatch.delenv(name, raising=False)


# -- SECRET_KEY ---------------------------------------------------------------------------------


def test_without_secret_key_one_is_generated_into_the_instance_folder(tmp_path):
    instance = tmp_path / "instance"
    key = load_config(str(instance))["SECRET_KEY"]
    key_file = instance / "secret_key"
    assert key_file.read_text().strip() == key
    assert len(key) == 64
    int(key, 16)  # 256 random bits, hex
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_generated_key_is_stable_across_starts(tmp_path):
    first = load_config(str(tmp_path))["SECRET_KEY"]
    second = load_config(str(tmp_path))["SECRET_KEY"]
    assert first == second
    assert [p.name for p in tmp_path.iterdir() if "secret" in p.name] == ["secret_key"]


def test_each_instance_gets_its_own_key_never_a_fixed_fallback(tmp_path):
    keys = {load_config(str(tmp_path / name))["SECRET_KEY"] for name in ("a", "b", "c")}
    assert len(keys) == 3


def test_workers_starting_together_agree_on_one_key(tmp_path):
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: load_config(str(tmp_path))["SECRET_KEY"], range(16)))
    assert len(keys) == 1
    assert keys == {(tmp_path / "secret_key").read_text().strip()}


def test_an_empty_key_file_is_refused_not_used(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="no usable key"):
        load_config(str(tmp_path))


def test_secret_key_from_the_environment_wins_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-0123456789abcdef")
    assert load_config(str(tmp_path))["SECRET_KEY"] == "from-the-environment-0123456789abcdef"
    assert not (tmp_path / "secret_key").exists()


# -- DATABASE_URL -------------------------------------------------------------------------------


def test_the_default_database_is_a_sqlite_file_in_the_instance_folder(tmp_path):
    instance = tmp_path / "new-instance"
    url = load_config(str(instance))["SQLALCHEMY_DATABASE_URI"]
    assert url == f"sqlite:///{instance / 'chogi.sqlite3'}"
    assert instance.is_dir()


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """The common default umask (022), under which new files are world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("lax_umask")
@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "left-world-readable"])
def test_the_sqlite_file_and_its_wal_and_shm_are_the_owners_only(tmp_path, existing):
    from tests.support import make_app
    from workflow.extensions import db

    database = tmp_path / "chogi.sqlite3"
    if existing:
        sqlite3.connect(database).close()
        assert stat.S_IMODE(database.stat().st_mode) == 0o644
    app = make_app(f"sqlite:///{database}")
    with app.app_context():
        db.create_all()  # writes: the -wal and -shm files exist while the connection is open
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files} == {
            path.name: "0o600" for path in files
        }
        db.engine.dispose()


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgresql://chogi:pw@db.example:5432/chogi",
            "postgresql+psycopg://chogi:pw@db.example:5432/chogi",
        ),
        ("postgres://chogi@db.example/chogi", "postgresql+psycopg://chogi@db.example/chogi"),
        (
            "postgresql+psycopg://chogi@db.example/chogi",
            "postgresql+psycopg://chogi@db.example/chogi",
        ),
        ("sqlite:////var/lib/chogi/chogi.sqlite3", "sqlite:////var/lib/chogi/chogi.sqlite3"),
    ],
    ids=["postgresql", "postgres", "already-psycopg", "sqlite"],
)
def test_database_url_from_the_environment_uses_psycopg_3(tmp_path, monkeypatch, given, used):
    monkeypatch.setenv("DATABASE_URL", given)
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == used


# -- cookies and sessions -----------------------------------------------------------------------


def test_plain_http_by_default(tmp_path):
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_chogi_https_makes_the_cookie_secure(tmp_path, monkeypatch, value):
    monkeypatch.setenv("CHOGI_HTTPS", value)
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["PREFERRED_URL_SCHEME"] == "https"


def test_session_timeouts_come_from_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "15")
    config = load_config(str(tmp_path))
    assert config["SESSION_IDLE_MINUTES"] == 15
    assert config["SESSION_ABSOLUTE_MINUTES"] == 720


# -- gunicorn -----------------------------------------------------------------------------------


def test_gunicorn_started_in_the_project_root_takes_its_config():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run(  # noqa: S603
        [str(gunicorn), "--print-config", "wsgi:app"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.search(r"^post_worker_init\s+= <post_worker_init\(\)>$", result.stdout, re.M)


def test_the_config_freezes_a_workers_start_up():
    hooks = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    try:
        hooks["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
