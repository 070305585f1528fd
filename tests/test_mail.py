"""Notices by e-mail (issue 19, workflow.mail): a real SMTP server (aiosmtpd, tests/mail_server.py)
receives what `flask worker` sends; the server can be down, slow, or refuse a recipient."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Row, delete, select, update

from tests.factories import make_item, make_section, make_user
from tests.mail_server import MailServer, mail_server  # noqa: F401 (the fixture)
from tests.support import auth
from workflow import PROJECT_ROOT
from workflow.config import load_config
from workflow.extensions import db
from workflow.jobs import Worker, load_handlers
from workflow.models import Notice, User
from workflow.models._types import utcnow
from workflow.models.job import Job
from workflow.models.notice import MAIL_FAILED, MAIL_NONE, MAIL_PENDING, MAIL_SENT
from workflow.services import items
from workflow.states.states import ItemStatus, JobStatus, Role

BASE = "https://chogi.example.city.jp"
SENDER = "chogi@city.example.jp"
REASON = "添付資料（財源内訳）が不足しています。\n補正後の金額を記載してください。"


@pytest.fixture
def mailing(app: Flask, mail_server: MailServer) -> MailServer:  # noqa: F811
    """The app sends its notices' mail to :func:`mail_server`."""
    app.config.update(
        **mail_server.settings(),
        MAIL_FROM=f"庁議システム <{SENDER}>",
        PUBLIC_BASE_URL=BASE,
        MAIL_TIMEOUT_SECONDS=5,
    )
    return mail_server


def run_due(name: str = "mail-worker") -> int:
    """Run what is due with one worker, as `flask worker --once` does; the number of jobs run."""
    load_handlers()
    return Worker(name).run(threading.Event(), once=True)


def notices() -> list[Row]:
    """The notices as they are now: plain rows, read in a transaction ended at once (SQLite: the
    test holds no lock while a worker runs)."""
    found = db.session.execute(
        select(Notice.id, Notice.user_id, Notice.mail_status, Notice.mailed_at).order_by(Notice.id)
    ).all()
    db.session.rollback()
    return found


def mail_jobs() -> list[Row]:
    """The mail jobs as they are now (as :func:`notices`)."""
    found = db.session.execute(
        select(Job.id, Job.status, Job.attempts, Job.error, Job.claimed_by)
        .where(Job.kind == "mail_notice")
        .order_by(Job.id)
    ).all()
    db.session.rollback()
    return found


def make_due() -> None:
    """Time passes: every waiting job is due now."""
    db.session.execute(update(Job).values(run_after=utcnow()))
    db.session.commit()


def section_with_people() -> dict:
    """A section whose users differ in how they get notices, another section, the secretariat."""
    section = make_section("財政課")
    return {
        "mailed": make_user(
            Role.DEPARTMENT, section, display_name="山田 太郎", email="yamada@x.jp"
        ),
        "also": make_user(Role.DEPARTMENT, section, display_name="佐藤 花子", email="sato@x.jp"),
        "no_address": make_user(Role.DEPARTMENT, section, display_name="鈴木 一郎"),
        "in_app": make_user(Role.DEPARTMENT, section, email="tanaka@x.jp", notify_by_email=False),
        "other": make_user(Role.DEPARTMENT, email="other@x.jp"),
        "secretariat": make_user(Role.SECRETARIAT, email="jimukyoku@x.jp"),
    }


def submitted(department, secretariat=None, **kw):
    """A submitted request of *department*'s section. Its submission told the secretariat (by
    mail where they have an address): not what these tests look at, so those are dropped."""
    item = make_item(ItemStatus.SUBMITTED, department=department, secretariat=secretariat, **kw)
    db.session.execute(delete(Job).where(Job.kind == "mail_notice"))
    db.session.execute(delete(Notice))
    return item


def returned(people: dict, title: str = "市民会館改修計画") -> int:
    """A request of the people's section, returned with :data:`REASON` and committed."""
    item = submitted(people["mailed"], people["secretariat"], title=title)
    items.return_item(people["secretariat"], item, REASON)
    item_id = item.id
    db.session.commit()  # the test's objects are expired: reading one would begin a transaction
    return item_id


# -- what is sent, to whom --------------------------------------------------------------------


