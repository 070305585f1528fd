"""Rendered PDFs, kept by a hash of what they print, shared by every process of the app."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow


class PdfCache(db.Model):
    """One rendered document. ``key`` hashes its whole rendering context, so a row never goes
    stale: a change to the meeting or item gives a new key (the old row is merely unused)."""

    __tablename__ = "pdf_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256, hex
    kind: Mapped[str] = mapped_column(String(20))  # minutes, agenda, request_form …
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a download last read the row, to a day (workflow.pdf.cache.TOUCH_EVERY); indexed so
    # that rows nobody reads any more can be pruned (workflow.maintenance).
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<PdfCache {self.kind} {self.key[:12]} {len(self.content)} bytes>"
