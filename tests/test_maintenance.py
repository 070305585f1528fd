"""flask prune: old sign-in attempts, unused cached PDFs, long-ended sessions and idempotency
keys past their 24 hours go.

The sign-in limits do not move, and a session that can still be used is never deleted.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD, make_section, make_user
from tests.support import flask_db
from workflow.auth import session_is_live
from workflow.config import load_config
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.maintenance import PruneError, prune
from workflow.models import IdempotencyKey, LoginAttempt, PdfCache, User, UserSession
from workflow.models._types import utcnow
from workflow.pdf import cache, documents
from workflow.pdf.render import templates_digest
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

TOO_MANY = "ログインの試行回数が上限に達しました。"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FAKE_PDF = b"%PDF-1.7 from the cache"
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


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


def idempotency_key(user: User, key: str, ago: timedelta) -> IdempotencyKey:
    db.session.flush()
    row = IdempotencyKey(
        user_id=user.id,
        key=key,
        fingerprint="0" * 64,
        status=201,
        body="{}",
        created_at=utcnow() - ago,
    )
    db.session.add(row)
    return row


def idempotency_keys() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(IdempotencyKey.key)))


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


def session(
    user: User, *, began: timedelta, seen: timedelta, revoked: timedelta | None = None
) -> UserSession:
    """A sign-in *began* ago, last seen *seen* ago, logged out *revoked* ago (or not)."""
    now = utcnow()
    row = UserSession.start(user)
    row.created_at, row.last_seen_at = now - began, now - seen
    row.revoked_at = None if revoked is None else now - revoked
    db.session.add(row)
    return row


def session_ids() -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(UserSession.id)))


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
    context = documents.filed_form_context(path.item)
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


# -- sign-in sessions ---------------------------------------------------------------------------


def test_no_table_refers_to_sign_in_sessions():
    """Deleting a session row orphans nothing; a new reference must decide what a prune does."""
    referring = [
        f"{table.name}.{fk.parent.name}"
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == UserSession.__tablename__
    ]
    assert referring == []


def test_sessions_that_ended_more_than_thirty_days_ago_go_and_the_rest_stay():
    """Limits of 60 idle minutes and 12 hours; a session ends at whichever comes first."""
    user = make_user(Role.VIEWER)
    retired = make_user(Role.VIEWER, active=False)
    rows = {
        "logged out 31 days ago": session(
            user, began=31 * DAY + HOUR, seen=31 * DAY, revoked=31 * DAY
        ),
        "logged out 29 days ago": session(
            user, began=29 * DAY + HOUR, seen=29 * DAY, revoked=29 * DAY
        ),
        # Idle: ended an hour after it was last seen.
        "idle since 30 days 2 hours": session(
            user, began=30 * DAY + 3 * HOUR, seen=30 * DAY + 2 * HOUR
        ),
        "idle since 30 days": session(user, began=30 * DAY + HOUR, seen=30 * DAY),
        # Absolute: used to the end of its 12 hours, so it was still within the idle limit.
        "12 hours up 30 days 30 minutes ago": session(
            user, began=30 * DAY + 12 * HOUR + 30 * MINUTE, seen=30 * DAY + 31 * MINUTE
        ),
        "12 hours up 29 days 23 hours ago": session(
            user, began=30 * DAY + 11 * HOUR, seen=29 * DAY + 23 * HOUR + MINUTE
        ),
        "in use now": session(user, began=11 * HOUR, seen=MINUTE),
        # Not usable while the user is deactivated, but reactivating the user brings it back.
        "deactivated user, within the limits": session(retired, began=HOUR, seen=HOUR),
    }
    db.session.commit()
    ids = {name: row.id for name, row in rows.items()}

    result = prune()
    assert (result.login_attempts, result.pdf_cache, result.sessions) == (0, 0, 3)
    assert {name for name, id_ in ids.items() if id_ in session_ids()} == {
        "logged out 29 days ago",
        "idle since 30 days",
        "12 hours up 29 days 23 hours ago",
        "in use now",
        "deactivated user, within the limits",
    }


def test_the_session_retention_and_limits_come_from_the_configuration(app):
    app.config.update(
        SESSION_RETENTION_DAYS=7, SESSION_IDLE_MINUTES=30, SESSION_ABSOLUTE_MINUTES=30 * 24 * 60
    )
    user = make_user(Role.VIEWER)
    session(user, began=8 * DAY, seen=7 * DAY + 31 * MINUTE)  # idle 7 days 1 minute ago
    kept = session(user, began=8 * DAY, seen=7 * DAY + 29 * MINUTE)  # 1 minute short of 7 days
    db.session.commit()
    kept_id = kept.id
    assert prune().sessions == 1
    assert session_ids() == {kept_id}


# Session limits × retention, down to the shortest retention allowed under limits of years.
LIMITS = [
    pytest.param(60, 720, 30, id="defaults"),
    pytest.param(60, 720, 1, id="one-day-retention"),
    pytest.param(365 * 24 * 60, 10 * 365 * 24 * 60, 1, id="year-idle-decade-absolute"),
]
AGES = [
    timedelta(0),
    59 * MINUTE,
    61 * MINUTE,
    11 * HOUR + 59 * MINUTE,
    12 * HOUR + MINUTE,
    DAY + 2 * HOUR + 7 * MINUTE,
    31 * DAY + 7 * MINUTE,
    364 * DAY,
    366 * DAY,
    9 * 365 * DAY,
    11 * 365 * DAY,
]


@pytest.mark.parametrize(("idle", "absolute", "days"), LIMITS)
def test_a_live_session_is_never_deleted(app, idle, absolute, days):
    """Every session session_is_live accepts survives; of the rest, only long-ended ones go."""
    app.config.update(
        SESSION_IDLE_MINUTES=idle, SESSION_ABSOLUTE_MINUTES=absolute, SESSION_RETENTION_DAYS=days
    )
    user = make_user(Role.VIEWER)
    rows = []
    for began, seen in itertools.product(AGES, AGES):
        if seen <= began:
            rows.append(session(user, began=began, seen=seen))
            rows.append(session(user, began=began, seen=seen, revoked=seen))
    db.session.commit()
    now = utcnow()
    every = {row.id for row in rows}
    live = {row.id for row in rows if session_is_live(row)}
    ended = {
        row.id: min(
            row.revoked_at or now,
            row.last_seen_at + timedelta(minutes=idle),
            row.created_at + timedelta(minutes=absolute),
        )
        for row in rows
        if row.id not in live
    }
    cutoff = now - timedelta(days=days)
    long_ended = {id_ for id_, end in ended.items() if end < cutoff}
    assert live
    assert long_ended

    assert prune().sessions == len(long_ended)
    assert live <= session_ids()
    assert session_ids() == every - long_ended


def test_the_signed_in_client_still_works_after_a_prune(app, client):
    """A sign-in well within limits of a year survives the shortest retention; its logout goes
    once the retention has passed."""
    app.config.update(
        SESSION_IDLE_MINUTES=365 * 24 * 60,
        SESSION_ABSOLUTE_MINUTES=10 * 365 * 24 * 60,
        SESSION_RETENTION_DAYS=1,
    )
    user = make_user(Role.VIEWER, login="tanaka")
    session(user, began=400 * DAY, seen=300 * DAY, revoked=300 * DAY)
    session(user, began=800 * DAY, seen=400 * DAY)  # idle for over a year
    db.session.commit()
    assert sign_in(client).status_code == 302
    live = db.session.scalars(sa.select(UserSession).order_by(UserSession.id.desc())).first()
    live_id = live.id
    # Signed in long ago, last seen months ago: old, but within both limits.
    live.created_at -= 3 * 365 * DAY
    live.last_seen_at -= 364 * DAY
    db.session.commit()

    assert prune().sessions == 2
    assert session_ids() == {live_id}
    assert client.get("/").status_code == 200

    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert prune().sessions == 0  # logged out a moment ago: kept for review
    assert session_ids() == {live_id}
    assert prune(utcnow() + DAY + MINUTE).sessions == 1
    assert session_ids() == set()


# -- one transaction ----------------------------------------------------------------------------


def test_a_failed_prune_deletes_nothing(monkeypatch):
    """All deletes are one transaction: when the last fails, the others are undone."""
    attempt(timedelta(days=200))
    cached("old", made=timedelta(days=200), used=timedelta(days=200))
    session(make_user(Role.VIEWER), began=200 * DAY, seen=200 * DAY, revoked=200 * DAY)
    db.session.commit()
    before = session_ids()
    real_execute = db.session.execute
    deletes = []

    def execute(statement, *args, **kwargs):
        if isinstance(statement, sa.Delete):
            deletes.append(statement)
            if len(deletes) == 3:
                raise sa.exc.OperationalError("DELETE", {}, Exception("the connection was lost"))
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", execute)
    with pytest.raises(sa.exc.OperationalError):
        prune()
    monkeypatch.undo()
    assert len(deletes) == 3
    assert attempt_ages() == [timedelta(days=200)]
    assert cache_keys() == {"old"}
    assert session_ids() == before
    assert len(before) == 1


# -- the command --------------------------------------------------------------------------------


def test_the_command_says_in_japanese_what_it_removed(app):
    attempt(timedelta(days=1000))
    attempt(timedelta(days=91))
    attempt(timedelta(days=1))
    cached("unread", made=timedelta(days=90), used=timedelta(days=45))
    cached("read", made=timedelta(days=90), used=timedelta(days=5))
    user = make_user(Role.VIEWER)
    session(user, began=40 * DAY, seen=40 * DAY, revoked=40 * DAY)
    session(user, began=35 * DAY, seen=35 * DAY)
    kept = session(user, began=HOUR, seen=MINUTE)
    idempotency_key(user, "yesterday", DAY + MINUTE)
    idempotency_key(user, "this-morning", 23 * HOUR)
    result = run(app, "prune")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "90日より前のログイン試行の記録を2件削除しました。",
        "30日以上使われていないPDFキャッシュを1件削除しました。",
        "終了から30日を過ぎたログインセッションを2件削除しました。",
        "24時間を過ぎた Idempotency-Key の記録を1件削除しました。",
    ]
    assert attempt_ages() == [timedelta(days=1)]
    assert cache_keys() == {"read"}
    assert session_ids() == {kept.id}
    assert idempotency_keys() == {"this-morning"}


def test_the_command_on_an_empty_database_removes_nothing(app):
    result = run(app, "prune")
    assert result.exit_code == 0, result.output
    assert "ログイン試行の記録を0件削除しました。" in result.stdout
    assert "ログインセッションを0件削除しました。" in result.stdout


def test_dry_run_counts_and_deletes_nothing(app):
    for _ in range(1200):
        attempt(timedelta(days=100))
    cached("unread", made=timedelta(days=90), used=timedelta(days=45))
    user = make_user(Role.VIEWER)
    for _ in range(3):
        session(user, began=50 * DAY, seen=50 * DAY, revoked=50 * DAY)
    session(user, began=HOUR, seen=MINUTE)
    idempotency_key(user, "old", 2 * DAY)
    result = run(app, "prune", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "90日より前のログイン試行の記録が1,200件あります。",
        "30日以上使われていないPDFキャッシュが1件あります。",
        "終了から30日を過ぎたログインセッションが3件あります。",
        "24時間を過ぎた Idempotency-Key の記録が1件あります。",
        "--dry-run のため、何も削除していません。",
    ]
    assert idempotency_keys() == {"old"}
    assert len(attempt_ages()) == 1200
    assert cache_keys() == {"unread"}
    assert len(session_ids()) == 4


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


@pytest.mark.parametrize(
    "name", ["LOGIN_ATTEMPTS_RETENTION_DAYS", "PDF_CACHE_RETENTION_DAYS", "SESSION_RETENTION_DAYS"]
)
@pytest.mark.parametrize("value", [0, -30, "90", 1.5, True])
def test_a_retention_that_is_not_a_positive_number_of_days_is_refused(app, name, value):
    app.config[name] = value
    with pytest.raises(PruneError) as refused:
        prune()
    message = refused.value.format_message()
    assert message.startswith(f"{name} は1以上の日数（整数）にしてください")
    assert JAPANESE.search(message)


RETENTIONS = ("LOGIN_ATTEMPTS_RETENTION_DAYS", "PDF_CACHE_RETENTION_DAYS", "SESSION_RETENTION_DAYS")


def test_the_retentions_default_to_90_30_and_30_days_and_come_from_the_environment(
    tmp_path, monkeypatch
):
    for name in RETENTIONS:
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path))
    assert [config[name] for name in RETENTIONS] == [90, 30, 30]
    for name, value in zip(RETENTIONS, ("365", "7", "14"), strict=True):
        monkeypatch.setenv(name, value)
    config = load_config(str(tmp_path))
    assert [config[name] for name in RETENTIONS] == [365, 7, 14]


# -- the migration ------------------------------------------------------------------------------


def test_the_migration_counts_cached_rows_as_last_used_when_they_were_made(bare_app):
    flask_db(bare_app, "upgrade", "73799ba97563")
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
    flask_db(bare_app, "upgrade")
    row = db.session.execute(sa.select(PdfCache.created_at, PdfCache.last_used_at)).one()
    assert row.last_used_at == row.created_at
