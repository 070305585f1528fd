"""Rendered PDFs by content hash, in the database so every worker process shares them.

A row never goes stale (its key hashes all that the document prints), it only stops being asked
for; ``flask prune`` (workflow.maintenance) deletes the rows no download has read for
``PDF_CACHE_RETENTION_DAYS``, so each hit notes when it happened, to a day. ``flask pdf-cache
clear`` (:func:`clear`) deletes them all, for a change the key cannot see (a font package
updated in place).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from datetime import date, datetime, time, timedelta
from enum import Enum

import sqlalchemy as sa
from flask import has_request_context, request

from workflow.database import SAFE_METHODS, writing
from workflow.extensions import db
from workflow.models import PdfCache
from workflow.models._types import utcnow
from workflow.pdf.render import PDF_VARIANT

__all__ = ["TOUCH_EVERY", "clear", "content_key", "lookup", "store"]

# A hit notes its use at most this often: a write on every download would give each one a commit
# (on SQLite, a turn at the one write lock); the retention counts in days anyway.
TOUCH_EVERY = timedelta(days=1)


def _plain(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not plain data for a PDF context: {type(value).__name__}")


@functools.cache
def _weasyprint_version() -> str:
    """The installed WeasyPrint's version, from its metadata: a worker that only serves cached
    PDFs never imports WeasyPrint itself (half a second of its first download)."""
    return importlib.metadata.version("weasyprint")


def content_key(kind: str, template_digest: str, context: dict) -> str:
    """SHA-256 of everything a rendering depends on: the context, the templates, the renderer.

    The renderer is WeasyPrint's version and the PDF variant asked of it: a PDF cached before
    the documents were tagged PDF/A is never served as one.
    """
    weasyprint_version = _weasyprint_version()

    payload = json.dumps(
        {
            "kind": kind,
            "templates": template_digest,
            "weasyprint": weasyprint_version,
            "variant": PDF_VARIANT,
            "context": context,
        },
        default=_plain,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def lookup(key: str) -> bytes | None:
    """The cached PDF for *key*, if any process rendered it before; a hit notes its use (daily)."""
    row = db.session.execute(
        sa.select(PdfCache.content, PdfCache.last_used_at).where(PdfCache.key == key)
    ).first()
    if row is None:
        return None
    if utcnow() - row.last_used_at > TOUCH_EVERY:
        _note_use(key)
    return row.content


def _note_use(key: str) -> None:
    """Set the row's last use to now.

    In a download (a GET) it is committed at once, as a signed-in session's last-seen time is
    (workflow.auth): such a request has nothing else to commit, and the pages commit only a fresh
    rendering, so a hit's note would otherwise be rolled back with the request. Elsewhere (a
    command, a test) it rides on the caller's transaction, as :func:`store` does. ``writing()``
    first, as for the insert; the condition on the old value makes two downloads at once write
    once.
    """
    writing()
    now = utcnow()
    db.session.execute(
        sa.update(PdfCache)
        .where(PdfCache.key == key, PdfCache.last_used_at < now - TOUCH_EVERY)
        .values(last_used_at=now)
    )
    if has_request_context() and request.method in SAFE_METHODS:
        db.session.commit()


def store(key: str, kind: str, content: bytes) -> None:
    """Add the PDF to the request's session (kept when the caller commits).

    A savepoint makes a concurrent insert of the same key harmless: both renderings are
    identical, so whichever row won is the right one. The write rides on the caller's
    transaction rather than its own connection because SQLite takes its write lock when a
    transaction begins (workflow.database): a second connection would wait for the first.
    A download (a GET) reads deferred on SQLite: ``writing()`` ends that read before the insert.
    """
    writing()
    try:
        with db.session.begin_nested():
            db.session.add(PdfCache(key=key, kind=kind, content=content))
    except sa.exc.IntegrityError:
        pass  # the same bytes are already there


def clear() -> int:
    """Delete every cached PDF, in the caller's transaction; return how many rows went.

    Nothing is lost: each document is rendered again, to the same bytes, on its next download.
    """
    writing()
    statement = sa.delete(PdfCache).execution_options(synchronize_session=False)
    return db.session.execute(statement).rowcount
