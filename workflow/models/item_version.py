"""A version of an item's 様式２ as it was saved (DOMAIN §9).

Version 1 is the form as first submitted; each later saved change is n + 1. ``fields`` holds the
whole field set in the API's keys (:func:`workflow.queries.versions.form_fields`), so a version
reads back exactly as ``GET /api/v1/items/{id}`` showed it then. Versions are never changed.
``number`` is not the item's ``version`` column, which stays the optimistic-concurrency token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow
from workflow.models.user import User


class ItemVersion(db.Model):
    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("item_id", "number", name="uq_item_versions_item_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    fields: Mapped[dict] = mapped_column(JSON)

    created_by: Mapped[User | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<ItemVersion item={self.item_id} #{self.number}>"
