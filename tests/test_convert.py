"""The PDF edition of a 資料 (workflow.convert, job ``convert_pdf``): Office files through a real
LibreOffice, images onto one page, and every way a conversion fails for good or is tried again.
"""

from __future__ import annotations

import http.server
import io
import os
import threading
import time
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from sqlalchemy.exc import OperationalError

from tests.support import run_workers_side_by_side
from workflow import convert, storage
from workflow.extensions import db
from workflow.jobs import Worker, enqueue
from workflow.models.attachment import StoredFile
from workflow.models.job import Job
from workflow.states.states import JobStatus, PdfStatus

DATA = Path(__file__).resolve().parent / "data"

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def pending(data: bytes, media_type: str) -> tuple[int, int]:
    """A stored file waiting for its PDF edition, and its convert_pdf job: (file id, job id)."""
    stored = storage.store(io.BytesIO(data), media_type, pdf_status=PdfStatus.PENDING)
    job = enqueue("convert_pdf", file_id=stored.id)
    db.session.flush()
    ids = stored.id, job.id
    db.session.commit()
    return ids


def run_due() -> int:
    return Worker("test-worker").run(threading.Event(), once=True)


def converted(file_id: int) -> StoredFile:
    db.session.expire_all()
    return db.session.get(StoredFile, file_id)


def job_of(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def pdf_edition(stored: StoredFile) -> pikepdf.Pdf:
    """The stored PDF edition of *stored*, opened (it must be a valid PDF)."""
    edition = db.session.get(StoredFile, stored.pdf_file_id)
    assert edition.media_type == "application/pdf"
    assert edition.pdf_status == PdfStatus.READY
    assert edition.pdf_file_id == edition.id
    assert edition.pages == stored.pages
    return pikepdf.open(io.BytesIO(storage.read_bytes(edition.id)))


def image(kind: str, size: tuple[int, int], *, noise: bool = False) -> bytes:
    """An image file; with *noise*, one whose data does not compress to a few bytes."""
    picture = (
        Image.effect_noise(size, 64).convert("RGB") if noise else Image.new("RGB", size, "red")
    )
    out = io.BytesIO()
    picture.save(out, kind)
    return out.getvalue()


def failed_with(file_id: int, job_id: int, *words: str) -> StoredFile:
    """The file is 「変換できませんでした」 with a reason holding *words*; its job failed at once."""
    stored = converted(file_id)
    assert stored.pdf_status == PdfStatus.FAILED
    assert stored.pdf_file_id is None
    assert stored.pages is None
    for word in words:
        assert word in stored.pdf_error
    job = job_of(job_id)
    assert job.status == JobStatus.FAILED
    assert job.attempts == 1  # the same bytes would fail again: not retried
    return stored


# -- Office files through LibreOffice -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("small.docx", DOCX), ("small.xlsx", XLSX), ("small.pptx", PPTX)],
)
def test_office_files_become_pdf_with_their_page_count(app, name, media_type):
    file_id, job_id = pending((DATA / name).read_bytes(), media_type)

    assert run_due() == 1

    stored = converted(file_id)
    assert stored.pdf_status == PdfStatus.READY, stored.pdf_error
    assert stored.pdf_error == ""
    assert stored.pages >= 1
    with pdf_edition(stored) as pdf:
        assert len(pdf.pages) == stored.pages
    assert job_of(job_id).status == JobStatus.DONE


def test_two_workers_convert_side_by_side_each_with_its_own_libreoffice(app):
    jobs = [pending((DATA / name).read_bytes(), DOCX)[1] for name in ("small.docx",) * 2]
    assert run_workers_side_by_side(app, timeout=120) == []
    finished = [job_of(job_id) for job_id in jobs]
    assert {job.status for job in finished} == {JobStatus.DONE}
    assert {job.claimed_by for job in finished} == {"worker-1", "worker-2"}  # at the same time
    for job in finished:
        assert converted(job.params["file_id"]).pdf_status == PdfStatus.READY


