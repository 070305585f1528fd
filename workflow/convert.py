"""The PDF edition of a 資料 (job ``convert_pdf``, run by `flask worker`): Word, Excel and
PowerPoint files through LibreOffice, PNG and JPEG images onto one A4 page.

A conversion ends in one of two ways for the file: ``pdf_status`` ``ready`` with ``pdf_file_id``
(a new stored PDF) and ``pages``, or ``failed`` with a short ``pdf_error`` for the staff. A file
LibreOffice cannot read, one that takes longer than ``CONVERT_TIMEOUT_SECONDS`` or more than
``CONVERT_MEMORY_MB`` of address space, fails at once (:class:`ConversionError`, no retry: the same
bytes would fail again). Anything else (the database gone away, a full disk) is retried by the
worker, and marks the file failed only when the worker gives the job up.

LibreOffice runs as a child process in its own process group and session, with a throw-away
profile in a temporary directory: several workers never share a profile, a Ctrl-C meant for the
worker does not reach it, and on timeout the whole group (soffice and its soffice.bin) is killed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pikepdf
from flask import current_app

from workflow import storage
from workflow.extensions import db
from workflow.jobs import FinalError, handler
from workflow.models.attachment import StoredFile
from workflow.states.states import PdfStatus

log = logging.getLogger(__name__)

# The file name extension LibreOffice is given for each media type libmagic reports: its filter
# detection starts from the extension (and checks the content).
OFFICE_EXTENSIONS = {
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/rtf": ".rtf",
    "text/rtf": ".rtf",
}
IMAGE_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg"}

# An image larger than this is refused before it is decoded (a PNG of 20000 × 20000 pixels
# would take 1.6 GB in the worker): 50 million pixels is well above any camera or scanner page.
IMAGE_MAX_PIXELS = 50_000_000
# The largest file LibreOffice may write (RLIMIT_FSIZE): a spreadsheet whose print range spans
# millions of cells must not fill the disk.
OUTPUT_MAX_BYTES = 1024 * 1024 * 1024
SOFFICE_PACKAGES = (
    "libreoffice-core-nogui libreoffice-writer-nogui libreoffice-calc-nogui "
    "libreoffice-impress-nogui"
)


class ConversionError(FinalError):
    """This file cannot be converted (the message, in Japanese, goes to ``pdf_error``)."""


def _mark_failed(exc: Exception, file_id: int) -> None:
    """The job was given up: the file is 「変換できませんでした」 with the reason."""
    stored = db.session.get(StoredFile, file_id, with_for_update=True)
    if stored is None or stored.pdf_status != PdfStatus.PENDING:
        return
    if isinstance(exc, ConversionError):
        reason = str(exc)
    else:
        detail = " ".join(str(exc).split())
        reason = (
            f"PDFへの変換を繰り返し試みましたが、できませんでした（{type(exc).__name__}: {detail}）"
        )
    stored.pdf_status = PdfStatus.FAILED
    stored.pdf_error = reason[:500]


@handler("convert_pdf", on_give_up=_mark_failed)
def convert_pdf(file_id: int) -> None:
    """Make the PDF edition of stored file *file_id* (pending): ready with its pages, or failed."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.pdf_status != PdfStatus.PENDING:
        db.session.rollback()  # done already (a job run again after its worker died), or gone
        return
    media_type = stored.media_type
    extension = OFFICE_EXTENSIONS.get(media_type) or IMAGE_EXTENSIONS.get(media_type)
    if extension is None:
        raise ConversionError(f"この形式（{media_type}）はPDFに変換できません。")
    with tempfile.TemporaryDirectory(prefix="chogi-convert-") as tmp:
        work = Path(tmp)
        source = work / f"source{extension}"
        with source.open("wb") as out:
            for block in storage.chunks(file_id):
                out.write(block)
        # No transaction while converting: on SQLite it would hold the write lock for a minute.
        db.session.commit()
        if media_type in IMAGE_EXTENSIONS:
            pdf_path = image_to_pdf(source, work)
        else:
            pdf_path = office_to_pdf(source, work)
        pages = page_count(pdf_path)
        stored = db.session.get(StoredFile, file_id, with_for_update=True)
        if stored is None or stored.pdf_status != PdfStatus.PENDING:
            return
        with pdf_path.open("rb") as stream:
            pdf = storage.store(stream, "application/pdf", pdf_status=PdfStatus.READY)
    # The converted file is a PDF like an uploaded one: its own PDF edition.
    pdf.pdf_file_id, pdf.pages = pdf.id, pages
    stored.pdf_file_id, stored.pages = pdf.id, pages
    stored.pdf_status, stored.pdf_error = PdfStatus.READY, ""
    db.session.flush()