def test_a_returned_request_mails_each_user_of_its_section_who_gets_mail(app, mailing):
    people = section_with_people()
    item_id = returned(people)

    assert run_due() == 2
    assert run_due() == 0

    received = mailing.messages()
    assert sorted(r.rcpt_tos[0] for r in received) == ["sato@x.jp", "yamada@x.jp"]
    for mail in received:
        assert mail.rcpt_tos == [mail.message["To"].addresses[0].addr_spec]
        assert mail.mail_from == SENDER
        assert mail.message["Subject"] == "【庁議】案件「市民会館改修計画」が差し戻されました"
        assert mail.message["From"].addresses[0].display_name == "庁議システム"
        assert mail.message["Date"] is not None
        text = mail.text.replace("\r\n", "\n")
        assert REASON in text  # the reason in full
        assert f"{BASE}/items/{item_id}\n" in text
        assert f"{BASE}/account/notices\n" in text
        assert "自動で送信" in text
    yamada = next(r for r in received if r.rcpt_tos == ["yamada@x.jp"])
    assert str(yamada.message["To"]) == "山田 太郎 <yamada@x.jp>"
    assert yamada.text.startswith("山田 太郎 様")
    # One Message-ID per notice: a copy sent again would carry the same one.
    ids = {r.message_id for r in received}
    assert len(ids) == 2
    assert all(i.startswith("<chogi-notice-") and i.endswith("@city.example.jp>") for i in ids)

    by_user = {n.user_id: n for n in notices()}
    for who in ("mailed", "also"):
        assert by_user[people[who].id].mail_status == MAIL_SENT
        assert by_user[people[who].id].mailed_at is not None
    for who in ("no_address", "in_app"):
        assert by_user[people[who].id].mail_status == MAIL_NONE  # in the app only
    assert people["other"].id not in by_user
    assert people["secretariat"].id not in by_user  # the one who returned it
    assert {j.status for j in mail_jobs()} == {JobStatus.DONE}


def test_without_a_mail_server_notices_stay_in_the_app(app, mail_server):  # noqa: F811
    people = section_with_people()  # MAIL_SERVER unset
    returned(people)

    assert run_due() == 0
    assert mail_server.messages() == []
    assert {n.mail_status for n in notices()} == {MAIL_NONE}


def test_iso_2022_jp_mail_is_seven_bit_and_decodes_to_the_japanese(app, mailing):
    app.config["MAIL_CHARSET"] = "iso-2022-jp"
    people = section_with_people()
    people["also"].active = False
    item = submitted(people["mailed"], title="令和８年度～予算")
    items.return_item(people["secretariat"], item, "期間「4月～6月」を記載してください。")
    db.session.commit()

    run_due()

    [mail] = mailing.messages()
    mail.raw.decode("ascii")  # 7 bits: nothing but ASCII on the wire
    assert mail.message.get_content_charset() == "iso-2022-jp"
    assert mail.message["Content-Transfer-Encoding"] == "7bit"
    assert b"=?iso-2022-jp?b?" in mail.raw
    # ～ (as typed on Windows) is JIS's 〜: the same glyph, not lost.
    assert mail.message["Subject"] == "【庁議】案件「令和８年度〜予算」が差し戻されました"
    on_the_wire = email.message_from_bytes(mail.raw)  # the headers as sent, not decoded
    for name in ("Subject", "To", "From"):
        assert on_the_wire[name].startswith("=?iso-2022-jp?b?"), name
    assert str(mail.message["To"]) == "山田 太郎 <yamada@x.jp>"
    assert str(mail.message["From"]) == f"庁議システム <{SENDER}>"
    text = mail.text
    assert text.startswith("山田 太郎 様")
    assert "期間「4月〜6月」を記載してください。" in text
    assert f"{BASE}/items/{item.id}" in text


def test_what_jis_cannot_spell_is_mailed_in_utf_8(app, mailing):
    app.config["MAIL_CHARSET"] = "iso-2022-jp"
    people = section_with_people()
    people["mailed"].display_name = "髙橋 ①"  # not in JIS X 0208
    people["also"].active = False
    returned(people)

    run_due()

    [mail] = mailing.messages()
    assert mail.message.get_content_charset() == "utf-8"
    assert mail.text.startswith("髙橋 ① 様")
    assert notices()[0].mail_status == MAIL_SENT


@pytest.mark.parametrize(("value", "on"), [("1", True), ("", False), ("0", False), ("true", False)])
def test_starttls_only_when_mail_use_tls_is_1(tmp_path, monkeypatch, value, on):
    monkeypatch.setenv("MAIL_USE_TLS", value)
    assert load_config(str(tmp_path))["MAIL_USE_TLS"] is on


