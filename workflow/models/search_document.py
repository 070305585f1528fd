"""One searchable text of an item: a field as written, and folded for matching.

The rows are derived data: :mod:`workflow.search_index` rewrites an item's rows on every flush that
changes what they say, and the engine's own index (SQLite FTS5 ``trigram``, PostgreSQL
``pg_trgm``) sits on ``folded``.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db


class SearchDocument(db.Model):
    __tablename__ = "search_documents"
    __table_args__ = (
        # Also the index that finds an item's rows (item_id leads).
        UniqueConstraint("item_id", "position", name="uq_search_documents_item_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    # Order within the item: the first hit by position is the one a snippet shows.
    position: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(32))  # title, summary, opinions … (SEARCH_FIELDS)
    # Set for what was said at a meeting (opinions, 特記事項): readable only with its minutes.
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)  # as written, for the snippet
    folded: Mapped[str] = mapped_column(Text)  # NFKC + casefold: what a query matches

    def __repr__(self) -> str:
        return f"<SearchDocument item={self.item_id} {self.field}#{self.position}>"
