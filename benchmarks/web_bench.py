"""Web benchmark: the busiest pages and the API under gunicorn, at 1k and 100k items, both engines.

    apt-get install wrk            # Debian's wrk (HTTP load generator); not needed by make test
    .venv/bin/python benchmarks/web_bench.py [--items 1000 100000] [--engines sqlite postgresql]
                                             [--duration 15] [--tree DIR] [--json FILE]

For each engine and size: a fresh database (SQLite file under /tmp/chogi_bench, or the PostgreSQL
database ``chogi_bench`` created and dropped on 127.0.0.1), ``flask db upgrade``, ``flask demo
generate --items N`` (timed), then the app under ``gunicorn -w 2`` on 127.0.0.1 and, beside it,
the bare Flask + Jinja baseline (benchmarks/bare_app.py) and the floor of the design's stack
(benchmarks/floor_app.py: the same rows, signed in through Flask-Login, a CSRF token and a
WTForms filter, nothing of the application) on the same database. Each URL gets a
2-second warm-up and one wrk run of ``--duration`` seconds (at most 60) with 2 threads and
4 connections; the report is requests/s and latency p50/p95/p99 (benchmarks/wrk_report.lua).

Pages are fetched as the demo secretariat, signed in once through the login form (CSRF token and
all); the API with a bearer token from ``flask user token``. ``--tree`` runs another checkout
(e.g. a ``git archive HEAD`` snapshot) with this repository's .venv.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
HERE = Path(__file__).resolve().parent
PG_ADMIN = os.environ.get(
    "CHOGI_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_DB = "chogi_bench"
APP_PORT, BARE_PORT, FLOOR_PORT = 8100, 8101, 8102
PASSWORD = "chogi-demo-pass"  # noqa: S105  (the demo secretariat that `demo generate` creates)
SEARCH_TERM = "地球温暖化"
SHORT_TERM = "道路"


def sh(args: list[str], env: dict, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, cwd=cwd, check=True, text=True, **kw)  # noqa: S603


def database_url(engine: str, items: int) -> str:
    if engine == "sqlite":
        folder = Path("/tmp/chogi_bench")  # noqa: S108  (a scratch database, removed after)
        folder.mkdir(exist_ok=True)
        path = folder / f"bench_{items}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{PG_DB}"')
    admin.dispose()
    return sa.make_url(PG_ADMIN).set(database=PG_DB).render_as_string(hide_password=False)


def drop_database(engine: str, url: str) -> None:
    if engine == "sqlite":
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import sqlalchemy as sa

    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    admin.dispose()


def prepare(env: dict, tree: Path, items: int) -> dict:
    """Schema, generated data with its search index (timed), ids and a token."""
    flask = [str(VENV / "flask"), "--app", "wsgi"]
    sh([*flask, "db", "upgrade"], env, tree, capture_output=True)
    started = time.perf_counter()
    out = sh(
        [*flask, "demo", "generate", "--items", str(items), "--seed", "1"],
        env,
        tree,
        capture_output=True,
    ).stdout
    generation = time.perf_counter() - started
    print(f"    generate: {generation:.1f} s — {out.strip().splitlines()[-1]}", flush=True)
    # `demo generate` builds the search index itself (and, on PostgreSQL, vacuums): timed above.
    probe = (
        "import json, sqlalchemy as sa\n"
        "from workflow import create_app\n"
        "from workflow.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    q = lambda s: db.session.scalar(sa.text(s))\n"
        "    print(json.dumps({\n"
        "        'item': q(\"SELECT id FROM items WHERE status = 'concluded' AND id >= \"\n"
        '                  "(SELECT max(id) / 2 FROM items) ORDER BY id LIMIT 1"),\n'
        "        'meeting': q(\"SELECT id FROM meetings WHERE status = 'published' AND id >= \"\n"
        '                     "(SELECT max(id) / 2 FROM meetings) ORDER BY id LIMIT 1"),\n'
        "    }))\n"
    )
    info = json.loads(
        sh([str(VENV / "python"), "-c", probe], env, tree, capture_output=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    token = sh([*flask, "user", "token", "secretariat"], env, tree, capture_output=True)
    info["token"] = token.stdout.strip().splitlines()[-1]
    info["generation_s"] = round(generation, 1)
    return info


@contextmanager
def gunicorn(env: dict, cwd: Path, target: str, port: int, log: Path):
    """gunicorn -w 2 on 127.0.0.1:*port*, until the block ends."""
    args = [
        str(VENV / "gunicorn"),
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        target,
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=out)  # noqa: S603
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)  # noqa: S310
                break
            except urllib.error.HTTPError:  # it answers (the floor's 401 before sign-in)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn on {port} did not start; see {log}")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def sign_in(base: str, *, floor: bool = False) -> str:
    """Log in through the form as the secretariat; the Cookie header to send.

    The redirect after the login is followed with the cookie jar, so the cookie sent afterwards
    already holds the session's CSRF secret (else every page would add it and set a new cookie).
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    fields = {"login": "secretariat", "password": PASSWORD}
    if not floor:  # the floor's login takes no token (benchmarks/floor_app.py)
        page = opener.open(f"{base}/login").read().decode()
        fields["csrf_token"] = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    opener.open(f"{base}/login", data=urllib.parse.urlencode(fields).encode()).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    check = urllib.request.Request(  # noqa: S310
        f"{base}/" if floor else f"{base}/items/", headers={"Cookie": cookie}
    )
    if "案件一覧" not in urllib.request.urlopen(check).read().decode():  # noqa: S310
        raise RuntimeError("sign-in failed")
    return cookie


