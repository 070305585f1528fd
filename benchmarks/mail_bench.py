"""What mail costs a transition: p95 of ``POST /api/v1/items/{id}/events/return`` with notices
mailed through a slow SMTP server and a worker running, against the same without mail.

    .venv/bin/python benchmarks/mail_bench.py [--db sqlite|postgresql] [--requests 200]
                                              [--users 3] [--smtp-seconds 1]

In process (Flask's test client) on a fresh database: SQLite in a temporary file, or a fresh
PostgreSQL database on 127.0.0.1:5432 (dropped afterwards). The secretariat returns submitted
requests of one section whose *--users* users all have an address, so each return writes that
many notices. Rounds of 50 in ABBA order:

- ``without``: MAIL_SERVER unset (the notices stay in the app), no worker;
- ``with``: MAIL_SERVER is an aiosmtpd server on loopback that takes *--smtp-seconds* to accept
  each message (tests/mail_server.py, in a process of its own), and a real `flask worker`
  process mails the notices all the while (its backlog never runs dry: a return queues more
  mail than it can send in a round). Each round's worker is started afresh and has sent one
  mail before the round begins: its start-up is not a transition's cost.

The issue's goal: p95 with mail within 1.2× of p95 without (nothing is sent inside the request).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.factories import make_item, make_section, make_user  # noqa: E402
from tests.support import (  # noqa: E402
    auth,
    create_pg_database,
    drop_pg_database,
    empty_all_tables,
    free_port,
    make_app,
)
from workflow.extensions import db  # noqa: E402
from workflow.models import seed_meeting_kinds  # noqa: E402
from workflow.states.states import ItemStatus, Role  # noqa: E402

ROUND = 50
REASON = "添付資料（財源内訳）が不足しています。補正後の金額を記載してください。"


def _mail_server(port: int, seconds: float) -> subprocess.Popen:
    """The slow SMTP server, in a process of its own as the city's would be."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.mail_server", "--port", str(port), "--delay", str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout.readline().strip() == "ready"
    return server


def _worker(url: str, port: int, log: Path) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-key"),
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--name", "bench-worker"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _wait_working(log: Path, done: int) -> None:
    """Wait until the log shows *done* mails sent: the new worker has started and sent its first
    (start-up and first imports are not what is measured; a worker in production runs on)."""
    deadline = time.monotonic() + 60
    while log.read_text().count('"outcome": "done"') < done:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def _stop(worker: subprocess.Popen) -> None:
    worker.terminate()  # finishes the mail it is sending (at most --smtp-seconds)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def measure(url: str, requests: int, users: int, smtp_seconds: float, log: Path) -> dict:
    app = make_app(url)
    port = free_port()
    server = _mail_server(port, smtp_seconds)
    with app.app_context():
        db.create_all()
        empty_all_tables()
        seed_meeting_kinds()
        section = make_section("財政課")
        people = [
            make_user(Role.DEPARTMENT, section, email=f"user{n}@city.example.jp")
            for n in range(users)
        ]
        secretariat = make_user(Role.SECRETARIAT)
        headers = auth(secretariat)
        waiting = [
            (item.id, item.version)
            for item in (
                make_item(ItemStatus.SUBMITTED, department=people[0], secretariat=secretariat)
                for _ in range(2 * requests + 10)
            )
        ]
        db.session.commit()
    client = app.test_client()
    times: dict[str, list[float]] = {"without": [], "with": []}

    def return_next() -> float:
        item_id, version = waiting.pop()
        started = time.perf_counter()
        answer = client.post(
            f"/api/v1/items/{item_id}/events/return",
            json={"version": version, "reason": REASON},
            headers=headers,
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return elapsed

    try:
        # Warm-up (imports, first connections, the token's first-use write), leaving mail for
        # the first worker.
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        for _ in range(5):
            return_next()
        done = 0
        while done < requests:
            order = ("without", "with") if done // ROUND % 2 == 0 else ("with", "without")
            for mode in order:
                worker = None
                if mode == "with":
                    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
                    sent = log.read_text().count('"outcome": "done"') if log.exists() else 0
                    worker = _worker(url, port, log)
                    _wait_working(log, sent + 1)
                else:
                    app.config["MAIL_SERVER"] = ""
                try:
                    times[mode] += [return_next() for _ in range(ROUND)]
                finally:
                    if worker is not None:
                        _stop(worker)
            done += ROUND
    finally:
        server.terminate()
        mailed = int(server.communicate(timeout=30)[0].split()[-1])
        with app.app_context():
            db.engine.dispose()
    result = {
        mode: {
            "p50_ms": statistics.median(values),
            "p95_ms": statistics.quantiles(values, n=20)[18],
            "mean_ms": statistics.fmean(values),
        }
        for mode, values in times.items()
    }
    result["mailed"] = mailed
    return result


def main() -> None:
    logging.getLogger("chogi.requests").disabled = True  # one line per request otherwise
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=200, help="returns per mode")
    parser.add_argument("--users", type=int, default=3, help="notices (and mails) per return")
    parser.add_argument("--smtp-seconds", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "worker.log"
        if args.db == "postgresql":
            url = create_pg_database()
            try:
                result = measure(url, args.requests, args.users, args.smtp_seconds, log)
            finally:
                drop_pg_database(url)
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            result = measure(url, args.requests, args.users, args.smtp_seconds, log)
    print(
        f"{args.db}, {args.requests} returns per mode, {args.users} notices each, "
        f"SMTP {args.smtp_seconds} s a message, {result['mailed']} mails accepted meanwhile:"
    )
    for mode in ("without", "with"):
        figures = result[mode]
        print(
            f"  {mode:>7} mail: p50 {figures['p50_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, "
            f"mean {figures['mean_ms']:.1f} ms"
        )
    print(f"  p95 with / without: {result['with']['p95_ms'] / result['without']['p95_ms']:.2f}×")


if __name__ == "__main__":
    main()