def test_with_tls_asked_for_a_server_without_starttls_gets_nothing_in_clear(app, mailing):
    app.config["MAIL_USE_TLS"] = True
    people = section_with_people()
    people["also"].active = False
    returned(people)

    run_due()

    assert mailing.messages() == []
    [job] = mail_jobs()
    assert job.status == JobStatus.QUEUED  # the server's set-up, mended by its operator: retried
    assert "STARTTLS" in job.error
    assert notices()[0].mail_status == MAIL_PENDING


def test_a_notice_sent_already_or_no_longer_wanted_is_not_mailed(app, mailing):
    people = section_with_people()
    returned(people)
    first, second = (n for n in notices() if n.mail_status == MAIL_PENDING)
    db.session.execute(update(Notice).where(Notice.id == first.id).values(mail_status=MAIL_SENT))
    # The second user removed their address after the notice was written.
    db.session.get(User, second.user_id).email = None
    db.session.commit()

    assert run_due() == 2

    assert mailing.messages() == []
    statuses = {n.id: n.mail_status for n in notices()}
    assert statuses[first.id] == MAIL_SENT
    assert statuses[second.id] == MAIL_NONE
    assert {j.status for j in mail_jobs()} == {JobStatus.DONE}


def test_a_user_disabled_since_the_notice_gets_no_mail(app, mailing):
    people = section_with_people()
    people["also"].active = False
    returned(people)
    db.session.get(User, people["mailed"].id).active = False
    db.session.commit()

    assert run_due() == 1

    assert mailing.messages() == []
    assert notices()[0].mail_status == MAIL_NONE


# -- failures ---------------------------------------------------------------------------------


def test_a_recipient_refused_for_good_fails_the_notice_at_once(app, mailing):
    mailing.refused.add("sato@x.jp")
    people = section_with_people()
    returned(people)

    run_due()
    make_due()
    assert run_due() == 0  # not tried again

    assert [r.rcpt_tos for r in mailing.messages()] == [["yamada@x.jp"]]
    by_user = {n.user_id: n.mail_status for n in notices()}
    assert by_user[people["also"].id] == MAIL_FAILED
    assert by_user[people["mailed"].id] == MAIL_SENT
    failed = next(j for j in mail_jobs() if j.status == JobStatus.FAILED)
    assert failed.attempts == 1
    assert "550" in failed.error
    assert "sato@x.jp" in failed.error


def test_a_mail_job_has_its_own_attempts_then_fails_the_notice(app, mailing):
    app.config.update(JOB_MAX_ATTEMPTS=2, MAIL_MAX_ATTEMPTS=4, JOB_RETRY_SECONDS=10)
    mailing.stop()  # connection refused
    people = section_with_people()
    people["also"].active = False
    returned(people)

    for attempt in (1, 2, 3):
        assert run_due() == 1
        [job] = mail_jobs()
        assert job.status == JobStatus.QUEUED  # past JOB_MAX_ATTEMPTS, still retried
        assert job.attempts == attempt
        assert "ConnectionRefusedError" in job.error
        assert notices()[0].mail_status == MAIL_PENDING
        assert run_due() == 0  # backoff: not before its time
        make_due()
    assert run_due() == 1

    [job] = mail_jobs()
    assert job.status == JobStatus.FAILED
    assert job.attempts == 4
    assert notices()[0].mail_status == MAIL_FAILED


def test_a_worker_without_mail_server_keeps_the_mail_for_one_with_it(app, mailing):
    people = section_with_people()
    people["also"].active = False
    returned(people)
    app.config["MAIL_SERVER"] = ""  # this worker's environment lacks it

    run_due()

    [job] = mail_jobs()
    assert job.status == JobStatus.QUEUED
    assert "MAIL_SERVER is not set" in job.error
    assert notices()[0].mail_status == MAIL_PENDING
    app.config.update(**mailing.settings())
    make_due()
    run_due()
    assert [r.rcpt_tos for r in mailing.messages()] == [["yamada@x.jp"]]


