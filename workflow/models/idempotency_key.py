"""Idempotency keys of the API's writes: the first answer, kept for a retry (workflow.api.idempotency)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow

KEY_MAX = 255  # as Stripe's API and the IETF draft's examples allow
# How long an answer is kept for a retry (as Stripe); `flask prune` deletes older ones.
KEEP = timedelta(hours=24)


class IdempotencyKey(db.Model):
    """A user's ``Idempotency-Key``, what the request was (its fingerprint) and its 2xx answer.

    Written in the same transaction as the change the request made, so a committed change always
    has its answer here and a rolled-back one never does.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    # SHA-256 (hex) of the method, the path and the body: "the same request".
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<IdempotencyKey user={self.user_id} {self.key!r} → {self.status}>"
