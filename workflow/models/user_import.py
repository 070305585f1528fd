"""An April reshuffle file (``flask user import`` / the admin page), kept from preview to apply.

The file is checked and previewed when it is uploaded (in March, say) and applied later (on
4月1日): ``plan`` is the preview the admin saw. Applying checks the file again against the
users and sections as they are then, and refuses if what it would do is no longer that plan.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow
from workflow.models.user import User


class UserImport(db.Model):
    __tablename__ = "user_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    # The file decoded (cp932 or UTF-8, BOM dropped): what was previewed, and what is applied.
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))  # of the bytes as uploaded
    plan: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    applied_by: Mapped[User | None] = relationship(foreign_keys=[applied_by_id])

    def __repr__(self) -> str:
        return f"<UserImport {self.id} {self.filename}>"