def test_a_mail_job_left_running_counts_against_the_mail_attempts(app, mailing):
    app.config.update(JOB_MAX_ATTEMPTS=2, MAIL_MAX_ATTEMPTS=3, JOB_STALE_SECONDS=600)
    people = section_with_people()
    people["also"].active = False
    returned(people)
    [job] = mail_jobs()
    left = {"status": JobStatus.RUNNING, "claimed_by": "dead-host:1", "attempts": 2}
    stale = utcnow() - timedelta(minutes=11)
    db.session.execute(update(Job).values(**left, claimed_at=stale))
    db.session.commit()

    assert run_due() == 1  # past JOB_MAX_ATTEMPTS, within MAIL_MAX_ATTEMPTS: taken again

    assert len(mailing.messages()) == 1
    [job] = mail_jobs()
    assert (job.status, job.attempts) == (JobStatus.DONE, 3)
    db.session.execute(update(Job).values({**left, "attempts": 3, "claimed_at": stale}))
    db.session.execute(update(Notice).values(mail_status=MAIL_PENDING))
    db.session.commit()

    assert run_due() == 0  # out of attempts: given up, not run a fourth time
    assert len(mailing.messages()) == 1
    assert mail_jobs()[0].status == JobStatus.FAILED
    assert notices()[0].mail_status == MAIL_FAILED


def test_the_mail_attempts_default_to_twelve(tmp_path, monkeypatch):
    monkeypatch.delenv("MAIL_MAX_ATTEMPTS", raising=False)
    assert load_config(str(tmp_path))["MAIL_MAX_ATTEMPTS"] == 12


def test_a_server_down_then_up_gets_every_notice_once(app, mailing):
    mailing.stop()
    people = section_with_people()
    returned(people)

    assert run_due() == 2  # both refused: queued again
    assert {j.status for j in mail_jobs()} == {JobStatus.QUEUED}
    mailing.start()
    make_due()
    assert run_due() == 2

    assert sorted(r.rcpt_tos[0] for r in mailing.messages()) == ["sato@x.jp", "yamada@x.jp"]
    by_user = {n.user_id: n.mail_status for n in notices()}
    assert by_user[people["mailed"].id] == by_user[people["also"].id] == MAIL_SENT


def test_no_mail_is_sent_inside_the_request(app, client, mailing):
    """The transition answers while the mail server takes 5 s a message, and then while it is
    down: its notices wait for the worker."""
    mailing.delay = 5
    people = section_with_people()
    first = submitted(people["mailed"])
    second = submitted(people["mailed"])
    headers = auth(people["secretariat"])
    db.session.commit()

    for item in (first, second):
        started = time.monotonic()
        answer = client.post(
            f"/api/v1/items/{item.id}/events/return",
            json={"version": item.version, "reason": REASON},
            headers=headers,
        )
        assert answer.status_code == 200, answer.get_json()
        assert time.monotonic() - started < 4
        mailing.stop()

    assert mailing.messages() == []
    assert len(mail_jobs()) == 4
    assert {j.status for j in mail_jobs()} == {JobStatus.QUEUED}


# -- real `flask worker` processes ------------------------------------------------------------


def worker_process(
    database_url: str, server: MailServer, name: str, log: Path, **env: str
) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(server.port),
        "MAIL_FROM": SENDER,
        "PUBLIC_BASE_URL": BASE,
        "MAIL_TIMEOUT_SECONDS": "5",
        "WORKER_POLL_SECONDS": "0.1",
        **env,
    }
    with log.open("wb") as output:  # the process has its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--name", name],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    """Worker processes a test starts; stopped (killed) after it."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def none_pending() -> bool:
    """Every notice's mail is done with (sent, or never to be sent)."""
    return all(n.mail_status != MAIL_PENDING for n in notices())


def many_notices(count: int) -> list[str]:
    """*count* notices to mail, one per user of a section, from one returned request; the
    users' addresses."""
    section = make_section("企画課")
    users = [make_user(Role.DEPARTMENT, section, email=f"u{n}@x.jp") for n in range(count)]
    secretariat = make_user(Role.SECRETARIAT)
    item = submitted(users[0], secretariat)
    # The filer is told too: the secretariat returns it.
    items.return_item(secretariat, item, REASON)
    addresses = [user.email for user in users]
    db.session.commit()
    return addresses


@pytest.mark.slow
def test_a_worker_hands_a_new_notice_to_the_server_within_ten_seconds(
    app, mailing, database_url, tmp_path, processes
):
    environment = {"WORKER_POLL_SECONDS": str(app.config["WORKER_POLL_SECONDS"])}  # the default
    assert float(environment["WORKER_POLL_SECONDS"]) <= 1
    log = tmp_path / "w.log"
    processes.append(worker_process(database_url, mailing, "w", log, **environment))
    wait_until(lambda: '"event": "started"' in log.read_text())
    time.sleep(1.5)  # idle: past its first look for work
    people = section_with_people()
    people["also"].active = False
    db.session.commit()

    returned(people)  # committed here
    committed = time.monotonic()
    mailing.wait_for(1, seconds=10)

    assert time.monotonic() - committed < 10
    wait_until(none_pending, 10)
    [mail] = mailing.messages()
    assert mail.rcpt_tos == ["yamada@x.jp"]
    assert {n.user_id: n.mail_status for n in notices()}[people["mailed"].id] == MAIL_SENT


