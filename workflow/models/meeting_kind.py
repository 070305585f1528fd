"""会議の種類: configuration, seeded with the five kinds of DOMAIN §2."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, select
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db
from workflow.schemas.limits import CODE_MAX

# (code, name, level, sort_order). The migration seeds the same rows; a test holds them equal.
DEFAULT_KINDS: tuple[tuple[str, str, int, int], ...] = (
    ("section_managers", "関係課長会議", 1, 1),
    ("affairs_coordination", "事務事業調整会議", 2, 2),
    ("bureau_policy", "局・区政策会議", 2, 3),
    ("policy_coordination", "政策調整会議", 3, 4),
    ("policy_decision", "政策決定会議", 4, 5),
)


class MeetingKind(db.Model):
    __tablename__ = "meeting_kinds"
    __table_args__ = (CheckConstraint("level >= 1", name="level_positive"),)

    code: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    level: Mapped[int]
    sort_order: Mapped[int] = mapped_column(unique=True)

    def __repr__(self) -> str:
        return f"<MeetingKind {self.code}>"


def seed_meeting_kinds() -> None:
    """Insert the default kinds that are missing (used by tests built with ``create_all``)."""
    have = set(db.session.scalars(select(MeetingKind.code)))
    for code, name, level, order in DEFAULT_KINDS:
        if code not in have:
            db.session.add(MeetingKind(code=code, name=name, level=level, sort_order=order))
    db.session.flush()
