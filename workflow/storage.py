"""The bytes of stored files (workflow.models.attachment): written and read in chunks.

A file is written as ``FileChunk`` rows of ``CHUNK_SIZE`` bytes, hashed on the way in, and read
back one row at a time, so neither an upload nor a download holds the whole file in memory.
Everything happens in the caller's transaction: a file whose record rolls back leaves nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import func, select

from workflow.extensions import db
from workflow.models.attachment import CHUNK_SIZE, FileChunk, StoredFile
from workflow.states.states import PdfStatus


def store(
    stream: BinaryIO, media_type: str, *, pdf_status: PdfStatus = PdfStatus.NONE
) -> StoredFile:
    """Write *stream* (read from where it stands to its end) as a new stored file."""
    stored = StoredFile(sha256="", size=0, media_type=media_type, pdf_status=pdf_status)
    db.session.add(stored)
    db.session.flush()  # its id, for the chunks
    digest, size, seq = hashlib.sha256(), 0, 0
    while block := stream.read(CHUNK_SIZE):
        digest.update(block)
        size += len(block)
        chunk = FileChunk(file_id=stored.id, seq=seq, data=block)
        db.session.add(chunk)
        db.session.flush()
        db.session.expunge(chunk)  # the session keeps no reference to the bytes
        seq += 1
    stored.sha256, stored.size = digest.hexdigest(), size
    db.session.flush()
    return stored


def chunks(file_id: int) -> Iterator[bytes]:
    """The file's bytes, one chunk at a time (one row in memory at a time)."""
    count = db.session.scalar(select(func.count()).where(FileChunk.file_id == file_id))
    for seq in range(count or 0):
        yield db.session.scalar(
            select(FileChunk.data).where(FileChunk.file_id == file_id, FileChunk.seq == seq)
        )


def read_bytes(file_id: int) -> bytes:
    """The whole file: for work that needs it at once (a conversion, the packet)."""
    return b"".join(chunks(file_id))
