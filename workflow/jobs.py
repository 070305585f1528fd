"""Jobs for `flask worker`: slow work (an Office file's conversion to PDF, …) done outside the
request. A job is a row written in the same transaction as the change that needs it, so it is
never lost nor run for a change that rolled back.

How a worker runs them:

- **Claim.** One short transaction takes the next due job (``queued`` and ``run_after`` passed, or
  ``running`` but claimed longer than ``JOB_STALE_SECONDS`` ago by a worker that died), marks it
  ``running`` with the worker's name and time, counts the attempt, and commits. PostgreSQL locks
  the row with ``FOR UPDATE SKIP LOCKED``, so workers waiting on one another skip to the next job;
  SQLite's transactions begin with ``BEGIN IMMEDIATE`` (workflow.database), so claims take turns.
  Either way no two workers hold the same claim.
- **Run.** The job's handler (registered by ``kind`` with :func:`handler`) runs after that commit,
  with no transaction open: it may commit itself before slow work (a conversion must not hold
  SQLite's write lock for a minute). What it leaves pending is committed with the job's ``done``.
- **Retry or give up.** Any exception rolls the handler's writes back; the job goes back to
  ``queued`` with ``run_after`` later by ``JOB_RETRY_SECONDS`` × 2^(attempt − 1), until
  ``JOB_MAX_ATTEMPTS`` attempts have been made (or the kind's own ``max_attempts``: a mail
  waits out a mail server down for hours). Then, or at once for a :class:`FinalError`, the job
  is ``failed`` with its ``error``, and the handler's ``on_give_up`` records what that means for
  its subject (a file marked 「変換できませんでした」) in the same transaction.

A job runs at least once, and more than once only when a worker dies (or runs past
``JOB_STALE_SECONDS``) after it began: handlers check whether their work is already done.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from workflow.extensions import db
from workflow.models._types import utcnow
from workflow.models.job import Job
from workflow.observability import lines_to_stderr, log_time
from workflow.states.states import JobStatus

__all__ = [
    "FinalError",
    "Handler",
    "Worker",
    "enqueue",
    "handler",
    "worker_command",
]

# One JSON line per job on stderr, as workflow.observability logs one per request.
job_log = logging.getLogger("chogi.jobs")

# The modules whose handlers `flask worker` runs (each registers its kinds when imported).
HANDLER_MODULES = ("workflow.convert", "workflow.mail")

ERROR_MAX = 2000  # characters of an exception kept in jobs.error
MAX_RETRY_DELAY = 3600  # seconds: the backoff doubles up to an hour
IDLE_MAX = 60  # seconds: a worker that cannot reach the database asks at most this seldom


class FinalError(Exception):
    """A failure that trying again cannot mend (a file LibreOffice cannot read): no retry."""


class Abandoned(Exception):
    """The worker that ran a job stopped before finishing it (found stale by another worker)."""


@dataclass(frozen=True, slots=True)
class Handler:
    """What a kind of job does, and what its final failure means for its subject."""

    run: Callable[..., None]  # run(**params)
    on_give_up: Callable[..., None] | None = None  # on_give_up(exc, **params), same transaction
    # Attempts before giving up, read from the app's config when asked; None: JOB_MAX_ATTEMPTS.
    max_attempts: Callable[[], int] | None = None


HANDLERS: dict[str, Handler] = {}


def handler(
    kind: str,
    *,
    on_give_up: Callable[..., None] | None = None,
    max_attempts: Callable[[], int] | None = None,
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function as what a job of *kind* does."""

    def register(run: Callable[..., None]) -> Callable[..., None]:
        HANDLERS[kind] = Handler(run, on_give_up, max_attempts)
        return run

    return register