def test_libreoffice_fetches_nothing_a_file_links_to(app, tmp_path):
    asked: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_error(404)

        do_OPTIONS = do_HEAD = do_GET

        def log_message(self, *_args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # A Word file whose image is a link to http://127.0.0.1:<port>/x.png, not embedded.
        linked = io.BytesIO()
        with (
            zipfile.ZipFile(DATA / "external_image.docx") as original,
            zipfile.ZipFile(linked, "w", zipfile.ZIP_DEFLATED) as copy,
        ):
            for member in original.infolist():
                content = original.read(member)
                if member.filename == "word/_rels/document.xml.rels":
                    port = server.server_address[1]
                    content = content.replace(b"127.0.0.1:8765", f"127.0.0.1:{port}".encode())
                    assert f"127.0.0.1:{port}/x.png".encode() in content
                copy.writestr(member, content)
        file_id, _ = pending(linked.getvalue(), DOCX)

        run_due()
    finally:
        server.shutdown()
        server.server_close()

    assert converted(file_id).pdf_status == PdfStatus.READY
    assert asked == []


def test_a_corrupt_office_file_fails(app):
    truncated = (DATA / "small.docx").read_bytes()[:1500]
    file_id, job_id = pending(truncated, DOCX)

    run_due()

    failed_with(file_id, job_id, "LibreOffice", "開けませんでした")


def test_a_zip_bomb_inside_an_office_file_fails_within_its_bounds(app):
    app.config.update(CONVERT_TIMEOUT_SECONDS=3, CONVERT_MEMORY_MB=1024)
    # small.docx whose one word is replaced by 100 MB of text: 100 KB zipped.
    bomb = io.BytesIO()
    with (
        zipfile.ZipFile(DATA / "small.docx") as original,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as copy,
    ):
        for member in original.infolist():
            content = original.read(member)
            if member.filename != "word/document.xml":
                copy.writestr(member, content)
                continue
            head, tail = content.split(b"hello", 1)
            with copy.open("word/document.xml", "w", force_zip64=True) as document:
                document.write(head)
                for _ in range(100):
                    document.write(b"A" * (1 << 20))
                document.write(tail)
    assert len(bomb.getvalue()) < 200_000
    file_id, job_id = pending(bomb.getvalue(), DOCX)

    started = time.monotonic()
    run_due()

    assert time.monotonic() - started < 15
    stored = failed_with(file_id, job_id)
    # Killed at its time limit, or stopped at its memory limit: whichever comes first.
    assert "打ち切りました" in stored.pdf_error or "CONVERT_MEMORY_MB" in stored.pdf_error


def test_without_libreoffice_the_file_fails_saying_what_to_install(app):
    app.config["SOFFICE"] = "/nonexistent/soffice"
    file_id, job_id = pending((DATA / "small.docx").read_bytes(), DOCX)

    run_due()

    failed_with(file_id, job_id, "/nonexistent/soffice", "libreoffice-core-nogui")


def test_libreoffice_runs_within_the_memory_limit(app):
    app.config["CONVERT_MEMORY_MB"] = 64  # far too little for LibreOffice to start
    file_id, job_id = pending((DATA / "small.docx").read_bytes(), DOCX)

    run_due()

    failed_with(file_id, job_id, "CONVERT_MEMORY_MB")


def _alive(pid: int) -> bool:
    """Is *pid* a process that has not ended (a zombie has ended)?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_conversion_past_its_time_is_killed_with_its_whole_process_group(app, tmp_path):
    slow = tmp_path / "soffice"
    # Like soffice, a parent that starts another process and waits for it.
    slow.write_text(
        f"#!/bin/sh\necho $$ > {tmp_path}/parent.pid\n"
        f"sleep 60 &\necho $! > {tmp_path}/child.pid\nwait\n"
    )
    slow.chmod(0o755)
    app.config.update(SOFFICE=str(slow), CONVERT_TIMEOUT_SECONDS=1)
    file_id, job_id = pending((DATA / "small.docx").read_bytes(), DOCX)

    started = time.monotonic()
    run_due()

    assert time.monotonic() - started < 10
    failed_with(file_id, job_id, "1 秒", "打ち切りました")
    pids = [int((tmp_path / name).read_text()) for name in ("parent.pid", "child.pid")]
    assert os.getpgid(os.getpid()) not in pids  # it ran in a group of its own
    for pid in pids:
        assert not _alive(pid)


# -- images -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "media_type", "size", "landscape"),
    [("PNG", "image/png", (640, 480), True), ("JPEG", "image/jpeg", (480, 640), False)],
)
def test_an_image_becomes_one_a4_page_turned_to_suit_it(app, kind, media_type, size, landscape):
    file_id, job_id = pending(image(kind, size), media_type)

    run_due()

    stored = converted(file_id)
    assert stored.pdf_status == PdfStatus.READY, stored.pdf_error
    assert stored.pages == 1
    with pdf_edition(stored) as pdf:
        [page] = pdf.pages
        _, _, width, height = (float(v) for v in page.mediabox)
    assert (width > height) is landscape
    assert sorted((round(width), round(height))) == [595, 842]  # A4 in points
    assert job_of(job_id).status == JobStatus.DONE


def test_a_photo_taken_sideways_gets_the_page_it_is_shown_on(app):
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF Orientation: turn a quarter clockwise to show
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "blue").save(out, "JPEG", exif=exif)
    file_id, _ = pending(out.getvalue(), "image/jpeg")

    run_due()

    with pdf_edition(converted(file_id)) as pdf:
        _, _, width, height = (float(v) for v in pdf.pages[0].mediabox)
    assert width < height  # shown 480 × 640: portrait


@pytest.mark.parametrize(
    ("kind", "media_type", "keep"),
    [("PNG", "image/png", 40), ("PNG", "image/png", 0.6), ("JPEG", "image/jpeg", 0.6)],
    ids=["png-header-only", "png-cut-short", "jpeg-cut-short"],
)
def test_a_broken_image_fails(app, kind, media_type, keep):
    whole = image(kind, (300, 200), noise=True)
    cut = whole[:keep] if isinstance(keep, int) else whole[: int(len(whole) * keep)]
    file_id, job_id = pending(cut, media_type)

    run_due()

    failed_with(file_id, job_id, "画像を読めませんでした")


def test_an_image_too_large_to_decode_is_refused_before_decoding(app, monkeypatch):
    monkeypatch.setattr(convert, "IMAGE_MAX_PIXELS", 100 * 100)
    file_id, job_id = pending(image("PNG", (101, 100)), "image/png")

    run_due()

    failed_with(file_id, job_id, "画像が大きすぎます", "101×100")


def test_a_type_that_cannot_be_converted_fails(app):
    file_id, job_id = pending(b"MZ\x90\x00", "application/x-dosexec")

    run_due()

    failed_with(file_id, job_id, "application/x-dosexec")


# -- trying again, and running again ------------------------------------------------------------


def test_an_infrastructure_failure_is_retried_and_marks_the_file_only_when_given_up(
    app, monkeypatch
):
    app.config.update(JOB_MAX_ATTEMPTS=2, JOB_RETRY_SECONDS=0)

    def database_gone(*_args, **_kwargs):
        raise OperationalError("SELECT data FROM file_chunks", {}, Exception("connection lost"))

    monkeypatch.setattr(convert.storage, "chunks", database_gone)
    file_id, job_id = pending(image("PNG", (20, 20)), "image/png")

    assert run_due() == 2  # tried, then tried again at once (no backoff configured)

    stored = converted(file_id)
    assert stored.pdf_status == PdfStatus.FAILED
    assert "繰り返し" in stored.pdf_error
    assert "OperationalError" in stored.pdf_error
    job = job_of(job_id)
    assert job.status == JobStatus.FAILED
    assert job.attempts == 2


def test_a_retry_after_a_passing_failure_converts_the_file(app, monkeypatch):
    app.config.update(JOB_MAX_ATTEMPTS=3, JOB_RETRY_SECONDS=0)
    real_chunks, failures = convert.storage.chunks, []

    def fails_once(file_id: int):
        if not failures:
            failures.append(file_id)
            raise OperationalError("SELECT", {}, Exception("connection lost"))
        return real_chunks(file_id)

    monkeypatch.setattr(convert.storage, "chunks", fails_once)
    file_id, job_id = pending(image("JPEG", (30, 20)), "image/jpeg")

    run_due()

    assert converted(file_id).pdf_status == PdfStatus.READY
    job = job_of(job_id)
    assert job.status == JobStatus.DONE
    assert job.attempts == 2


def test_a_file_already_converted_is_left_as_it_is(app):
    file_id, job_id = pending(image("PNG", (20, 20)), "image/png")
    run_due()
    first = converted(file_id).pdf_file_id
    again = enqueue("convert_pdf", file_id=file_id)  # a job run again after its worker died
    db.session.flush()
    again_id = again.id
    db.session.commit()

    run_due()

    assert converted(file_id).pdf_file_id == first
    assert job_of(again_id).status == JobStatus.DONE
    assert db.session.query(StoredFile).count() == 2  # the image and its one PDF edition
