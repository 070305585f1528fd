"""Checking an uploaded 資料 (DOMAIN §10) before anything is stored.

The media type comes from the content (libmagic through python-magic), never from the file name
or the Content-Type header; the name's extension must then agree with it. A PDF must open with
pikepdf unencrypted; an Office Open XML file must really be one, and its zip may not declare an
expansion that would flood the converter (a zip bomb), read from the zip's directory without
extracting anything. The upload stays where Werkzeug spooled it (a temporary file past 500 KB):
nothing here reads it whole into memory.

Uploads have their own size limit, ``ATTACHMENT_MAX_MB``: :class:`UploadRequest` raises the
request's body limit for the views marked :func:`accepts_upload` only, so the JSON body limit
(``MAX_CONTENT_LENGTH``) stays as it is everywhere else.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, TypeVar
from urllib.parse import quote

import magic
import pikepdf
from flask import Request, Response, current_app, has_app_context, request, stream_with_context
from werkzeug.datastructures import FileStorage

from workflow import storage
from workflow.errors import ValidationFailed, WorkflowError
from workflow.models.attachment import FILENAME_MAX, StoredFile

PDF = "application/pdf"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PNG = "image/png"
JPEG = "image/jpeg"

# The extension a name may end with → the media type its content must have.
EXTENSIONS = {
    "pdf": PDF,
    "doc": DOC,
    "docx": DOCX,
    "xls": XLS,
    "xlsx": XLSX,
    "ppt": PPT,
    "pptx": PPTX,
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
}
LABELS = {
    PDF: "PDF",
    DOC: "Word文書（.doc）",
    DOCX: "Word文書（.docx）",
    XLS: "Excelブック（.xls）",
    XLSX: "Excelブック（.xlsx）",
    PPT: "PowerPointプレゼンテーション（.ppt）",
    PPTX: "PowerPointプレゼンテーション（.pptx）",
    PNG: "PNG画像",
    JPEG: "JPEG画像",
}
ALLOWED_TEXT = "PDF、Word、Excel、PowerPoint、PNG、JPEG"
# Shown inline by a browser; everything else is always a download.
INLINE_TYPES = frozenset({PDF, PNG, JPEG})

# OOXML: the part that says which application's document it is.
_OOXML_MAIN = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}
# libmagic's names for an OLE2 compound document (the .doc/.xls/.ppt container) it could not
# attribute to one application: the three legacy formats share it.
_OLE_GENERIC = frozenset(
    {"application/x-ole-storage", "application/CDFV2", "application/vnd.ms-office"}
)
_EXECUTABLES = frozenset(
    {
        "application/x-dosexec",
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-mach-binary",
        "application/x-msi",
        "application/x-elf",
        "application/vnd.microsoft.portable-executable",
    }
)

# A zip bomb inside an Office file: what its directory declares, read without extracting.
ZIP_MAX_TOTAL = 1024 * 1024 * 1024  # bytes, all members expanded
ZIP_MAX_RATIO = 200  # expanded ÷ compressed, for a member past ZIP_RATIO_FLOOR
ZIP_RATIO_FLOOR = 1024 * 1024
ZIP_MAX_MEMBERS = 10_000

SNIFF_BYTES = 64 * 1024  # what libmagic reads of the start of the content
MULTIPART_SLACK = 64 * 1024  # the other fields and the multipart framing around the file


class TooLarge(WorkflowError):
    """The uploaded file is past ``ATTACHMENT_MAX_MB``."""

    code = "payload_too_large"
    http_status = 413


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: where its bytes are and what they are."""

    stream: BinaryIO  # at position 0
    filename: str
    media_type: str
    size: int
    pages: int | None  # a PDF's page count


def max_bytes() -> int:
    """The upload limit in bytes (``ATTACHMENT_MAX_MB``)."""
    return int(current_app.config["ATTACHMENT_MAX_MB"] * 1024 * 1024)


