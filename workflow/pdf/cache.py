"""Rendered PDFs by content hash, in the database so every worker process shares them."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta
from enum import Enum

import sqlalchemy as sa

from workflow.database import writing
from workflow.extensions import db
from workflow.models import PdfCache
from workflow.models._types import utcnow

__all__ = ["content_key", "lookup", "prune", "store"]


def _plain(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not plain data for a PDF context: {type(value).__name__}")


def content_key(kind: str, template_digest: str, context: dict) -> str:
    """SHA-256 of everything a rendering depends on: the context, the templates, the renderer."""
    from workflow.pdf.weasy import import_weasyprint

    weasyprint_version = import_weasyprint().__version__

    payload = json.dumps(
        {
            "kind": kind,
            "templates": template_digest,
            "weasyprint": weasyprint_version,
            "context": context,
        },
        default=_plain,
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def lookup(key: str) -> bytes | None:
    """The cached PDF for *key*, if any process rendered it before."""
    return db.session.scalar(sa.select(PdfCache.content).where(PdfCache.key == key))


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


def prune(older_than: timedelta) -> int:
    """Delete cached PDFs made more than *older_than* ago; return how many (for a cron job)."""
    result = db.session.execute(
        sa.delete(PdfCache).where(PdfCache.created_at < utcnow() - older_than)
    )
    return result.rowcount
