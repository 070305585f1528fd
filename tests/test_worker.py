"""`flask worker` and its job table (workflow.jobs): each job is claimed by one worker, run,
then done, retried later with backoff, or given up; a job its worker left running is taken again.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pikepdf
import pytest
from flask import Flask
from sqlalchemy import func, select, text, update

from tests.support import run_workers_side_by_side
from workflow import PROJECT_ROOT, jobs, storage
from workflow.extensions import db
from workflow.jobs import Abandoned, FinalError, Worker, enqueue
from workflow.models._types import utcnow
from workflow.models.attachment import StoredFile
from workflow.models.job import Job
from workflow.states.states import JobStatus, PdfStatus


class Calls:
    """What the test handlers were called with, from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.params: list[dict] = []
        self.given_up: list[tuple[Exception, dict]] = []

    def add(self, **params) -> None:
        with self.lock:
            self.params.append(params)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Test kinds: ``record`` (records its params), ``boom`` (always fails), ``final`` (fails
    for good), ``slow_record`` (records after a moment, so workers overlap), ``write``
    (leaves a stored file pending for the job's commit)."""
    calls = Calls()

    def record(**params) -> None:
        calls.add(**params)

    def slow_record(**params) -> None:
        time.sleep(0.01)
        calls.add(**params)

    def boom(**params) -> None:
        calls.add(**params)
        raise RuntimeError("boom")

    def final(**params) -> None:
        calls.add(**params)
        raise FinalError("この資料は処理できません。")

    def write(**params) -> None:
        calls.add(**params)
        storage.store(io.BytesIO(b"written by the job"), "text/plain")
        if params.get("fail"):
            raise RuntimeError("after writing")

    def given_up(exc: Exception, **params) -> None:
        with calls.lock:
            calls.given_up.append((exc, params))

    for kind, run in {
        "record": record,
        "slow_record": slow_record,
        "boom": boom,
        "final": final,
        "write": write,
    }.items():
        monkeypatch.setitem(jobs.HANDLERS, kind, jobs.Handler(run, given_up))
    return calls


def run_due(name: str = "test-worker") -> int:
    """Run what is due with one worker, as `flask worker --once` does; the number of jobs run."""
    return Worker(name).run(threading.Event(), once=True)


def job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def queued(kind: str, **params) -> int:
    new = enqueue(kind, **params)
    db.session.commit()
    return new.id


def test_a_job_runs_once_and_is_done(app, calls):
    job_id = queued("record", file_id=7)

    assert run_due() == 1
    assert run_due() == 0  # nothing due any more

    assert calls.params == [{"file_id": 7}]
    done = job(job_id)
    assert done.status == JobStatus.DONE
    assert done.attempts == 1
    assert done.claimed_by == "test-worker"
    assert done.finished_at is not None
    assert done.error == ""


def test_what_a_handler_leaves_pending_commits_with_done_and_rolls_back_with_a_failure(app, calls):
    ok = queued("write")
    failing = queued("write", fail=True)

    run_due()

    assert job(ok).status == JobStatus.DONE
    assert job(failing).status == JobStatus.QUEUED  # to be tried again
    # The successful job's file is there; the failing one's was rolled back with it.
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1


def test_a_job_not_yet_due_waits(app, calls):
    later = enqueue("record")
    later.run_after = utcnow() + timedelta(minutes=5)
    db.session.commit()

    assert run_due() == 0
    assert calls.params == []
    assert job(later.id).status == JobStatus.QUEUED


def test_two_workers_never_run_one_job_twice(app, calls):
    ids = [enqueue("slow_record", n=n) for n in range(20)]
    db.session.flush()
    ids = [j.id for j in ids]
    db.session.commit()  # SQLite: the test holds no lock while the workers run
    assert run_workers_side_by_side(app, timeout=60) == []
    assert sorted(p["n"] for p in calls.params) == list(range(20))  # each exactly once
    db.session.expire_all()
    rows = db.session.scalars(select(Job).where(Job.id.in_(ids))).all()
    assert {row.status for row in rows} == {JobStatus.DONE}
    assert {row.attempts for row in rows} == {1}
    assert {row.claimed_by for row in rows} == {"worker-1", "worker-2"}  # both took a share


def test_a_failing_job_is_retried_with_backoff_then_given_up(app, calls):
    app.config.update(JOB_MAX_ATTEMPTS=3, JOB_RETRY_SECONDS=10)
    job_id = queued("boom", file_id=3)

    delays = []
    for attempt in (1, 2):
        before = utcnow()
        assert run_due() == 1
        retried = job(job_id)
        assert retried.status == JobStatus.QUEUED
        assert retried.attempts == attempt
        assert retried.error == "RuntimeError: boom"
        delays.append((retried.run_after - before).total_seconds())
        assert run_due() == 0  # not before its time
        db.session.execute(update(Job).values(run_after=utcnow()))  # time passes
        db.session.commit()
    assert 10 <= delays[0] < 12
    assert 20 <= delays[1] < 22  # twice as long

    assert run_due() == 1
    failed = job(job_id)
    assert failed.status == JobStatus.FAILED
    assert failed.attempts == 3
    assert failed.error == "RuntimeError: boom"
    assert failed.finished_at is not None
    assert len(calls.params) == 3
    [(exc, params)] = calls.given_up
    assert isinstance(exc, RuntimeError)
    assert params == {"file_id": 3}
    assert run_due() == 0


def test_a_final_error_is_not_retried(app, calls):
    job_id = queued("final", file_id=4)

    run_due()

    failed = job(job_id)
    assert failed.status == JobStatus.FAILED
    assert failed.attempts == 1
    assert failed.error == "この資料は処理できません。"
    assert [params for _, params in calls.given_up] == [{"file_id": 4}]


def test_a_job_of_an_unknown_kind_fails_at_once(app, calls):
    job_id = queued("no_such_kind")

    run_due()

    assert job(job_id).status == JobStatus.FAILED
    assert "no handler" in job(job_id).error


def _left_running(kind: str, claimed_ago: timedelta, attempts: int = 1) -> int:
    left = enqueue(kind, file_id=9)
    left.status = JobStatus.RUNNING
    left.claimed_by = "dead-host:4242"
    left.claimed_at = utcnow() - claimed_ago
    left.attempts = attempts
    db.session.commit()
    return left.id


def test_a_job_left_running_by_a_dead_worker_is_taken_again(app, calls):
    app.config["JOB_STALE_SECONDS"] = 600
    stale = _left_running("record", timedelta(minutes=11))
    recent = _left_running("record", timedelta(minutes=1))  # its worker may still be at it

    assert run_due() == 1

    taken = job(stale)
    assert taken.status == JobStatus.DONE
    assert taken.attempts == 2
    assert taken.claimed_by == "test-worker"
    assert job(recent).status == JobStatus.RUNNING
    assert job(recent).claimed_by == "dead-host:4242"


def test_a_stale_job_out_of_attempts_is_given_up(app, calls):
    app.config.update(JOB_STALE_SECONDS=600, JOB_MAX_ATTEMPTS=2)
    stale = _left_running("record", timedelta(minutes=11), attempts=2)

    assert run_due() == 0

    assert calls.params == []  # a job that keeps killing its worker is not run a third time
    given_up = job(stale)
    assert given_up.status == JobStatus.FAILED
    assert "dead-host:4242" in given_up.error
    [(exc, _)] = calls.given_up
    assert isinstance(exc, Abandoned)


def test_a_worker_whose_job_was_taken_over_does_not_overwrite_it(app, calls, monkeypatch):
    job_id = queued("record")

    def taken_over_meanwhile(**_params) -> None:
        # Another worker found this one stale and claimed the job again.
        db.session.execute(update(Job).values(attempts=Job.attempts + 1, claimed_by="other-worker"))
        db.session.commit()

    monkeypatch.setitem(jobs.HANDLERS, "record", jobs.Handler(taken_over_meanwhile))
    run_due()

    still = job(job_id)
    assert still.status == JobStatus.RUNNING
    assert still.claimed_by == "other-worker"
    assert still.finished_at is None


def test_flask_worker_once_runs_what_is_due_and_names_its_sessions(app, calls, monkeypatch):
    names: list[str] = []

    def record_name(**params) -> None:
        calls.add(**params)
        if db.engine.dialect.name == "postgresql":
            names.append(db.session.scalar(text("SELECT current_setting('application_name')")))

    monkeypatch.setitem(jobs.HANDLERS, "named", jobs.Handler(record_name))
    ids = [queued("record", n=1), queued("named", n=2)]

    result = app.test_cli_runner().invoke(args=["worker", "--once", "--name", "cli-worker"])

    assert result.exit_code == 0, result.output
    assert sorted(p["n"] for p in calls.params) == [1, 2]
    assert {job(i).status for i in ids} == {JobStatus.DONE}
    assert '"outcome": "done"' in result.stderr
    assert '"event": "stopped"' in result.stderr
    if db.engine.dialect.name == "postgresql":
        assert names == ["chogi worker"]


# -- a real `flask worker` process ------------------------------------------------------------------


def _fake_soffice(tmp_path: Path, seconds: float) -> Path:
    """A stand-in for soffice that takes *seconds* (in a child process, as soffice.bin), then
    writes a one-page PDF where asked; its own pid and its child's go to soffice.pids."""
    pdf = tmp_path / "one-page.pdf"
    with pikepdf.new() as made:
        made.add_blank_page()
        made.save(pdf)
    script = tmp_path / "soffice"
    script.write_text(
        "#!/bin/sh\n"
        f"sleep {seconds} &\n"
        f"echo $$ $! > {tmp_path}/soffice.pids\n"
        "wait\n"
        'while [ $# -gt 1 ]; do [ "$1" = --outdir ] && outdir=$2; shift; done\n'
        'name=$(basename "$1"); '
        f'cp {pdf} "$outdir/${{name%.*}}.pdf"\n'
    )
    script.chmod(0o755)
    return script


def _worker_process(database_url: str, tmp_path: Path, soffice: Path) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SOFFICE": str(soffice),
        "WORKER_POLL_SECONDS": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--name", "process-worker"],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _status(job_id: int) -> JobStatus:
    """The job's status, read in a transaction ended at once (SQLite: no lock held after)."""
    status = db.session.scalar(select(Job.status).where(Job.id == job_id))
    db.session.rollback()
    return status


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)


