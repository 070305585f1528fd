"""flask prune: old sign-in attempts and unused cached PDFs go; the sign-in limits do not move."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD, make_section, make_user
from tests.test_migrations import _flask_db, bare_app, empty_database  # noqa: F401 (fixtures)
from workflow.config import load_config
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.maintenance import PruneError, prune
from workflow.models import LoginAttempt, PdfCache
from workflow.models._types import utcnow
from workflow.pdf import cache, documents
from workflow.pdf.render import templates_digest
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

TOO_MANY = "ログインの試行回数が上限に達しました。"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FAKE_PDF = b"%PDF-1.7 from the cache"


def attempt(ago: timedelta, *, login: str = "tanaka", address: str = "192.0.2.1", success=False):
    row = LoginAttempt(login=login, address=address, success=success, at=utcnow() - ago)
    db.session.add(row)
    return row


def cached(key: str, *, made: timedelta, used: timedelta) -> PdfCache:
    now = utcnow()
    row = PdfCache(
        key=key, kind="minutes", content=FAKE_PDF, created_at=now - made, last_used_at=now - used
    )
    db.session.add(row)
    return row


def attempt_ages() -> list[timedelta]:
    """How old each remaining attempt is, rounded to the day, oldest first."""
    db.session.expire_all()
    now = utcnow()
    ats = db.session.scalars(sa.select(LoginAttempt.at).order_by(LoginAttempt.at))
    return [timedelta(days=round((now - at) / timedelta(days=1))) for at in ats]


def cache_keys() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(PdfCache.key)))


def last_used(key: str) -> datetime:
    db.session.expire_all()
    return db.session.scalar(sa.select(PdfCache.last_used_at).where(PdfCache.key == key))


def run(app: Flask, *args: str) -> Result:
    db.session.commit()  # hold no transaction (on SQLite: no write lock) while the command runs
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.expire_all()
    return result


def sign_in(client: FlaskClient, password: str = PASSWORD, address: str = "192.0.2.1"):
    return client.post(
        "/login",
        data={"login": "tanaka", "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


# -- sign-in attempts ---------------------------------------------------------------------------


def test_sign_in_attempts_older_than_ninety_days_go_and_the_rest_stay():
    for ago in (timedelta(days=400), timedelta(days=91), timedelta(days=89), timedelta(minutes=3)):
        attempt(ago)
    db.session.commit()
    result = prune()
    assert (result.login_attempts, result.pdf_cache) == (2, 0)
    assert attempt_ages() == [timedelta(days=89), timedelta(0)]


def test_the_sign_in_retention_comes_from_the_configuration(app):
    app.config["LOGIN_ATTEMPTS_RETENTION_DAYS"] = 7
    attempt(timedelta(days=8))
    attempt(timedelta(days=6))
    db.session.commit()
    assert prune().login_attempts == 1
    assert attempt_ages() == [timedelta(days=6)]


@pytest.mark.parametrize(
    ("login_id", "address", "failures"),
    [("tanaka", "192.0.2.1", 5), ("someone", "192.0.2.66", 20)],
    ids=["account", "address"],
)
def test_a_sign_in_refused_within_the_window_stays_refused_after_a_prune(
    client, login_id, address, failures
):
    make_user(Role.VIEWER, login="tanaka")
    # A success long ago (pruned) must not start the account's count again, nor old failures
    # (pruned) lift the limit: the window alone decides.
    attempt(timedelta(days=100), login="tanaka", success=True)
    for _ in range(30):
        attempt(timedelta(days=120), login=login_id, address=address)
    for _ in range(failures):
        attempt(timedelta(minutes=2), login=login_id, address=address)
    db.session.commit()
    assert sign_in(client, address=address).status_code == 429

    assert prune().login_attempts == 31
    response = sign_in(client, address=address)
    assert response.status_code == 429
    assert TOO_MANY in response.get_data(as_text=True)
    # Once the window has passed, the same password signs in.
    for row in db.session.scalars(sa.select(LoginAttempt)):
        row.at -= timedelta(minutes=16)
    db.session.commit()
    assert sign_in(client, address=address).status_code == 302


# -- the PDF cache ------------------------------------------------------------------------------


def test_cached_pdfs_stay_while_they_are_read_however_old_they_are():
    cached("read-this-week", made=timedelta(days=400), used=timedelta(days=2))
    cached("made-yesterday", made=timedelta(days=1), used=timedelta(days=1))
    cached("unread-for-31-days", made=timedelta(days=40), used=timedelta(days=31))
    cached("unread-for-a-year", made=timedelta(days=400), used=timedelta(days=365))
    db.session.commit()
    result = prune()
    assert (result.login_attempts, result.pdf_cache) == (0, 2)
    assert cache_keys() == {"read-this-week", "made-yesterday"}


def test_the_pdf_retention_comes_from_the_configuration(app):
    app.config["PDF_CACHE_RETENTION_DAYS"] = 3
    cached("four-days", made=timedelta(days=4), used=timedelta(days=4))
    cached("two-days", made=timedelta(days=2), used=timedelta(days=2))
    db.session.commit()
    assert prune().pdf_cache == 1
    assert cache_keys() == {"two-days"}


def test_a_cache_hit_notes_its_use_at_most_once_a_day(app):
    cached("stale", made=timedelta(days=50), used=timedelta(days=3))
    cached("fresh", made=timedelta(days=50), used=timedelta(hours=2))
    db.session.commit()
    writes: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            writes.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert cache.lookup("stale") == FAKE_PDF
        db.session.commit()
        assert len(writes) == 1
        assert utcnow() - last_used("stale") < timedelta(minutes=1)
        assert cache.lookup("stale") == FAKE_PDF  # noted a moment ago: no second write
        assert cache.lookup("fresh") == FAKE_PDF
        assert cache.lookup("missing") is None
        db.session.commit()
        assert len(writes) == 1
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert utcnow() - last_used("fresh") > timedelta(hours=1)


@pytest.mark.parametrize(
    "url", ["/public/items/{item}/form.pdf", "/api/v1/items/{item}/form.pdf"], ids=["page", "api"]
)
def test_a_download_served_from_the_cache_keeps_its_entry(client, url):
    """The pages commit only a fresh rendering; a download from the cache must still be noted."""
    path = play_sample(
        make_user(Role.DEPARTMENT, make_section("情報政策課")),
        make_user(Role.SECRETARIAT),
        until="section_managers",
    )
    db.session.commit()
    context = documents.request_form_context(path.item)
    key = cache.content_key("request_form", templates_digest(), context)
    cached(key, made=timedelta(days=60), used=timedelta(days=29))
    db.session.commit()

    response = client.get(url.format(item=path.item.id))
    assert response.status_code == 200
    assert response.data == FAKE_PDF  # served from the cache, not rendered
    # Committed: another connection (another worker, the prune command) sees it.
    with db.engine.connect() as conn:
        noted = conn.scalar(sa.select(PdfCache.last_used_at).where(PdfCache.key == key))
    assert utcnow() - noted < timedelta(minutes=1)
    db.session.rollback()
    assert prune(utcnow() + timedelta(days=29)).pdf_cache == 0
    assert key in cache_keys()


# -- one transaction ----------------------------------------------------------------------------


def test_a_failed_prune_deletes_nothing(monkeypatch):
    """Both deletes are one transaction: when the second fails, the first is undone."""
    attempt(timedelta(days=200))
    cached("old", made=timedelta(days=200), used=timedelta(days=200))
    db.session.commit()
    real_execute = db.session.execute
    deletes = []

    def execute(statement, *args, **kwargs):
        if isinstance(statement, sa.Delete):
            deletes.append(statement)
            if len(deletes) == 2:
                raise sa.exc.OperationalError("DELETE", {}, Exception("the connection was lost"))
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", execute)
    with pytest.raises(sa.exc.OperationalError):
        prune()
    monkeypatch.undo()
    assert len(deletes) == 2
    assert attempt_ages() == [timedelta(days=200)]
    assert cache_keys() == {"old"}


# -- the command --------------------------------------------------------------------------------


def test_the_command_says_in_japanese_what_it_removed(app):
    attempt(timedelta(days=1000))
    attempt(timedelta(days=91))
    attempt(timedelta(days=1))
    cached("unread", made=timedelta(days=90), used=timedelta(days=45))
    cached("read", made=timedelta(days=90), used=timedelta(days=5))
    result = run(app, "prune")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "90日より前のログイン試行の記録を2件削除しました。",
        "30日以上使われていないPDFキャッシュを1件削除しました。",
    ]
    assert attempt_ages() == [timedelta(days=1)]
    assert cache_keys() == {"read"}


def test_the_command_on_an_empty_database_removes_nothing(app):
    result = run(app, "prune")
    assert result.exit_code == 0, result.output
    assert "ログイン試行の記録を0件削除しました。" in result.stdout


def test_dry_run_counts_and_deletes_nothing(app):
    for _ in range(1200):
        attempt(timedelta(days=100))
    cached("unread", made=timedelta(days=90), used=timedelta(days=45))
    result = run(app, "prune", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "90日より前のログイン試行の記録が1,200件あります。",
        "30日以上使われていないPDFキャッシュが1件あります。",
        "--dry-run のため、何も削除していません。",
    ]
    assert len(attempt_ages()) == 1200
    assert cache_keys() == {"unread"}


# -- configuration ------------------------------------------------------------------------------


def test_a_sign_in_log_kept_shorter_than_the_limits_window_is_refused(app):
    app.config["LOGIN_WINDOW_MINUTES"] = 2 * 24 * 60 + 1
    app.config["LOGIN_ATTEMPTS_RETENTION_DAYS"] = 2
    attempt(timedelta(days=4))
    cached("unread", made=timedelta(days=90), used=timedelta(days=45))
    result = run(app, "prune")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "エラー: LOGIN_ATTEMPTS_RETENTION_DAYS（2日）がログイン試行を数える時間 "
        "LOGIN_WINDOW_MINUTES（2881分）より短いため、削除できません。3日以上にしてください。"
    ]
    assert attempt_ages() == [timedelta(days=4)]
    assert cache_keys() == {"unread"}
    app.config["LOGIN_ATTEMPTS_RETENTION_DAYS"] = 3  # as long as the window: allowed
    assert prune().login_attempts == 1


@pytest.mark.parametrize("name", ["LOGIN_ATTEMPTS_RETENTION_DAYS", "PDF_CACHE_RETENTION_DAYS"])
@pytest.mark.parametrize("value", [0, -30, "90", 1.5, True])
def test_a_retention_that_is_not_a_positive_number_of_days_is_refused(app, name, value):
    app.config[name] = value
    with pytest.raises(PruneError) as refused:
        prune()
    message = refused.value.format_message()
    assert message.startswith(f"{name} は1以上の日数（整数）にしてください")
    assert JAPANESE.search(message)


def test_the_retentions_default_to_90_and_30_days_and_come_from_the_environment(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("LOGIN_ATTEMPTS_RETENTION_DAYS", raising=False)
    monkeypatch.delenv("PDF_CACHE_RETENTION_DAYS", raising=False)
    config = load_config(str(tmp_path))
    assert (config["LOGIN_ATTEMPTS_RETENTION_DAYS"], config["PDF_CACHE_RETENTION_DAYS"]) == (90, 30)
    monkeypatch.setenv("LOGIN_ATTEMPTS_RETENTION_DAYS", "365")
    monkeypatch.setenv("PDF_CACHE_RETENTION_DAYS", "7")
    config = load_config(str(tmp_path))
    assert (config["LOGIN_ATTEMPTS_RETENTION_DAYS"], config["PDF_CACHE_RETENTION_DAYS"]) == (365, 7)


# -- the migration ------------------------------------------------------------------------------


def test_the_migration_counts_cached_rows_as_last_used_when_they_were_made(bare_app):  # noqa: F811
    _flask_db(bare_app, "upgrade", "73799ba97563")
    made = datetime(2026, 1, 2, 3, 4, 5)
    pdf_cache = sa.table(
        "pdf_cache",
        sa.column("key", sa.String),
        sa.column("kind", sa.String),
        sa.column("content", sa.LargeBinary),
        sa.column("created_at", sa.DateTime),
    )
    with db.engine.begin() as conn:
        conn.execute(
            pdf_cache.insert().values(key="k", kind="minutes", content=b"%PDF", created_at=made)
        )
    _flask_db(bare_app, "upgrade")
    row = db.session.execute(sa.select(PdfCache.created_at, PdfCache.last_used_at)).one()
    assert row.last_used_at == row.created_at
