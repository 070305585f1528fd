"""資料 (DOMAIN §10): files attached to an item or a meeting, stored in the database.

- ``StoredFile`` is one uploaded content, never changed: its SHA-256, size, sniffed media type,
  and its PDF edition (an Office file's conversion by `flask worker`, a PDF itself). The bytes
  live in ``FileChunk`` rows of at most ``CHUNK_SIZE`` each, so a download streams them one at a
  time (memory stays flat) and every app server, `flask backup` and `flask restore` see the same
  files.
- ``Attachment`` is a 資料 as its owner sees it now: title, file name, ``public``, position, and
  the current ``StoredFile``. Replacing the file points it at a new one.
- ``EntryAttachment`` is the list of 資料 frozen with an agenda entry's 様式２ (DOMAIN §9): what
  the meeting deliberated, kept when the department later replaces or removes a file.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, enum_type, utcnow
from workflow.models.user import User
from workflow.schemas.limits import LINE_MAX
from workflow.states.states import PdfStatus

CHUNK_SIZE = 1024 * 1024  # bytes per FileChunk row: one row in memory at a time while streaming
FILENAME_MAX = 255  # bytes of a file name on common file systems; we count characters


class StoredFile(db.Model):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The PDF edition: the file itself for a PDF, a converted copy for Office files and images.
    pdf_status: Mapped[PdfStatus] = mapped_column(
        enum_type(PdfStatus, "pdf_status"), default=PdfStatus.NONE
    )
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    pages: Mapped[int | None] = mapped_column(Integer)
    pdf_error: Mapped[str] = mapped_column(Text, default="")  # why the conversion failed (staff)

    pdf_file: Mapped[StoredFile | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.media_type} {self.size} bytes {self.pdf_status}>"


class FileChunk(db.Model):
    __tablename__ = "file_chunks"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Attachment(db.Model):
    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("(item_id IS NULL) <> (meeting_id IS NULL)", name="item_or_meeting"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 資料１ is position 0
    title: Mapped[str] = mapped_column(String(LINE_MAX))
    filename: Mapped[str] = mapped_column(String(FILENAME_MAX))
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    # Removed by its owner: kept (without a position) while a frozen entry still lists it.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    file: Mapped[StoredFile] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        owner = f"item={self.item_id}" if self.item_id else f"meeting={self.meeting_id}"
        return f"<Attachment {self.id} {owner} #{self.position} {self.title!r}>"


class EntryAttachment(db.Model):
    """One 資料 of an agenda entry's frozen 様式２, as it stood when frozen (or 差替え since)."""

    __tablename__ = "entry_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_entries.id", ondelete="CASCADE"), index=True
    )
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(LINE_MAX))
    filename: Mapped[str] = mapped_column(String(FILENAME_MAX))
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))

    file: Mapped[StoredFile] = relationship(lazy="joined")
    attachment: Mapped[Attachment] = relationship()
