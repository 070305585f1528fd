"""One Office → PDF conversion by `flask worker`: its time, and the worker's peak memory with the
LibreOffice processes it starts.

    .venv/bin/python benchmarks/convert_bench.py [--pages 30] [--runs 3] [--photo]

Makes a Word file of ``--pages`` pages (a heading, Japanese paragraphs, a table and a PNG chart
on each, written as HTML and saved as .docx by LibreOffice itself), stores it in a fresh SQLite
database with its convert_pdf job, and runs ``flask worker --once`` in a new process, once per
run. While it runs, the resident memory of the worker and all its descendants (soffice,
soffice.bin) is summed from /proc every 20 ms. Reports per run: the job's duration (from the
job log), the whole process's wall time, the peak of the summed RSS and the worker's own peak.
With ``--photo`` the file is a 12-megapixel JPEG (4000 × 3000, noise: a camera's worst case)
instead, put on one page in the worker itself (WeasyPrint).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402

from tests.support import make_app  # noqa: E402
from workflow import storage  # noqa: E402
from workflow.extensions import db  # noqa: E402
from workflow.jobs import enqueue  # noqa: E402
from workflow.models.attachment import StoredFile  # noqa: E402
from workflow.states.states import PdfStatus  # noqa: E402

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PARAGRAPH = (
    "本計画は、市民サービスの向上と行政運営の効率化を図るため、情報通信技術を活用した"
    "取組の方向性を定めるものです。庁議のペーパーレス化を進め、会議資料を電子で共有します。"
)


def chart(path: Path) -> None:
    image = Image.new("RGB", (800, 400), "white")
    draw = ImageDraw.Draw(image)
    for n in range(8):
        draw.rectangle((40 + n * 90, 380 - 40 * n, 100 + n * 90, 380), fill=(40, 90, 160))
    image.save(path)


def make_docx(pages: int, work: Path) -> bytes:
    """A Word file of about *pages* pages, saved by LibreOffice from HTML."""
    chart(work / "chart.png")
    parts = ["<html><head><meta charset='utf-8'></head><body>"]
    for page in range(1, pages + 1):
        style = " style='page-break-before: always'" if page > 1 else ""
        parts.append(f"<h1{style}>第{page}章 計画の内容</h1>")
        parts += [f"<p>{PARAGRAPH}</p>" for _ in range(3)]
        rows = "".join(
            f"<tr><td>{n}</td><td>施策{n}</td><td>{n * 1000:,}千円</td></tr>" for n in range(1, 8)
        )
        parts.append(
            f"<table border='1'><tr><th>番号</th><th>施策</th><th>予算</th></tr>{rows}</table>"
        )
        parts.append("<p><img src='chart.png' width='500' height='250'></p>")
    parts.append("</body></html>")
    (work / "plan.html").write_text("".join(parts), encoding="utf-8")
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--infilter=HTML (StarWriter)",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(work),
            str(work / "plan.html"),
        ],
        check=True,
        capture_output=True,
    )
    return (work / "plan.docx").read_bytes()


def descendants(pid: int) -> list[int]:
    """*pid* and every process below it (from /proc/<pid>/task/*/children)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def make_photo() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((4000, 3000), 40).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def one_run(database_url: str, data: bytes, media_type: str) -> dict:
    app = make_app(database_url)
    with app.app_context():
        stored = storage.store(io.BytesIO(data), media_type, pdf_status=PdfStatus.PENDING)
        enqueue("convert_pdf", file_id=stored.id)
        db.session.flush()
        file_id = stored.id
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    environment = {**os.environ, "DATABASE_URL": database_url}
    started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--once"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak_tree = peak_worker = 0
    while worker.poll() is None:
        pids = descendants(worker.pid)
        peak_tree = max(peak_tree, sum(rss_kib(p) for p in pids))
        peak_worker = max(peak_worker, rss_kib(worker.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - started
    output = worker.stdout.read()
    worker.stdout.close()
    job = next(
        json.loads(line)
        for line in output.splitlines()
        if line.startswith("{") and '"event": "job"' in line
    )
    with app.app_context():
        result = db.session.get(StoredFile, file_id)
        pages, status = result.pages, result.pdf_status
        db.session.remove()
        db.engine.dispose()
    return {
        "job_s": job["duration_ms"] / 1000,
        "wall_s": wall,
        "peak_tree_mb": peak_tree / 1024,
        "peak_worker_mb": peak_worker / 1024,
        "pages": pages,
        "status": str(status),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--photo", action="store_true", help="a 12-megapixel JPEG instead")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "benchmark-secret-key-not-for-production-use")
    with tempfile.TemporaryDirectory(prefix="chogi-convert-bench-") as tmp:
        work = Path(tmp)
        if args.photo:
            data, media_type = make_photo(), "image/jpeg"
        else:
            data, media_type = make_docx(args.pages, work), DOCX
        database_url = f"sqlite:///{work / 'bench.sqlite3'}"
        app = make_app(database_url)
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        print(f"input: {len(data) / 1024:.1f} KiB {media_type}")
        runs = [one_run(database_url, data, media_type) for _ in range(args.runs)]
    for run in runs:
        print(
            f"job {run['job_s']:.2f} s, process {run['wall_s']:.2f} s, "
            f"peak RSS worker+soffice {run['peak_tree_mb']:.0f} MB "
            f"(worker alone {run['peak_worker_mb']:.0f} MB), {run['pages']} pages, {run['status']}"
        )
    print(
        f"median: job {statistics.median(r['job_s'] for r in runs):.2f} s, "
        f"peak {statistics.median(r['peak_tree_mb'] for r in runs):.0f} MB"
    )


if __name__ == "__main__":
    main()
