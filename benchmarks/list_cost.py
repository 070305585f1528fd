"""The item list's cost against the floor page, in instructions per request (deterministic).

    apt-get install valgrind       # Debian's valgrind; not needed by make test
    .venv/bin/python benchmarks/list_cost.py [--items 1000] [--requests 100] [--tree DIR …]

Wall-clock figures on a shared machine move by tens of per cent between identical runs; the
number of instructions a process executes does not. For each tree (this checkout by default;
``--tree`` another, e.g. a ``git archive`` of an older commit, run with this .venv) and for the
floor page (benchmarks/floor_app.py), a Python process serves the page in process through
Flask's test client, signed in as the demo secretariat, under ``valgrind --tool=callgrind``
twice: with no request after start-up and warm-up, and with ``--requests`` of them. The
difference divided by the number of requests is the page's cost. The floor's cost divided by the
item list's is the list's share of the floor (issue 14's goal: at least 60 %).

One SQLite database of ``--items`` items (``flask demo generate --seed 1``) serves every run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
HERE = Path(__file__).resolve().parent
PASSWORD = "chogi-demo-pass"  # noqa: S105  (the demo secretariat that `demo generate` creates)

# Run inside the measured process: start, sign in, warm up, then serve N requests.
SERVE = """
import gc, importlib, logging, os, sys
tree, what, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if what == "floor":
    sys.path.insert(0, {here!r})
    app = importlib.import_module("floor_app").app
    url = "/"
else:
    sys.path.insert(0, tree)
    from workflow import create_app
    app = create_app()
    url = "/items/"
    logging.getLogger("chogi.requests").disabled = True  # as a quiet production log would
app.config["WTF_CSRF_ENABLED"] = False
client = app.test_client()
client.post("/login", data={{"login": "secretariat", "password": {password!r}}})
for _ in range(5):
    assert client.get(url).status_code == 200
gc.freeze()  # as gunicorn.conf.py does once a worker has loaded the app
for _ in range(n):
    client.get(url)
"""


def instructions(tree: Path, what: str, requests: int, env: dict) -> int:
    """Instructions the process executes serving *requests* requests (after start-up)."""
    script = SERVE.format(here=str(HERE), password=PASSWORD)

    def run(n: int) -> int:
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                str(VENV / "python"),
                "-c",
                script,
                str(tree),
                what,
                str(n),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return int(re.search(r"Collected : (\d+)", result.stderr).group(1))

    return (run(requests) - run(0)) // requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--tree", type=Path, action="append", help="checkouts to measure")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is missing: apt-get install valgrind")
    trees = [t.resolve() for t in (args.tree or [ROOT])]
    with tempfile.TemporaryDirectory(prefix="chogi_list_cost_") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/chogi.sqlite3",
            "SECRET_KEY": "benchmark-only-secret",
            "PYTHONHASHSEED": "0",  # the same dict layouts, so the same instructions
        }
        flask = [str(VENV / "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], env=env, cwd=trees[0], check=True)
        subprocess.run(
            [*flask, "demo", "generate", "--items", str(args.items), "--seed", "1"],
            env=env,
            cwd=trees[0],
            check=True,
            capture_output=True,
        )
        jobs = [("floor page", HERE, "floor")] + [(str(t), t, "items") for t in trees]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            costs = dict(
                zip(
                    [name for name, *_ in jobs],
                    pool.map(lambda j: instructions(j[1], j[2], args.requests, env), jobs),
                    strict=True,
                )
            )
    floor = costs["floor page"]
    print("| page | instructions per request | share of the floor |\n| --- | ---: | ---: |")
    for name, cost in costs.items():
        print(f"| {name} | {cost / 1e6:.2f} M | {floor / cost:.0%} |")


if __name__ == "__main__":
    main()
