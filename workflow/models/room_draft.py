"""A draft of one agenda entry in the meeting room: what a secretary typed and has not saved.

Saved by the room page as they type (no event, no history, and it does not extend the sign-in),
restored when they open the entry again, deleted when the entry is saved or they discard it. One
per entry and user: a draft is shown only to the one who typed it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow


class RoomDraft(db.Model):
    __tablename__ = "room_drafts"
    __table_args__ = (UniqueConstraint("entry_id", "user_id", name="uq_room_drafts_entry_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("agenda_entries.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # {"fields": [[name, value], …] as the room's form posts them, "base": the fingerprint of the
    # entry's record the form was opened on (workflow.services.room_drafts)}.
    data: Mapped[dict] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<RoomDraft entry={self.entry_id} user={self.user_id} {self.saved_at}>"
