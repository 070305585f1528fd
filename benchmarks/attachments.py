"""資料 benchmark (issue 16): a 20 MB PDF uploaded over loopback, a 200 MB file downloaded.

    .venv/bin/python benchmarks/attachments.py [--db sqlite|postgresql] [--runs 5]

Serves the app with gunicorn (one sync worker) on 127.0.0.1, as tests/support.start_server does,
and sends real HTTP: the upload is ``POST /api/v1/items/{id}/attachments`` (multipart, a bearer
token), the download ``GET …/attachments/{aid}`` read 1 MiB at a time and thrown away. While the
download runs, a thread samples the worker's resident memory every 5 ms: the growth over its
resident memory before the request is what streaming has to keep flat.
Goals: upload ≤ 1 s; the download's memory flat (a few chunks of 1 MiB, not the file).
``ATTACHMENT_MAX_MB`` is raised to 300 for the 200 MB file.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret")
os.environ["ATTACHMENT_MAX_MB"] = "300"
BOUNDARY = "chogi-bench-boundary"
MiB = 1024 * 1024


def big_pdf(path: Path, megabytes: int) -> None:
    """A one-page PDF carrying *megabytes* of incompressible data in a stream object."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    blob = pdf.make_stream(os.urandom(megabytes * MiB))
    pdf.Root.Blob = blob  # kept by the document, read by nobody
    pdf.save(path, compress_streams=False)


def multipart_file(pdf: Path, out: Path) -> None:
    """The multipart body on disk (the client need not hold 200 MB either)."""
    with out.open("wb") as f:
        f.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nベンチマーク\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="資料.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
        )
        with pdf.open("rb") as src:
            while block := src.read(MiB):
                f.write(block)
        f.write(f"\r\n--{BOUNDARY}--\r\n".encode())


def post_file(port: int, path: str, body: Path, token: str) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(body.stat().st_size),
    }
    started = time.perf_counter()
    with body.open("rb") as f:
        conn.request("POST", path, body=f, headers=headers)
        response = conn.getresponse()
        data = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return response.status, data, elapsed


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker_pid(master: int) -> int:
    for task in Path(f"/proc/{master}/task").iterdir():
        children = (task / "children").read_text().split()
        if children:
            return int(children[0])
    raise RuntimeError("gunicorn has no worker")


def download(port: int, path: str, token: str, pid: int) -> tuple[int, float, int, int]:
    """(bytes read, seconds, worker RSS before in KB, peak growth during in KB)."""
    before = rss_kb(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    assert response.status == 200, response.status
    total = 0
    while block := response.read(MiB):
        total += len(block)
    elapsed = time.perf_counter() - started
    conn.close()
    done.set()
    sampler.join()
    return total, elapsed, before, peak[0] - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--upload-mb", type=int, default=20)
    parser.add_argument("--download-mb", type=int, default=200)
    args = parser.parse_args()

    import json

    from tests.factories import make_item, make_section, make_user
    from tests.support import (
        create_pg_database,
        drop_pg_database,
        start_server,
        stop_server,
        token_for,
        wait_ready,
    )
    from workflow import create_app
    from workflow.extensions import db
    from workflow.models import seed_meeting_kinds
    from workflow.states.states import ItemStatus, Role

    work = Path(tempfile.mkdtemp(prefix="chogi_attach_bench_"))
    url = create_pg_database() if args.db == "postgresql" else f"sqlite:///{work / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        db.create_all()
        seed_meeting_kinds()
        department = make_user(Role.DEPARTMENT, make_section("情報政策課"))
        item = make_item(ItemStatus.ACCEPTED, department=department)
        token = token_for(department)
        item_id = item.id
        db.session.commit()
        db.engine.dispose()

    small, large = work / "small.pdf", work / "large.pdf"
    big_pdf(small, args.upload_mb)
    big_pdf(large, args.download_mb)
    small_body, large_body = work / "small.body", work / "large.body"
    multipart_file(small, small_body)
    multipart_file(large, large_body)
    small.unlink()
    large.unlink()

    server = start_server(url, work / "server.log")
    try:
        wait_ready(server)
        path = f"/api/v1/items/{item_id}/attachments"
        uploads = []
        for _ in range(args.runs):
            status, data, elapsed = post_file(server.port, path, small_body, token)
            assert status == 201, data[:500]
            uploads.append(elapsed)
        status, data, elapsed = post_file(server.port, path, large_body, token)
        assert status == 201, data[:500]
        large_id = json.loads(data)["id"]
        pid = worker_pid(server.process.pid)
        downloads = [
            download(server.port, f"{path}/{large_id}", token, pid) for _ in range(args.runs)
        ]
    finally:
        stop_server(server)
        if args.db == "postgresql":
            drop_pg_database(url)

    load = os.getloadavg()
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; "
        f"load {load[0]:.2f} {load[1]:.2f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print(f"database: {args.db}")
    print(
        f"upload {args.upload_mb} MB PDF: median {statistics.median(uploads):.3f} s "
        f"(min {min(uploads):.3f}, max {max(uploads):.3f}, {args.runs} runs)"
    )
    print(f"upload {args.download_mb} MB PDF (setup): {elapsed:.2f} s")
    for total, seconds, before, growth in downloads:
        print(
            f"download {total / MiB:.0f} MiB: {seconds:.2f} s, worker RSS before "
            f"{before / 1024:.0f} MiB, peak growth {growth / 1024:.1f} MiB"
        )


if __name__ == "__main__":
    main()