def load_handlers() -> None:
    """Import the modules that register handlers (:data:`HANDLER_MODULES`)."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)


def enqueue(kind: str, **params: Any) -> Job:
    """Queue a job of *kind* with JSON *params* in the caller's transaction."""
    job = Job(kind=kind, params=params)
    db.session.add(job)
    return job


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim of a job: the attempt number tells this claim from a later one of the same job."""

    job_id: int
    kind: str
    params: dict
    attempt: int


class Worker:
    """Takes due jobs from the table and runs them (one at a time)."""

    def __init__(self, name: str | None = None) -> None:
        config = current_app.config
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}")[:100]
        self.poll_seconds = float(config["WORKER_POLL_SECONDS"])
        self.max_attempts = int(config["JOB_MAX_ATTEMPTS"])
        self.retry_seconds = float(config["JOB_RETRY_SECONDS"])
        self.stale_after = timedelta(seconds=float(config["JOB_STALE_SECONDS"]))

    def attempts_for(self, kind: str) -> int:
        """How many attempts a job of *kind* gets (its handler's own number, or the default)."""
        found = HANDLERS.get(kind)
        if found is None or found.max_attempts is None:
            return self.max_attempts
        return int(found.max_attempts())

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, stop: threading.Event, *, once: bool = False) -> int:
        """Run due jobs until *stop* is set (or, with *once*, none is due); the number run."""
        ran = failures = 0
        while not stop.is_set():
            try:
                claim = self.claim()
            except SQLAlchemyError as exc:
                db.session.rollback()
                if once:
                    raise
                # The database is away: ask again, less often each time (a line each time).
                failures += 1
                job_log.warning(_line(event="claim_failed", worker=self.name, error=_short(exc)))
                stop.wait(min(self.poll_seconds * 2**failures, IDLE_MAX))
                continue
            failures = 0
            if claim is None:
                if once:
                    break
                stop.wait(self.poll_seconds)
                continue
            self.execute(claim)
            ran += 1
        return ran

    # -- claiming ---------------------------------------------------------------------------------

    def claim(self) -> Claim | None:
        """Take the next due job in one short transaction; None when nothing is due."""
        while True:
            now = utcnow()
            due = or_(
                and_(Job.status == JobStatus.QUEUED, Job.run_after <= now),
                and_(Job.status == JobStatus.RUNNING, Job.claimed_at < now - self.stale_after),
            )
            job = db.session.scalars(
                select(Job)
                .where(due)
                .order_by(Job.run_after, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)  # SQLite: none needed, BEGIN IMMEDIATE holds
            ).first()
            if job is None:
                db.session.commit()
                return None
            if job.status == JobStatus.RUNNING:
                job_log.warning(
                    _line(
                        event="reclaimed",
                        job_id=job.id,
                        kind=job.kind,
                        worker=self.name,
                        previous_worker=job.claimed_by,
                        claimed_at=job.claimed_at.isoformat(),
                    )
                )
                if job.attempts >= self.attempts_for(job.kind):
                    self._give_up(
                        job, Abandoned(f"worker {job.claimed_by} stopped while running it")
                    )
                    db.session.commit()
                    continue
            job.status = JobStatus.RUNNING
            job.claimed_by = self.name
            job.claimed_at = now
            job.attempts += 1
            claim = Claim(job.id, job.kind, dict(job.params or {}), job.attempts)
            db.session.commit()
            return claim

    # -- running ----------------------------------------------------------------------------------

    def execute(self, claim: Claim) -> None:
        """Run the claimed job's handler; then mark it done, retry it later, or give it up."""
        started = time.perf_counter()
        try:
            found = HANDLERS.get(claim.kind)
            if found is None:
                raise FinalError(f"no handler for job kind {claim.kind!r}")
            found.run(**claim.params)
            if self._finish(claim, JobStatus.DONE):
                db.session.commit()
                self._log(claim, "done", started)
            else:
                db.session.rollback()
                self._log(claim, "lost", started)
            return
        except Exception as exc:  # any failure of the handler: retried or given up below
            db.session.rollback()
            failure = exc
        try:
            outcome = self._record_failure(claim, failure)
            db.session.commit()
        except SQLAlchemyError as exc:  # the database is away: a worker reclaims it when stale
            db.session.rollback()
            outcome = "unrecorded"
            failure = exc
        self._log(claim, outcome, started, failure)

    def _finish(self, claim: Claim, status: JobStatus, **values: Any) -> bool:
        """Set the job's outcome if this claim still holds it (not reclaimed meanwhile)."""
        result = db.session.execute(
            update(Job)
            .where(
                Job.id == claim.job_id,
                Job.status == JobStatus.RUNNING,
                Job.attempts == claim.attempt,
                Job.claimed_by == self.name,
            )
            .values(status=status, finished_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    def _record_failure(self, claim: Claim, exc: Exception) -> str:
        """Queue the job again later, or give it up; the outcome's name for the log."""
        error = _short(exc)
        if isinstance(exc, FinalError) or claim.attempt >= self.attempts_for(claim.kind):
            job = db.session.get(Job, claim.job_id, with_for_update=True)
            if (
                job is None
                or job.status != JobStatus.RUNNING
                or job.attempts != claim.attempt
                or job.claimed_by != self.name
            ):
                return "lost"
            self._give_up(job, exc)
            return "failed"
        delay = min(self.retry_seconds * 2 ** (claim.attempt - 1), MAX_RETRY_DELAY)
        result = db.session.execute(
            update(Job)
            .where(
                Job.id == claim.job_id,
                Job.status == JobStatus.RUNNING,
                Job.attempts == claim.attempt,
                Job.claimed_by == self.name,
            )
            .values(
                status=JobStatus.QUEUED,
                run_after=utcnow() + timedelta(seconds=delay),
                claimed_at=None,
                error=error,
            )
            .execution_options(synchronize_session=False)
        )
        return "retry" if result.rowcount == 1 else "lost"

    def _give_up(self, job: Job, exc: Exception) -> None:
        """Mark *job* failed and let its handler record what that means (same transaction)."""
        job.status = JobStatus.FAILED
        job.finished_at = utcnow()
        job.error = _short(exc)
        found = HANDLERS.get(job.kind)
        if found is not None and found.on_give_up is not None:
            found.on_give_up(exc, **(job.params or {}))

    def _log(
        self, claim: Claim, outcome: str, started: float, exc: BaseException | None = None
    ) -> None:
        record = {
            "job_id": claim.job_id,
            "kind": claim.kind,
            "outcome": outcome,
            "attempt": claim.attempt,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "worker": self.name,
        }
        if exc is not None:
            record["error"] = _short(exc)
        level = logging.INFO if outcome == "done" else logging.WARNING
        # A FinalError says all there is to say; any other failure is a bug or an outage, and
        # its traceback follows the line.
        traceback = exc if exc is not None and not isinstance(exc, FinalError) else None
        job_log.log(level, _line(event="job", **record), exc_info=traceback)


def _short(exc: BaseException) -> str:
    """An exception as one line for jobs.error and the log."""
    text = " ".join(str(exc).split())
    if isinstance(exc, FinalError):
        return text[:ERROR_MAX]
    return f"{type(exc).__name__}: {text}"[:ERROR_MAX]


def _line(**record: Any) -> str:
    """One JSON log line, stamped with the UTC time as request lines are."""
    return json.dumps({"time": log_time(), **record}, ensure_ascii=False)


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM or SIGINT: finish the current job, then stop; a second one stops at once.

    At once, but through an exception, not the default action: the conversion's ``finally``
    kills LibreOffice's process group, which runs in a session of its own and would otherwise
    outlive the worker. The job stays ``running`` until a worker finds it stale.
    """

    def first(signum: int, _frame) -> None:
        job_log.info(_line(event="stopping", signal=signal.Signals(signum).name))
        stop.set()
        signal.signal(signal.SIGTERM, second)
        signal.signal(signal.SIGINT, second)

    def second(signum: int, _frame) -> None:
        job_log.warning(_line(event="stopping_now", signal=signal.Signals(signum).name))
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, first) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@click.command("worker")
@click.option(
    "--once",
    "--burst",
    "once",
    is_flag=True,
    help="待っているジョブをすべて処理したら終了する（テストや cron 向け）",
)
@click.option("--name", default=None, help="ジョブに記録するワーカー名（省略時は ホスト名:PID）")
@with_appcontext
def worker_command(once: bool, name: str | None) -> None:
    """ジョブ（Office文書のPDF変換、通知メールなど）を処理し続ける。SIGTERM/Ctrl-C で今のジョブの後に止まる。"""
    from workflow.database import name_sessions

    previous = name_sessions("worker")
    # Connections made before were named after the program, not the worker: close them.
    db.session.remove()
    db.engine.dispose()
    try:
        _work(once, name)
    finally:
        db.session.remove()
        name_sessions(previous)
        db.engine.dispose()


def _work(once: bool, name: str | None) -> None:
    lines_to_stderr(job_log)  # one JSON line per job
    load_handlers()
    worker = Worker(name)
    stop = threading.Event()
    job_log.info(_line(event="started", worker=worker.name, kinds=sorted(HANDLERS), once=once))
    with _stopping_on_signals(stop):
        try:
            ran = worker.run(stop, once=once)
        except SQLAlchemyError as exc:
            from workflow.cli import CommandError

            raise CommandError(f"データベースに接続できません: {_short(exc)}") from exc
    job_log.info(_line(event="stopped", worker=worker.name, jobs=ran))
