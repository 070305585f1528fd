"""A large 資料 downloads as a stream: the response is a generator, and the file's chunks are read
from the database one at a time as the client reads, never all before the first byte."""

from __future__ import annotations

import hashlib
import io

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from tests.factories import make_item, make_section, make_user
from tests.support import API, auth, counting
from workflow import storage
from workflow.extensions import db
from workflow.files import CheckedUpload
from workflow.models import FileChunk
from workflow.models.attachment import CHUNK_SIZE
from workflow.services import attachments
from workflow.states.states import ItemStatus, Role

CHUNKS = 6


def _chunk_reads(statements: list[str]) -> int:
    return sum(1 for s in statements if "file_chunks" in s and "count(" not in s.lower())


def test_a_large_download_reads_one_chunk_at_a_time(app, client):
    department = make_user(Role.DEPARTMENT, make_section("情報政策課"))
    item = make_item(ItemStatus.ACCEPTED, department=department)
    content = b"%PDF-1.4\n" + bytes(range(256)) * (CHUNKS * CHUNK_SIZE // 256)
    upload = CheckedUpload(
        FileStorage(io.BytesIO(content), filename="大きな資料.pdf").stream,
        "大きな資料.pdf",
        "application/pdf",
        len(content),
        1,
    )
    attachment = attachments.add(department, item, upload, title="大きな資料")
    db.session.commit()
    assert (
        db.session.scalar(select(func.count()).where(FileChunk.file_id == attachment.file_id))
        == CHUNKS + 1
    )

    with counting() as statements:
        response = client.get(
            f"{API}/items/{item.id}/attachments/{attachment.id}",
            headers=auth(department),
            buffered=False,
        )
        assert response.status_code == 200
        assert response.is_streamed
        assert response.headers["Content-Length"] == str(len(content))
        body = iter(response.response)
        # Werkzeug's test client reads the first block to see the status: that one only, not
        # the whole file before the first byte.
        first = next(body)
    assert len(first) == CHUNK_SIZE
    assert _chunk_reads(statements) == 1
    digest = hashlib.sha256(first)
    with counting() as statements:
        for block in body:
            digest.update(block)
    assert _chunk_reads(statements) == CHUNKS  # the rest, one row per chunk
    response.close()
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()


def test_storage_chunks_is_lazy(app):
    """storage.chunks reads nothing until asked, and a chunk per step."""
    stored = storage.store(io.BytesIO(b"x" * (3 * CHUNK_SIZE)), "application/pdf")
    db.session.flush()
    with counting() as statements:
        chunks = storage.chunks(stored.id)
    assert statements == []
    with counting() as statements:
        next(chunks)
    assert _chunk_reads(statements) == 1
    chunks.close()