def too_large_message() -> str:
    limit = f"{current_app.config['ATTACHMENT_MAX_MB']:g}"  # 50, not 50.0
    return f"ファイルが大きすぎます。添付できるファイルは{limit}MBまでです。"


# -- the request's own body limit for upload views -------------------------------------------

V = TypeVar("V", bound=Callable)


def accepts_upload(view: V) -> V:
    """Mark a view that takes a file: its body may be as large as ``ATTACHMENT_MAX_MB``."""
    view.accepts_upload = True  # type: ignore[attr-defined]
    return view


def is_upload_request(request: Request) -> bool:
    rule = request.url_rule
    if rule is None or not has_app_context():
        return False
    view = current_app.view_functions.get(rule.endpoint)
    return bool(getattr(view, "accepts_upload", False))


class UploadRequest(Request):
    """Flask's request, with the upload limit for views marked :func:`accepts_upload`.

    A property rather than a ``before_request`` hook: CSRF protection and the API's
    idempotency check read the body before any view-level hook could raise the limit.
    """

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        if self._max_content_length is None and is_upload_request(self):
            return max_bytes() + MULTIPART_SLACK
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


# -- the checks -------------------------------------------------------------------------------


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed.field("file", message)


def check_filename(raw: str | None) -> tuple[str, str]:
    """The file name as given, and its lower-case extension; refused when unsafe or unknown."""
    name = (raw or "").strip()
    if not name:
        raise _refuse("ファイル名がありません。ファイルを選び直してください。")
    if len(name) > FILENAME_MAX:
        raise _refuse(f"ファイル名が長すぎます（{FILENAME_MAX}文字まで）。")
    if "/" in name or "\\" in name:
        raise _refuse("ファイル名に「/」や「\\」（フォルダの区切り）は使えません。")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in name):
        raise _refuse("ファイル名に制御文字は使えません。")
    if name in (".", "..") or name.startswith("."):
        raise _refuse("ファイル名が正しくありません。")
    stem, dot, ext = name.rpartition(".")
    ext = ext.lower()
    if not dot or not stem or ext not in EXTENSIONS:
        raise _refuse(
            f"この種類のファイルは添付できません。添付できるのは{ALLOWED_TEXT}です"
            "（拡張子 .pdf .doc .docx .xls .xlsx .ppt .pptx .png .jpg .jpeg）。"
        )
    return unicodedata.normalize("NFC", name), ext


