"""Packet benchmark: the 会議資料一式 of a meeting of 10 entries, each with a 30-page PDF 資料.

    .venv/bin/python benchmarks/packet.py [--runs 5] [--db postgresql]

Prints the median time of a warm build (the 次第, the 様式２ and the page-number glyphs already
rendered and cached, the packet not: what a download after a 差替え costs), of a download from
the cache through the app (GET /api/v1/meetings/ID/packet.pdf with a token, full body, test
client), and the peak memory of a process that does one warm build (its RSS high-water mark,
``ru_maxrss``, which counts pikepdf's C++ heap that tracemalloc cannot see; tracemalloc's peak
of Python allocations during the build is printed beside it). Goals (issue 16): warm build
≤ 3 s, cached download ≤ 50 ms, peak ≤ 300 MB.

The 資料 is one 30-page text PDF (A4, IPAex明朝, about 1,200 characters a page) rendered by
WeasyPrint once and stored ten times, as ten uploads would be: each its own file to the packet.
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
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret")

ENTRIES = 10
PAGES = 30


def _app(url: str):
    from workflow import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def attachment_pdf() -> bytes:
    """A 30-page A4 text document, as a department's 計画（案） would be."""
    from weasyprint import HTML

    paragraph = (
        "本計画は、市民サービスの向上と行政運営の効率化を図るため、情報通信技術の活用に関する"
        "基本的な方向性と具体的な取組を定めるものである。"
    ) * 8
    pages = "".join(
        f'<section style="break-after: page"><h2>第{n}章　取組の内容</h2>'
        + f"<p>{paragraph}</p>"
        + "</section>"
        for n in range(1, PAGES + 1)
    )
    html = (
        "<html lang='ja'><style>@page { size: A4; margin: 25mm } "
        "body { font-family: 'IPAexMincho'; font-size: 11pt; line-height: 1.6 }</style>"
        f"<body>{pages}</body></html>"
    )
    return HTML(string=html).write_pdf()


def build(app) -> tuple[int, int]:
    """The meeting and its 資料; return (meeting id, secretariat id)."""
    from tests.factories import make_item, make_meeting, make_user
    from workflow import storage
    from workflow.extensions import db
    from workflow.models import Attachment, seed_meeting_kinds
    from workflow.models.attachment import EntryAttachment
    from workflow.services import meetings
    from workflow.states.states import ItemStatus, PdfStatus, Role

    content = attachment_pdf()
    with app.app_context():
        db.create_all()
        seed_meeting_kinds()
        secretariat = make_user(Role.SECRETARIAT)
        items = [make_item(ItemStatus.ACCEPTED, secretariat=secretariat) for _ in range(ENTRIES)]
        meeting = make_meeting(secretariat, kind=items[0].level_kind)
        for item in items:
            entry = meetings.schedule(secretariat, meeting, item, "担当課長")
            file = storage.store(io.BytesIO(content), "application/pdf")
            file.pdf_status, file.pdf_file_id, file.pages = PdfStatus.READY, file.id, PAGES
            live = Attachment(
                item_id=item.id,
                position=0,
                title="計画（案）",
                filename="計画案.pdf",
                file_id=file.id,
            )
            db.session.add(live)
            db.session.flush()
            entry.attachments.append(
                EntryAttachment(
                    attachment_id=live.id,
                    position=0,
                    title=live.title,
                    filename=live.filename,
                    file_id=file.id,
                )
            )
        db.session.commit()
        return meeting.id, secretariat.id


def _forget_packets() -> None:
    """Delete the cached packets only: the parts stay cached (a warm build)."""
    import sqlalchemy as sa

    from workflow.extensions import db
    from workflow.models import PdfCache

    db.session.execute(sa.delete(PdfCache).where(PdfCache.kind == "packet"))
    db.session.commit()


