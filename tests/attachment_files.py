"""Small files for the 資料 tests, made in memory: valid ones of each kind, and bad ones."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pikepdf

DATA = Path(__file__).parent / "data"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
OOXML_MAIN = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}


def pdf_bytes(pages: int = 1, *, encryption: pikepdf.Encryption | None = None) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    out = io.BytesIO()
    if encryption is not None:
        pdf.save(out, encryption=encryption)
    else:
        pdf.save(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    return pdf_bytes(encryption=pikepdf.Encryption(owner="owner-pw", user="user-pw", R=6))


def broken_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nthis is not a pdf at all\n" * 3


def ooxml_bytes(kind: str = "docx", *, extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(OOXML_MAIN[kind], "<document>資料</document>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A docx with one member of 64 MiB of zeros: a few tens of KB compressed."""
    return ooxml_bytes("docx", extra={"word/media/bomb.bin": bytes(64 * 1024 * 1024)})


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\x00" * 64
        + b"\xff\xd9"
    )


def exe_bytes() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def doc_bytes() -> bytes:
    return (DATA / "minimal.doc").read_bytes()


BOUNDARY = "chogi-test-boundary-7f3a"


def multipart(content: bytes, filename: str, **fields: str) -> tuple[bytes, str]:
    """A multipart/form-data body with ``file`` and *fields*, and its Content-Type.

    Made here rather than by Werkzeug's test client, which spools a large body to a temporary
    file it leaves open (a ResourceWarning under ``filterwarnings = error``).
    """
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={BOUNDARY}"