# -- LibreOffice ----------------------------------------------------------------------------------


def soffice_path() -> str:
    """The soffice program (config ``SOFFICE``); ConversionError naming the packages if absent."""
    configured = current_app.config["SOFFICE"]
    found = shutil.which(configured)
    if found is None:
        raise ConversionError(
            f"LibreOffice（{configured}）が見つからないため変換できません。"
            f"サーバーに {SOFFICE_PACKAGES} を入れてください（scripts/setup.sh が入れます）。"
        )
    return found


def _limits(memory_mb: int) -> Callable[[], None]:
    """Resource limits set in the child before soffice starts (every process of it inherits)."""
    memory = memory_mb * 1024 * 1024

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_MAX_BYTES, OUTPUT_MAX_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return limit


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the conversion's whole process group (soffice starts soffice.bin) and reap it."""
    with contextlib.suppress(ProcessLookupError):  # every process of the group has ended
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def office_to_pdf(source: Path, work: Path) -> Path:
    """Convert *source* (an Office file) with LibreOffice into *work*; the PDF's path."""
    config = current_app.config
    program = soffice_path()
    timeout = float(config["CONVERT_TIMEOUT_SECONDS"])
    outdir, home = work / "out", work / "home"
    outdir.mkdir()
    home.mkdir()
    command = [
        program,
        "--headless",
        "--norestore",
        "--nologo",
        "--nolockcheck",
        "--nodefault",
        f"-env:UserInstallation={(work / 'profile').as_uri()}",
        "--convert-to",
        "pdf",
        "--outdir",
        str(outdir),
        str(source),
    ]
    _write_profile(work / "profile")
    environment = {**os.environ, "HOME": str(home), "TMPDIR": str(work)}
    output = work / "soffice.log"
    with output.open("wb") as printed:
        process = subprocess.Popen(  # noqa: S603  (our own arguments; no shell)
            command,
            stdin=subprocess.DEVNULL,
            stdout=printed,
            stderr=subprocess.STDOUT,
            cwd=work,
            env=environment,
            start_new_session=True,  # its own group: killed whole, and no Ctrl-C of the worker
            preexec_fn=_limits(int(config["CONVERT_MEMORY_MB"])),
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise ConversionError(
                f"変換が {timeout:g} 秒で終わらなかったため打ち切りました。"
                "ファイルを小さく分けるか、PDFにしてから登録してください。"
            ) from None
        finally:
            _kill_group(process)  # nothing of it outlives the conversion
    printed_text = output.read_text(errors="replace").strip()
    result = outdir / f"{source.stem}.pdf"
    if result.is_file() and returncode == 0:
        return result
    log.warning(
        "soffice failed on %s (exit status %s): %s", source.name, returncode, printed_text[-1000:]
    )
    if any(marker in printed_text for marker in _OUT_OF_MEMORY):
        raise ConversionError(
            "LibreOffice がメモリの上限（CONVERT_MEMORY_MB = "
            f"{config['CONVERT_MEMORY_MB']} MB）に達したため変換できませんでした。"
        )
    # A signal (the shell script soffice exits 128 + N when soffice.bin is killed by signal N).
    signum = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if signum:
        raise ConversionError(
            f"LibreOffice が変換の途中で止まりました（{_signal_name(signum)}）。"
            "ファイルが大きすぎるか（メモリの上限 CONVERT_MEMORY_MB）、壊れています。"
        )
    raise ConversionError(
        "LibreOffice がこのファイルを開けませんでした。壊れているか、中身が Office の形式では"
        "ありません。"
    )


# The settings of a conversion's fresh profile. An uploaded file must not make the server fetch
# anything: by default LibreOffice loads a document's linked images from their URLs while
# converting (a request from inside the city's network, to any address the file names).
# BlockUntrustedRefererLinks stops that; macros never run.
_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop
 oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop
 oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop
 oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
</oor:items>
"""


def _write_profile(profile: Path) -> None:
    """Start the conversion's throw-away profile with :data:`_PROFILE_SETTINGS`."""
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS)


