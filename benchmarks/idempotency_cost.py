"""What an ``Idempotency-Key`` costs a write: statements and time per API create, with and without.

    .venv/bin/python benchmarks/idempotency_cost.py [--db sqlite|postgresql] [--requests 300]

In process (Flask's test client), on a fresh database: SQLite in a temporary file, or a fresh
PostgreSQL database on 127.0.0.1:5432 (dropped afterwards). ``POST /api/v1/items`` as a
department user, in rounds of 50 with a new key per request and without one, in ABBA order, so
a drift in the machine's load or the table's growth falls on both alike. Reports the SQL statements per request (exact)
and the median and mean milliseconds per request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from tests.factories import make_section, make_user  # noqa: E402
from tests.support import (  # noqa: E402
    auth,
    create_pg_database,
    drop_pg_database,
    empty_all_tables,
    make_app,
)
from workflow.extensions import db  # noqa: E402
from workflow.models import seed_meeting_kinds  # noqa: E402
from workflow.states.states import Role  # noqa: E402

ROUND = 50


def measure(url: str, requests: int) -> dict[str, dict[str, float]]:
    app = make_app(url)
    with app.app_context():
        db.create_all()
        empty_all_tables()
        seed_meeting_kinds()
        user = make_user(Role.DEPARTMENT, make_section("情報政策課", bureau="企画財政局"))
        headers = auth(user)
        db.session.commit()
    statements = {"with": 0, "without": 0}
    times: dict[str, list[float]] = {"with": [], "without": []}
    current = {"mode": "without"}

    def count(*_args) -> None:
        statements[current["mode"]] += 1

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count)
    client = app.test_client()
    body = {"title": "ベンチマークの案件", "section": "情報政策課"}
    for _ in range(5):  # warm-up: imports, first connections, the token's first-use write
        client.post("/api/v1/items", json=body, headers=headers)
    statements["without"] = 0
    done = 0
    while done < requests:
        # ABBA: each mode goes first every other time, so a cost that grows with the table
        # (more items each round) falls on both alike.
        order = ("without", "with") if done // ROUND % 2 == 0 else ("with", "without")
        for mode in order:
            current["mode"] = mode
            for _ in range(ROUND):
                extra = {"Idempotency-Key": str(uuid.uuid4())} if mode == "with" else {}
                started = time.perf_counter()
                response = client.post("/api/v1/items", json=body, headers={**headers, **extra})
                times[mode].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 201, response.get_data(as_text=True)
        done += ROUND
    with app.app_context():
        db.engine.dispose()
    return {
        mode: {
            "statements": statements[mode] / len(times[mode]),
            "median_ms": statistics.median(times[mode]),
            "mean_ms": statistics.fmean(times[mode]),
        }
        for mode in ("without", "with")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    if args.db == "postgresql":
        url = create_pg_database()
        try:
            result = measure(url, args.requests)
        finally:
            drop_pg_database(url)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.requests)
    print(f"{args.db}, {args.requests} creates each:")
    for mode, figures in result.items():
        print(
            f"  {mode:>7} key: {figures['statements']:.1f} statements, "
            f"median {figures['median_ms']:.2f} ms, mean {figures['mean_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()
