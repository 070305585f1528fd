"""PDF benchmark: 様式６ for 3 items × 20 opinions (about 3 pages) and 様式２ of the sample item.

    .venv/bin/python benchmarks/pdf_bench.py [--runs 7]

Prints medians for a warm rendering (fonts and stylesheets loaded, cache bypassed), a cold one
(a new Python process: start-up, app, database, rendering), the cached download (through the
API route when it exists, else the workflow.pdf cache lookup), peak memory and the sizes.
Goals (issue 5): warm 様式６ ≤ 0.3 s, cold ≤ 1.5 s, peak ≤ 300 MB, 3-page 様式６ ≤ 100 KB,
cached download ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret")


def _app(database: Path):
    from workflow import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "TESTING": True})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(app) -> tuple[int, int]:
    """Create the data set; return (meeting id, sample item id)."""
    from tests.factories import make_section, make_user
    from workflow.demo.sample import play_sample
    from workflow.extensions import db
    from workflow.models import AgendaEntry, Item, Meeting, Opinion, seed_meeting_kinds
    from workflow.states.states import MeetingStatus, Outcome, Role

    with app.app_context():
        db.create_all()
        seed_meeting_kinds()
        section = make_section("情報政策課", bureau="企画財政局", division="企画部")
        path = play_sample(make_user(Role.DEPARTMENT, section), make_user(Role.SECRETARIAT))
        meeting = Meeting(
            kind="policy_coordination",
            number=6,
            fiscal_year=2019,
            date=date(2019, 11, 8),
            status=MeetingStatus.CONFIRMED,
        )
        for n in range(1, 4):
            entry = AgendaEntry(
                item=Item(title=f"ベンチマーク案件その{n}について", section=section),
                presenter="企画部長",
                outcome=Outcome.APPROVED,
                special_notes="なし",
            )
            entry.opinions = [
                Opinion(
                    opinion=f"意見{k}。事業の進め方と市民への周知について考えを伺いたい。",
                    response=f"回答{k}。関係課と調整し、計画に沿って進める考えである。",
                )
                for k in range(1, 21)
            ]
            meeting.entries.append(entry)
        db.session.add(meeting)
        db.session.commit()
        return meeting.id, path.item.id


def cold_one(database: Path, which: str, ident: int) -> None:
    """One cold rendering in this (new) process; prints its peak memory in MB."""
    from workflow.extensions import db
    from workflow.models import Item, Meeting
    from workflow.pdf import documents
    from workflow.pdf.render import render_pdf

    with _app(database).app_context():
        if which == "minutes":
            context = documents.minutes_context(db.session.get(Meeting, ident))
            template = "minutes.html"
        else:
            context = documents.filed_form_context(db.session.get(Item, ident))
            template = "request_form.html"
        meta = context["meta"]
        render_pdf(template, context, created=meta["created"], modified=meta["modified"])
    print(f"{_peak_mb():.1f}")


def _compile_bytecode() -> None:
    """Write the app's bytecode first, as a deployment has it.

    pip compiles what it installs, but the app runs from this checkout (an editable install),
    whose ``__pycache__`` is only written by the first import — and never where
    PYTHONDONTWRITEBYTECODE is set, when every cold process would compile some eighty modules
    from source, which no deployed server does. scripts/setup.sh does the same.
    """
    import compileall

    for folder in ("workflow", "benchmarks"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def _cold(database: Path, which: str, ident: int, runs: int) -> tuple[float, float]:
    _compile_bytecode()
    times, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--cold-one", which, str(ident), str(database)],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        if out.returncode != 0:
            sys.exit(f"cold run failed:\n{out.stderr}")
        out = out.stdout
        times.append(time.perf_counter() - start)
        peaks.append(float(out.split()[-1]))
    return statistics.median(times), max(peaks)


def _warm(render, runs: int) -> tuple[float, bytes]:
    content = render()  # loads fonts and stylesheets once
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        content = render()
        times.append(time.perf_counter() - start)
    return statistics.median(times), content


def _cached_download(app, meeting_id: int, runs: int) -> tuple[str, float]:
    """Median time of a download that hits the cache: the API route if there is one."""
    from flask import url_for

    from workflow.extensions import db
    from workflow.models import ApiToken, Meeting, User
    from workflow.pdf import documents

    endpoint = "api.minutes_pdf" if "api.minutes_pdf" in app.view_functions else None
    times = []
    if endpoint is not None:
        with app.app_context():
            user = db.session.scalars(db.select(User).where(User.role == "secretariat")).first()
            row, token = ApiToken.issue(user)
            db.session.add(row)
            db.session.commit()
        with app.test_request_context():
            url = url_for(endpoint, meeting_id=meeting_id)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        first = client.get(url, headers=headers)
        assert first.status_code == 200, first.status_code
        for _ in range(runs * 3):
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
            assert response.data == first.data
        return f"GET {url} (API route, full body)", statistics.median(times)
    with app.app_context():
        documents.minutes_pdf(db.session.get(Meeting, meeting_id))
        db.session.commit()
        for _ in range(runs * 3):
            db.session.expire_all()  # as a new request would: reload the meeting
            start = time.perf_counter()
            doc = documents.minutes_pdf(db.session.get(Meeting, meeting_id))
            times.append(time.perf_counter() - start)
            assert doc.cached
        return (
            "workflow.pdf.documents.minutes_pdf, cache hit (no API route yet)",
            statistics.median(times),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cold-one", nargs=3, metavar=("WHICH", "ID", "DB"))
    args = parser.parse_args()
    if args.cold_one:
        which, ident, database = args.cold_one
        cold_one(Path(database), which, int(ident))
        return

    from pypdf import PdfReader

    load_at_start = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="chogi-pdf-bench-") as tmp:
        database = Path(tmp) / "bench.sqlite3"
        # One app per process (the app factory is meant to run once per process).
        app = _app(database)
        meeting_id, item_id = build(app)

        from workflow.extensions import db
        from workflow.models import Item, Meeting
        from workflow.pdf import documents
        from workflow.pdf.render import render_pdf

        with app.app_context():
            minutes = documents.minutes_context(db.session.get(Meeting, meeting_id))
            form = documents.filed_form_context(db.session.get(Item, item_id))

            def render(template, context):
                meta = context["meta"]
                return lambda: render_pdf(
                    template, context, created=meta["created"], modified=meta["modified"]
                )

            warm_minutes, minutes_pdf = _warm(render("minutes.html", minutes), args.runs)
            warm_form, form_pdf = _warm(render("request_form.html", form), args.runs)
        warm_peak = _peak_mb()
        cold_minutes, cold_minutes_peak = _cold(database, "minutes", meeting_id, args.runs)
        cold_form, cold_form_peak = _cold(database, "form", item_id, args.runs)
        how, cached = _cached_download(app, meeting_id, args.runs)

        pages = len(PdfReader(io.BytesIO(minutes_pdf)).pages)
        form_pages = len(PdfReader(io.BytesIO(form_pdf)).pages)
        print(f"runs per figure: {args.runs} (median); CPUs: {os.cpu_count()}")
        print(f"load average at start {load_at_start[0]:.2f}, at end {os.getloadavg()[0]:.2f}")
        print(f"様式６ 3 items × 20 opinions: {pages} pages, {len(minutes_pdf) / 1024:.1f} KB")
        print(f"様式２ sample item: {form_pages} pages, {len(form_pdf) / 1024:.1f} KB")
        print(f"warm 様式６: {warm_minutes:.3f} s   warm 様式２: {warm_form:.3f} s")
        print(f"cold 様式６: {cold_minutes:.3f} s   cold 様式２: {cold_form:.3f} s (new process)")
        print(
            f"peak memory: warm process {warm_peak:.0f} MB, cold 様式６ {cold_minutes_peak:.0f} MB,"
            f" cold 様式２ {cold_form_peak:.0f} MB"
        )
        print(f"cached download: {cached * 1000:.1f} ms — {how}")


if __name__ == "__main__":
    main()