def probe(url: str, headers: dict) -> tuple[int | None, float]:
    """Status and seconds of one request; None when gunicorn gave up on it (30 s timeout)."""
    started = time.perf_counter()
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        status = urllib.request.urlopen(request, timeout=90).status  # noqa: S310
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, http.client.HTTPException):
        status = None
    return status, time.perf_counter() - started


def wrk(url: str, headers: dict, seconds: int) -> dict:
    env = {**os.environ, "WRK_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items())}
    base = ["wrk", "-t2", "-c4", "--timeout", "10s", "-s", str(HERE / "wrk_report.lua")]
    subprocess.run([*base, "-d2s", url], env=env, check=True, capture_output=True)  # noqa: S603
    load = os.getloadavg()[0]
    out = subprocess.run(
        [*base, f"-d{seconds}s", url],
        env=env,
        check=True,  # noqa: S603
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["load_before"] = round(load, 2)
    return result


def run(engine: str, items: int, tree: Path, seconds: int) -> dict:
    print(f"== {engine}, {items} items", flush=True)
    url = database_url(engine, items)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "benchmark-only-secret",
        "PYTHONPATH": str(tree),
    }
    try:
        info = prepare(env, tree, items)
        base, bare = f"http://127.0.0.1:{APP_PORT}", f"http://127.0.0.1:{BARE_PORT}"
        floor = f"http://127.0.0.1:{FLOOR_PORT}"
        logs = Path("/tmp/chogi_bench")  # noqa: S108
        logs.mkdir(exist_ok=True)
        with (
            gunicorn(env, tree, "wsgi:app", APP_PORT, logs / "app.log"),
            gunicorn(env, HERE, "bare_app:app", BARE_PORT, logs / "bare.log"),
            gunicorn(env, HERE, "floor_app:app", FLOOR_PORT, logs / "floor.log"),
        ):
            cookie = {"Cookie": sign_in(base)}
            bearer = {"Authorization": f"Bearer {info['token']}"}
            term = urllib.parse.quote(SEARCH_TERM)
            search = (f"{base}/search?q={term}", cookie)
            if probe(*search)[0] != 200:
                search = (f"{base}/api/v1/search?q={term}", bearer)
            targets = {
                "bare page (50 rows)": (f"{bare}/", {}),
                "floor page (50 rows, signed in)": (
                    f"{floor}/",
                    {"Cookie": sign_in(floor, floor=True)},
                ),
                "item list /items/": (f"{base}/items/", cookie),
                "item page /items/{id}": (f"{base}/items/{info['item']}", cookie),
                "meeting page /meetings/{id}": (f"{base}/meetings/{info['meeting']}", cookie),
                "search " + search[0].split("?")[0].removeprefix(base): search,
                # Two characters make no trigram: the short-word index (search_index.py).
                "search, 2 characters": (
                    search[0].replace(term, urllib.parse.quote(SHORT_TERM)),
                    search[1],
                ),
                "API /api/v1/items/{id}": (f"{base}/api/v1/items/{info['item']}", bearer),
                "API /api/v1/items": (f"{base}/api/v1/items", bearer),
            }
            results = {}
            for name, (target, headers) in targets.items():
                status, took = probe(target, headers)
                first = None
                for _ in range(2):  # a search stopped by its time limit (503) with cold caches
                    if status != 503:
                        break
                    first = f"first request {status} after {took:.1f} s"
                    print(f"    {name:34} {first}; again", flush=True)
                    status, took = probe(target, headers)
                if status != 200:
                    results[name] = {"failed": f"status {status} after {took:.1f} s"}
                    print(f"    {name:34} FAILED: {results[name]['failed']}", flush=True)
                    continue
                results[name] = wrk(target, headers, seconds)
                if first:
                    results[name]["first"] = first
                r = results[name]
                print(
                    f"    {name:34} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.1f}  "
                    f"p95 {r['p95_ms']:7.1f}  p99 {r['p99_ms']:7.1f} ms  "
                    f"(load {r['load_before']}, non-2xx {r['non_2xx']}, errors {r['errors']})",
                    flush=True,
                )
        return {
            "engine": engine,
            "items": items,
            "generation_s": info["generation_s"],
            "results": results,
        }
    finally:
        drop_database(engine, url)


def markdown(runs: list[dict]) -> str:
    """The figures as the table in benchmarks/RESULTS.md."""
    lines = [
        "| engine | items | URL | req/s | p50 ms | p95 ms | p99 ms | load |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        for name, v in r["results"].items():
            if "failed" in v:
                lines.append(
                    f"| {r['engine']} | {r['items']} | {name} | — | — | — | — | {v['failed']} |"
                )
                continue
            note = f" ({v['first']})" if v.get("first") else ""
            lines.append(
                f"| {r['engine']} | {r['items']} | {name}{note} | {v['rps']:.0f} | "
                f"{v['p50_ms']:.1f} | {v['p95_ms']:.1f} | {v['p99_ms']:.1f} | {v['load_before']:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument(
        "--engines", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run (≤ 60)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to run")
    parser.add_argument("--json", type=Path, help="write all figures here")
    parser.add_argument("--table", type=Path, help="only print the table of a --json file")
    args = parser.parse_args()
    if args.table:
        print(markdown(json.loads(args.table.read_text())))
        return
    if not 1 <= args.duration <= 60:
        parser.error("--duration must be 1–60 seconds")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    print(f"load average at start: {os.getloadavg()}", flush=True)
    runs = [run(e, n, args.tree.resolve(), args.duration) for e in args.engines for n in args.items]
    if args.json:
        args.json.write_text(json.dumps(runs, ensure_ascii=False, indent=1))
    print(markdown(runs))
    for r in runs:
        loads = [v["load_before"] for v in r["results"].values() if "load_before" in v]
        print(
            f"{r['engine']} {r['items']}: generation {r['generation_s']} s, "
            f"median load {statistics.median(loads)}; throughput shares: "
            + ", ".join(f"{name} {share:.0%}" for name, share in shares(r["results"]).items())
        )


def shares(results: dict) -> dict[str, float]:
    """Throughput shares: the floor's and the item list's of the bare page's, and the item list's
    of the floor's (the goal: at least 60 %)."""
    rps = {name: v["rps"] for name, v in results.items() if "rps" in v}
    bare, floor = rps.get("bare page (50 rows)"), rps.get("floor page (50 rows, signed in)")
    page = rps.get("item list /items/")
    out = {}
    if bare and floor:
        out["floor of bare"] = floor / bare
    if bare and page:
        out["item list of bare"] = page / bare
    if floor and page:
        out["item list of floor"] = page / floor
    return out


if __name__ == "__main__":
    main()
