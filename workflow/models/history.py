"""The append-only history of every workflow event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow
from workflow.models.user import User


class HistoryEvent(db.Model):
    __tablename__ = "history_events"
    __table_args__ = (
        CheckConstraint("item_id IS NOT NULL OR meeting_id IS NOT NULL", name="has_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship(lazy="joined")


@event.listens_for(HistoryEvent, "before_update")
@event.listens_for(HistoryEvent, "before_delete")
def _refuse_change(_mapper, _connection, target: HistoryEvent) -> None:
    raise RuntimeError(f"history is append-only (row {target.id})")