def test_sigterm_stops_the_worker_after_its_current_job(
    app: Flask, database_url: str, tmp_path: Path
):
    files = [
        storage.store(io.BytesIO(b"docx bytes"), "application/msword", pdf_status=PdfStatus.PENDING)
        for _ in range(2)
    ]
    new_jobs = [enqueue("convert_pdf", file_id=f.id) for f in files]
    db.session.flush()
    ids = [j.id for j in new_jobs]
    db.session.commit()
    worker = _worker_process(database_url, tmp_path, _fake_soffice(tmp_path, 1.5))
    try:
        _wait_for(lambda: worker.poll() is not None or _status(ids[0]) == JobStatus.RUNNING)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert worker.returncode == 0, output
    assert job(ids[0]).status == JobStatus.DONE  # the job it had begun was finished
    assert job(ids[1]).status == JobStatus.QUEUED  # and no other was begun
    converted = db.session.get(StoredFile, files[0].id)
    assert converted.pdf_status == PdfStatus.READY
    assert converted.pages == 1
    assert '"event": "stopping"' in output
    assert '"signal": "SIGTERM"' in output


def _alive(pid: int) -> bool:
    """Is *pid* a process that has not ended (a zombie has ended)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_second_sigterm_stops_at_once_and_takes_libreoffice_with_it(
    app: Flask, database_url: str, tmp_path: Path
):
    stored = storage.store(
        io.BytesIO(b"docx bytes"), "application/msword", pdf_status=PdfStatus.PENDING
    )
    new_job = enqueue("convert_pdf", file_id=stored.id)
    db.session.flush()
    job_id = new_job.id
    db.session.commit()
    worker = _worker_process(database_url, tmp_path, _fake_soffice(tmp_path, 60))
    pids_file = tmp_path / "soffice.pids"
    try:
        _wait_for(lambda: worker.poll() is not None or pids_file.exists())
        time.sleep(0.2)  # the pids are written
        pids = [int(pid) for pid in pids_file.read_text().split()]
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert worker.returncode == 128 + signal.SIGTERM, output
    assert '"event": "stopping_now"' in output
    assert len(pids) == 2
    for pid in pids:
        assert not _alive(pid)  # soffice and its child went with the worker
    assert job(job_id).status == JobStatus.RUNNING  # taken again once stale
    assert db.session.get(StoredFile, stored.id).pdf_status == PdfStatus.PENDING
