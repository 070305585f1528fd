"""課: the sections that own items, with their 局/区 and 部."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db
from workflow.models._types import UTCDateTime
from workflow.schemas.limits import NAME_MAX


class Section(db.Model):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    bureau: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    division: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    # 廃止: keeps its items and users' history, files no new request. A merged section is
    # retired too and names the section it joined.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))

    def __repr__(self) -> str:
        return f"<Section {self.name}>"