@pytest.mark.slow
def test_two_worker_processes_mail_every_notice_exactly_once(
    app, mailing, database_url, tmp_path, processes
):
    mailing.delay = 0.05  # each send takes a moment, so the workers overlap
    logs = [tmp_path / f"{name}.log" for name in ("w1", "w2")]
    for log in logs:
        processes.append(worker_process(database_url, mailing, log.stem, log))
    # Both are up before there is work: neither gets it all by starting first.
    wait_until(lambda: all('"event": "started"' in log.read_text() for log in logs))

    addresses = many_notices(20)
    mailing.wait_for(20, seconds=60)
    wait_until(none_pending)
    time.sleep(1)  # nothing more comes

    received = mailing.messages()
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(addresses)
    assert len({r.message_id for r in received}) == 20
    jobs = mail_jobs()
    assert {j.status for j in jobs} == {JobStatus.DONE}
    assert {j.attempts for j in jobs} == {1}
    assert {j.claimed_by for j in jobs} == {"w1", "w2"}  # both took a share


@pytest.mark.slow
def test_a_worker_killed_between_acceptance_and_commit_sends_once_more_never_twice_more(
    app, mailing, database_url, tmp_path, processes
):
    """At least once: the server accepted the mail, the worker died before marking it sent; after
    JOB_STALE_SECONDS another worker sends it again, with the same Message-ID, and marks it."""
    people = section_with_people()
    people["also"].active = False
    returned(people)
    [notice] = [n for n in notices() if n.mail_status == MAIL_PENDING]
    held = tmp_path / "held"
    first = worker_process(
        database_url,
        mailing,
        "dies",
        tmp_path / "dies.log",
        CHOGI_TEST_MAIL_HOLD_AFTER_SEND=str(held),
    )
    processes.append(first)
    wait_until(held.exists)
    [accepted] = mailing.messages()
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert notices()[0].mail_status == MAIL_PENDING  # the server has it; the database does not know
    [job] = mail_jobs()
    assert job.status == JobStatus.RUNNING
    assert job.claimed_by == "dies"

    processes.append(
        worker_process(
            database_url, mailing, "takes-over", tmp_path / "over.log", JOB_STALE_SECONDS="2"
        )
    )
    mailing.wait_for(2)
    wait_until(none_pending)
    time.sleep(3)  # past JOB_STALE_SECONDS again: no third copy

    first_copy, second_copy = mailing.messages()
    assert first_copy is accepted
    assert (
        second_copy.message_id
        == first_copy.message_id
        == f"<chogi-notice-{notice.id}@city.example.jp>"
    )
    assert second_copy.rcpt_tos == first_copy.rcpt_tos == ["yamada@x.jp"]
    [job] = mail_jobs()
    assert job.status == JobStatus.DONE
    assert job.attempts == 2
    assert job.claimed_by == "takes-over"


@pytest.mark.slow
def test_a_mail_server_down_for_a_minute_delays_but_loses_no_notice(
    app, database_url, tmp_path, processes
):
    server = MailServer()  # down: nothing listens on its port yet
    app.config.update(**server.settings())
    try:
        many_notices(5)
        assert len(mail_jobs()) == 5
        processes.append(
            worker_process(database_url, server, "w", tmp_path / "w.log", JOB_RETRY_SECONDS="0.5")
        )
        began = time.monotonic()
        wait_until(lambda: all(j.attempts >= 3 for j in mail_jobs()))  # retrying
        time.sleep(max(0, began + 60 - time.monotonic()))  # down for a minute
        assert server.messages() == []
        assert {n.mail_status for n in notices()} == {MAIL_PENDING}
        assert {j.status for j in mail_jobs()} <= {JobStatus.QUEUED, JobStatus.RUNNING}

        server.start()
        # The backoff doubles from 0.5 s: the next try comes within about a minute more.
        server.wait_for(5, seconds=70)
        wait_until(none_pending)
        time.sleep(1)
        received = server.messages()
        assert len(received) == 5
        assert len({r.message_id for r in received}) == 5
        assert {j.status for j in mail_jobs()} == {JobStatus.DONE}
    finally:
        server.stop()
