"""会議: one sitting of a meeting kind, with its ordered agenda."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, enum_type, utcnow
from workflow.models.meeting_kind import MeetingKind
from workflow.schemas.limits import LINE_MAX, NAME_MAX
from workflow.states.states import MeetingStatus
from workflow.wareki import to_fullwidth_digits


def joint_kind_name(joint_name: str | None, kind_name: str) -> str:
    """A kind's name with the joint body, if any: 「ＩＣＴ戦略調整会議兼関係課長会議」."""
    return f"{joint_name}兼{kind_name}" if joint_name else kind_name


def meeting_title(number: int, joint_name: str | None, kind_name: str) -> str:
    """「第５回 政策調整会議」, from a meeting's columns (for rows read without the model)."""
    return f"第{to_fullwidth_digits(str(number))}回 {joint_kind_name(joint_name, kind_name)}"


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("kind", "fiscal_year", "number", name="uq_meetings_kind_fy_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(ForeignKey("meeting_kinds.code"), index=True)
    # A meeting held together with another body: 「ＩＣＴ戦略調整会議」 in 「…兼関係課長会議」.
    joint_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    number: Mapped[int] = mapped_column(Integer)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    venue: Mapped[str] = mapped_column(String(LINE_MAX), default="")
    chair: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    status: Mapped[MeetingStatus] = mapped_column(
        enum_type(MeetingStatus, "meeting_status"), default=MeetingStatus.PLANNED, index=True
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    kind_row: Mapped[MeetingKind] = relationship(lazy="joined")
    entries: Mapped[list[AgendaEntry]] = relationship(  # noqa: F821 (defined in agenda_entry)
        "AgendaEntry",
        order_by="AgendaEntry.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        back_populates="meeting",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_name(self) -> str:
        """The name printed for the kind, with the joint body: 「ＩＣＴ戦略調整会議兼関係課長会議」."""
        return joint_kind_name(self.joint_name, self.kind_row.name)

    @property
    def title(self) -> str:
        """「第５回 政策調整会議」."""
        return meeting_title(self.number, self.joint_name, self.kind_row.name)

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.kind} #{self.number} {self.status}>"