def _build_once(meeting_id: int, user_id: int):
    from workflow.extensions import db
    from workflow.models import Meeting, User
    from workflow.pdf import packet

    db.session.expire_all()  # as a new request would: read the rows again
    doc = packet.packet_pdf(db.session.get(Meeting, meeting_id), db.session.get(User, user_id))
    db.session.commit()
    assert not isinstance(doc, packet.Pending)
    return doc


def warm_builds(app, meeting_id: int, user_id: int, runs: int) -> tuple[float, bytes]:
    with app.app_context():
        _build_once(meeting_id, user_id)  # renders and caches the parts
        times = []
        for _ in range(runs):
            _forget_packets()
            start = time.perf_counter()
            doc = _build_once(meeting_id, user_id)
            times.append(time.perf_counter() - start)
            assert not doc.cached
        return statistics.median(times), doc.content


def cached_downloads(app, meeting_id: int, user_id: int, runs: int) -> tuple[float, float]:
    """Median times of the packet's cached download and, as the floor the machine gives any
    cached PDF, the 次第's (one small document, one context)."""
    from workflow.extensions import db
    from workflow.models import ApiToken, User

    with app.app_context():
        row, token = ApiToken.issue(db.session.get(User, user_id))
        db.session.add(row)
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    medians = []
    for name in ("packet", "agenda"):
        url = f"/api/v1/meetings/{meeting_id}/{name}.pdf"
        first = client.get(url, headers=headers)
        assert first.status_code == 200, first.status_code
        times = []
        for _ in range(runs * 4):
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
            assert response.data == first.data
        medians.append(statistics.median(times))
    return medians[0], medians[1]


def memory_one(url: str, meeting_id: int, user_id: int) -> None:
    """In a new process: one warm build; print RSS peak and tracemalloc peak (MB)."""
    app = _app(url)
    with app.app_context():
        _forget_packets()
        tracemalloc.start()
        _build_once(meeting_id, user_id)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"{_peak_mb():.1f} {traced / 2**20:.1f}")


def _memory(url: str, meeting_id: int, user_id: int) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-one", url, str(meeting_id), str(user_id)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if out.returncode != 0:
        sys.exit(f"memory run failed:\n{out.stderr}")
    rss, traced = out.stdout.split()[-2:]
    return float(rss), float(traced)


def _database(kind: str, folder: Path) -> tuple[str, object]:
    """A fresh database URL and a function that drops it."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'packet.db'}", lambda: None
    from tests.support import create_pg_database, drop_pg_database

    url = create_pg_database()
    return url, lambda: drop_pg_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--memory-one", nargs=3, metavar=("URL", "MEETING", "USER"))
    args = parser.parse_args()
    if args.memory_one:
        url, meeting_id, user_id = args.memory_one
        memory_one(url, int(meeting_id), int(user_id))
        return

    from pypdf import PdfReader

    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        url, drop = _database(args.db, Path(folder))
        try:
            app = _app(url)
            meeting_id, user_id = build(app)
            warm, content = warm_builds(app, meeting_id, user_id, args.runs)
            download, floor = cached_downloads(app, meeting_id, user_id, args.runs)
            rss, traced = _memory(url, meeting_id, user_id)
            with app.app_context():
                from workflow.extensions import db

                db.session.remove()
                db.engine.dispose()
        finally:
            drop()
    pages = len(PdfReader(io.BytesIO(content)).pages)
    print(
        f"database: {args.db}; load average at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}"
    )
    print(
        f"packet: {ENTRIES} entries × {PAGES}-page 資料, {pages} pages, {len(content) / 2**20:.2f} MB"
    )
    print(f"warm build (parts cached), median of {args.runs}: {warm:.3f} s  (goal ≤ 3 s)")
    print(
        f"cached download via the API, median of {args.runs * 4}: {download * 1000:.1f} ms"
        f"  (goal ≤ 50 ms; the 次第's cached download beside it: {floor * 1000:.1f} ms)"
    )
    print(f"peak RSS of a process doing one warm build: {rss:.0f} MB  (goal ≤ 300 MB)")
    print(f"  tracemalloc peak during that build (Python allocations only): {traced:.1f} MB")


if __name__ == "__main__":
    main()