# What soffice prints when its address space (RLIMIT_AS) runs out: the loader cannot map a
# library, or an allocation fails.
_OUT_OF_MEMORY = ("failed to map segment", "bad_alloc", "Cannot allocate memory", "out of memory")


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


# -- images ---------------------------------------------------------------------------------------


def image_to_pdf(source: Path, work: Path) -> Path:
    """Put *source* (PNG or JPEG) on one A4 page, turned to suit it, fitted inside a margin."""
    from PIL import Image

    from workflow.pdf.fetcher import LockedFetcher
    from workflow.pdf.weasy import import_weasyprint

    weasyprint = import_weasyprint()
    try:
        with warnings.catch_warnings(), _strict_images():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:  # the header only, so far
                kind, (width, height) = image.format, image.size
                if kind not in ("PNG", "JPEG"):
                    raise ConversionError(f"この画像の形式（{kind}）はPDFに変換できません。")
                if width * height > IMAGE_MAX_PIXELS:
                    raise ConversionError(
                        f"画像が大きすぎます（{width}×{height} ピクセル）。"
                        f"{IMAGE_MAX_PIXELS // 10_000:,} 万画素までにしてください。"
                    )
                # Decode it all (a JPEG at 1/8 scale, which still reads every block): WeasyPrint
                # would leave a broken image out of the page without a word.
                if kind == "JPEG":
                    image.draft("RGB", (max(width // 8, 1), max(height // 8, 1)))
                image.load()
                orientation = image.getexif().get(0x0112, 1)  # EXIF Orientation (PNG: loads)
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ConversionError(
            "画像を読めませんでした。壊れているか、中身が画像ではありません。"
        ) from None
    if orientation in (5, 6, 7, 8):  # shown turned a quarter (WeasyPrint follows the EXIF tag)
        width, height = height, width
    # A4 less 10 mm each side; display:block leaves no line gap under the image (one page).
    if width > height:
        page, box_width, box_height = "A4 landscape", "277mm", "190mm"
    else:
        page, box_width, box_height = "A4", "190mm", "277mm"
    html = (
        "<!doctype html><style>"
        f"@page {{ size: {page}; margin: 10mm }} html, body {{ margin: 0; padding: 0 }}"
        f"img {{ display: block; width: {box_width}; height: {box_height}; object-fit: contain }}"
        f'</style><img src="{source.as_uri()}" alt="">'
    )
    target = work / "image.pdf"
    fetcher = LockedFetcher(folders=(), files=(source,))
    try:
        weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(target)
    except (OSError, ValueError) as exc:
        raise ConversionError(f"画像をPDFにできませんでした（{exc}）。") from None
    return target


@contextlib.contextmanager
def _strict_images() -> Iterator[None]:
    """Pillow refuses a file cut short (OSError) inside the block.

    WeasyPrint lets Pillow load truncated images, filling the rest grey (weasyprint/images.py
    sets ``LOAD_TRUNCATED_IMAGES`` when imported); here a file cut short must fail. A worker runs
    one job at a time, so nothing else reads the setting meanwhile.
    """
    from PIL import ImageFile

    lenient = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient


# -- the result -----------------------------------------------------------------------------------


def page_count(path: Path) -> int:
    """The pages of the PDF at *path*, once pikepdf has opened it; ConversionError if it cannot."""
    try:
        with pikepdf.open(path) as pdf:
            pages = len(pdf.pages)
    except pikepdf.PdfError as exc:
        raise ConversionError(f"変換してできたPDFを開けませんでした（{exc}）。") from None
    if pages < 1:
        raise ConversionError("変換してできたPDFにページがありません。")
    return pages
