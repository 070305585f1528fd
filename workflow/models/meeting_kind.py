"""会議の種類: configuration, seeded with the five kinds of DOMAIN §2."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, String, false, select
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db
from workflow.schemas.limits import CODE_MAX

# (code, name, level, sort_order, review). The migrations seed the same rows; a test holds them
# equal. A review kind (DOMAIN §8) is passed on the way to the 上部庁議: it has no 審議日 slot on
# 様式２ and cannot be named as ``forward_to``.
DEFAULT_KINDS: tuple[tuple[str, str, int, int, bool], ...] = (
    ("section_managers", "関係課長会議", 1, 1, False),
    ("affairs_coordination", "事務事業調整会議", 2, 2, True),
    ("bureau_policy", "局・区政策会議", 2, 3, False),
    ("policy_coordination", "政策調整会議", 3, 4, False),
    ("policy_decision", "政策決定会議", 4, 5, False),
)


DEFAULT_DEADLINE_DAYS = 5


class MeetingKind(db.Model):
    __tablename__ = "meeting_kinds"
    __table_args__ = (
        CheckConstraint("level >= 1", name="level_positive"),
        CheckConstraint("deadline_days >= 0", name="deadline_days_not_negative"),
    )

    code: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    level: Mapped[int]
    sort_order: Mapped[int] = mapped_column(unique=True)
    # A review on the way (事務事業調整会議), not a rung of the ladder the 審議日 row prints.
    review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 申込締切: this many 開庁日 before the meeting (DOMAIN §11).
    deadline_days: Mapped[int] = mapped_column(default=DEFAULT_DEADLINE_DAYS, server_default="5")

    def __repr__(self) -> str:
        return f"<MeetingKind {self.code}>"


def seed_meeting_kinds() -> None:
    """Insert the default kinds that are missing (used by tests built with ``create_all``)."""
    have = set(db.session.scalars(select(MeetingKind.code)))
    for code, name, level, order, review in DEFAULT_KINDS:
        if code not in have:
            db.session.add(
                MeetingKind(code=code, name=name, level=level, sort_order=order, review=review)
            )
    db.session.flush()


def review_kinds() -> frozenset[str]:
    """The codes of the review kinds (事務事業調整会議 by default)."""
    return frozenset(db.session.scalars(select(MeetingKind.code).where(MeetingKind.review)))