def _size_of(stream: BinaryIO) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def _sniff(stream: BinaryIO) -> str:
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if head.startswith((b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa")):
        return "application/x-executable"
    return magic.from_buffer(head, mime=True)


def _ooxml_type(stream: BinaryIO) -> str:
    """Which OOXML document the zip is, after checking its directory for a zip bomb."""
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
            if len(members) > ZIP_MAX_MEMBERS:
                raise _refuse(_BOMB)
            total = 0
            for info in members:
                total += info.file_size
                if info.file_size > ZIP_RATIO_FLOOR and (
                    info.compress_size == 0 or info.file_size / info.compress_size > ZIP_MAX_RATIO
                ):
                    raise _refuse(_BOMB)
            if total > ZIP_MAX_TOTAL:
                raise _refuse(_BOMB)
            names = {info.filename for info in members}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise _refuse("Office文書が壊れているため読み込めません。") from exc
    finally:
        stream.seek(0)
    if "[Content_Types].xml" in names:
        for part, media_type in _OOXML_MAIN.items():
            if part in names:
                return media_type
    raise _refuse("Office文書（Office Open XML）として読めないファイルです。")


_BOMB = "展開すると極端に大きくなるファイル（zip爆弾の疑い）は添付できません。"


def _pdf_pages(stream: BinaryIO) -> int:
    """The page count of an unencrypted PDF that opens; refused otherwise."""
    try:
        with pikepdf.open(stream) as pdf:
            if pdf.is_encrypted:
                raise _refuse(_ENCRYPTED)
            pages = len(pdf.pages)
    except pikepdf.PasswordError as exc:
        raise _refuse(_ENCRYPTED) from exc
    except pikepdf.PdfError as exc:
        raise _refuse("PDFが壊れているため読み込めません。") from exc
    finally:
        stream.seek(0)
    if pages == 0:
        raise _refuse("ページのないPDFは添付できません。")
    return pages


_ENCRYPTED = "暗号化（パスワード保護）されたPDFは添付できません。保護を外してから添付してください。"


def content_type(stream: BinaryIO, ext: str) -> str:
    """The media type the content really has, which the extension must match."""
    sniffed = _sniff(stream)
    if sniffed in _EXECUTABLES:
        raise _refuse("実行ファイル（プログラム）は添付できません。")
    if sniffed in (PDF, PNG, JPEG, DOC, XLS, PPT):
        return sniffed
    if sniffed in _OLE_GENERIC:
        # One container for the three legacy formats: the extension says which of them.
        if EXTENSIONS[ext] in (DOC, XLS, PPT):
            return EXTENSIONS[ext]
        return "application/x-ole-storage"
    if sniffed in (DOCX, XLSX, PPTX, "application/zip", "application/octet-stream"):
        head = stream.read(4)
        stream.seek(0)
        if head == b"PK\x03\x04":
            return _ooxml_type(stream)
    return sniffed


def check_upload(upload: FileStorage | None) -> CheckedUpload:
    """Check *upload* (a form's ``file``); :class:`ValidationFailed` on ``file`` when refused,
    :class:`TooLarge` past the limit."""
    if upload is None or (not upload.filename and not upload.stream):
        raise _refuse("ファイルを選んでください。")
    filename, ext = check_filename(upload.filename)
    stream = upload.stream
    size = _size_of(stream)
    if size == 0:
        raise _refuse("空のファイル（0バイト）は添付できません。")
    if size > max_bytes():
        raise TooLarge(too_large_message(), {"fields": {"file": [too_large_message()]}})
    media_type = content_type(stream, ext)
    expected = EXTENSIONS[ext]
    if media_type != expected:
        found = LABELS.get(media_type)
        if found is None:
            raise _refuse(
                f"ファイルの内容が{LABELS[expected]}ではありません（添付できない種類のファイルです）。"
                f"{ALLOWED_TEXT}のファイルを選んでください。"
            )
        raise _refuse(
            f"ファイルの内容は{found}ですが、拡張子は「.{ext}」です。拡張子を内容に合わせてください。"
        )
    pages = _pdf_pages(stream) if media_type == PDF else None
    return CheckedUpload(stream, filename, media_type, size, pages)


# -- downloads --------------------------------------------------------------------------------


def content_disposition(filename: str, media_type: str) -> str:
    """``inline`` for a PDF or an image, else ``attachment``; the Japanese name in ``filename*``
    (RFC 6266, RFC 8187) and an ASCII fallback (HTTP headers are Latin-1)."""
    disposition = "inline" if media_type in INLINE_TYPES else "attachment"
    stem, _, ext = filename.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_stem).strip("._")
    ascii_ext = re.sub(r"[^A-Za-z0-9]+", "", ext)
    fallback = f"{ascii_stem or 'attachment'}.{ascii_ext or 'bin'}"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(stored: StoredFile, filename: str) -> Response:
    """The stored file streamed a chunk at a time (memory stays flat), with its name, length and
    SHA-256 as ETag; 304 when the client has it already."""
    from workflow.pdf.documents import CACHE_CONTROL

    if request.if_none_match and stored.sha256 in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(
            stream_with_context(storage.chunks(stored.id)),
            mimetype=stored.media_type,
            direct_passthrough=True,
        )
        response.headers["Content-Length"] = str(stored.size)
        response.headers["Content-Disposition"] = content_disposition(filename, stored.media_type)
    response.set_etag(stored.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
