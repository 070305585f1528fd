"""会議: one sitting of a meeting kind, with its ordered agenda."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, enum_type, utcnow
from workflow.models.meeting_kind import MeetingKind
from workflow.schemas.limits import LINE_MAX, NAME_MAX
from workflow.states.states import MeetingStatus
from workflow.wareki import to_fullwidth_digits


def joint_kind_name(joint_name: str | None, kind_name: str, second_name: str | None = None) -> str:
    """A kind's name with the joint body and the second 庁議 kind, if any (DOMAIN §2, §8):
    「ＩＣＴ戦略調整会議兼関係課長会議」, 「関係課長会議兼事務事業調整会議」."""
    name = f"{kind_name}兼{second_name}" if second_name else kind_name
    return f"{joint_name}兼{name}" if joint_name else name


def meeting_title(
    number: int, joint_name: str | None, kind_name: str, second_name: str | None = None
) -> str:
    """「第５回 政策調整会議」, from a meeting's columns (for rows read without the model)."""
    name = joint_kind_name(joint_name, kind_name, second_name)
    return f"第{to_fullwidth_digits(str(number))}回 {name}"


class Meeting(db.Model):
    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("kind", "fiscal_year", "number", name="uq_meetings_kind_fy_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("second_kind IS NULL OR second_kind <> kind", name="second_kind_differs"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(ForeignKey("meeting_kinds.code"), index=True)
    # A meeting held together with another body: 「ＩＣＴ戦略調整会議」 in 「…兼関係課長会議」.
    joint_name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    # A second 庁議 kind sitting together (関係課長会議兼事務事業調整会議): numbered by ``kind``'s
    # counter; an item on the agenda counts as having passed both (DOMAIN §8).
    second_kind: Mapped[str | None] = mapped_column(ForeignKey("meeting_kinds.code"))
    number: Mapped[int] = mapped_column(Integer)
    # Given by hand (第N回 typed): kept, like a held meeting's; others follow the date order.
    number_fixed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    venue: Mapped[str] = mapped_column(String(LINE_MAX), default="")
    chair: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    # An admin's 申込締切 for this one meeting, instead of its kind's N 開庁日 (DOMAIN §11).
    deadline_override: Mapped[date | None] = mapped_column(Date)
    status: Mapped[MeetingStatus] = mapped_column(
        enum_type(MeetingStatus, "meeting_status"), default=MeetingStatus.PLANNED, index=True
    )
    # 中止 (DOMAIN §2): why and when a planned meeting was called off.
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    kind_row: Mapped[MeetingKind] = relationship(lazy="joined", foreign_keys=[kind])
    second_kind_row: Mapped[MeetingKind | None] = relationship(
        lazy="joined", foreign_keys=[second_kind]
    )
    entries: Mapped[list[AgendaEntry]] = relationship(  # noqa: F821 (defined in agenda_entry)
        "AgendaEntry",
        order_by="AgendaEntry.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        back_populates="meeting",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def kinds(self) -> tuple[str, ...]:
        """The 庁議 kinds this meeting sits as: its kind, and the second kind if any."""
        return (self.kind, self.second_kind) if self.second_kind else (self.kind,)

    @property
    def second_name(self) -> str | None:
        return self.second_kind_row.name if self.second_kind_row else None

    @property
    def kinds_name(self) -> str:
        """The 庁議 kinds without an outside body: 「関係課長会議兼事務事業調整会議」 (【会議名】 of 様式２)."""
        return joint_kind_name(None, self.kind_row.name, self.second_name)

    @property
    def kind_name(self) -> str:
        """The name printed for the kind, with the joint body: 「ＩＣＴ戦略調整会議兼関係課長会議」."""
        return joint_kind_name(self.joint_name, self.kind_row.name, self.second_name)

    @property
    def title(self) -> str:
        """「第５回 政策調整会議」, 「第２回 関係課長会議兼事務事業調整会議」."""
        return meeting_title(self.number, self.joint_name, self.kind_row.name, self.second_name)

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.kind} #{self.number} {self.status}>"
