"""課: the sections that own items, with their 局/区 and 部."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db
from workflow.schemas.limits import NAME_MAX


class Section(db.Model):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    bureau: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    division: Mapped[str] = mapped_column(String(NAME_MAX), default="")

    def __repr__(self) -> str:
        return f"<Section {self.name}>"
