"""案件: an agenda request with every field of 様式２ (DOMAIN §3) and its place in the workflow."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, enum_type, utcnow
from workflow.models.meeting_kind import MeetingKind
from workflow.models.section import Section
from workflow.schemas.limits import CODE_MAX, LINE_MAX, NAME_MAX, POLICY_REF_MAX, TITLE_MAX
from workflow.states.states import (
    CoordinationStatus,
    CouncilChannel,
    ItemStatus,
    OrdinanceChange,
    OrdinanceKind,
    PressRelease,
    SubmissionLabel,
)

# The route the new request page pre-fills (the API fills none: a request names its route).
DEFAULT_ROUTE = ("section_managers", "policy_coordination")


def _ordered(target: str):
    """A one-to-many list that keeps its order in a ``position`` column."""
    return relationship(
        target,
        order_by=f"{target}.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        back_populates="item",
    )


class Item(db.Model):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(
            "status NOT IN ('accepted', 'scheduled') OR level_kind IS NOT NULL",
            name="awaiting_has_kind",
        ),
        CheckConstraint(
            "ordinance_kind <> 'none' OR ordinance_change IS NULL", name="no_change_without_kind"
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_items_status_level_kind", "status", "level_kind"),
        # Lists show the most recently updated first (items page, API), a page at a time.
        Index("ix_items_updated_at_id", "updated_at", "id"),
        # ... and those of one state in that order (the secretariat's intake, the list's filter).
        Index("ix_items_status_updated_at_id", "status", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # -- 様式２, front side ---------------------------------------------------------------------
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    applied_on: Mapped[date | None] = mapped_column(Date)
    target_kind: Mapped[str | None] = mapped_column(ForeignKey("meeting_kinds.code"))
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    bureau: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    division: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    contact: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    extension: Mapped[str] = mapped_column(String(CODE_MAX), default="")
    policy_ref: Mapped[str] = mapped_column(String(POLICY_REF_MAX), default="")
    in_implementation_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="")
    public_comment_planned: Mapped[bool] = mapped_column(Boolean, default=False)
    public_comment_period_text: Mapped[str] = mapped_column(String(LINE_MAX), default="")
    press_release: Mapped[PressRelease] = mapped_column(
        enum_type(PressRelease, "press_release"), default=PressRelease.NONE
    )
    council_channel: Mapped[CouncilChannel] = mapped_column(
        enum_type(CouncilChannel, "council_channel"), default=CouncilChannel.NONE
    )
    council_timing: Mapped[str] = mapped_column(String(LINE_MAX), default="")
    # 議会への情報提供 at a 定例会議: printed 「〈timing〉定例会議」.
    council_regular_session: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    ordinance_kind: Mapped[OrdinanceKind] = mapped_column(
        enum_type(OrdinanceKind, "ordinance_kind"), default=OrdinanceKind.NONE
    )
    ordinance_change: Mapped[OrdinanceChange | None] = mapped_column(
        enum_type(OrdinanceChange, "ordinance_change")
    )
    ordinance_council_submission: Mapped[str] = mapped_column(String(LINE_MAX), default="")
    ordinance_submission_label: Mapped[SubmissionLabel] = mapped_column(
        enum_type(SubmissionLabel, "submission_label"),
        default=SubmissionLabel.PROPOSAL,
        server_default=SubmissionLabel.PROPOSAL.value,
    )
    advisory_body: Mapped[bool] = mapped_column(Boolean, default=False)
    personal_info_use: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_notes: Mapped[str] = mapped_column(Text, default="")
    remarks: Mapped[str] = mapped_column(Text, default="")
    # -- workflow ---------------------------------------------------------------------------
    status: Mapped[ItemStatus] = mapped_column(
        enum_type(ItemStatus, "item_status"), default=ItemStatus.DRAFT, index=True
    )
    # The meeting kind the item awaits (accepted) or is scheduled for (scheduled).
    level_kind: Mapped[str | None] = mapped_column(ForeignKey("meeting_kinds.code"))
    # 締切後 (DOMAIN §11): the last submission came after the 申込締切 of the meeting it waits for.
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    section: Mapped[Section] = relationship(lazy="joined")
    target: Mapped[MeetingKind | None] = relationship(foreign_keys=[target_kind])
    awaited: Mapped[MeetingKind | None] = relationship(foreign_keys=[level_kind])
    discussion_points: Mapped[list[ItemDiscussionPoint]] = _ordered("ItemDiscussionPoint")
    history_rows: Mapped[list[ItemHistoryRow]] = _ordered("ItemHistoryRow")
    coordination: Mapped[list[ItemCoordination]] = _ordered("ItemCoordination")
    details: Mapped[list[ItemDetail]] = _ordered("ItemDetail")
    route_steps: Mapped[list[ItemRouteStep]] = _ordered("ItemRouteStep")
    opinion_notes: Mapped[list[ItemOpinionNote]] = _ordered("ItemOpinionNote")

    __mapper_args__ = {"version_id_col": version}

    @property
    def route(self) -> list[str]:
        """The planned meeting kinds, in order."""
        return [step.kind for step in self.route_steps]

    def __repr__(self) -> str:
        return f"<Item {self.id} {self.status}>"


class _ItemPart:
    """Columns every ordered part of an item shares."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class ItemDiscussionPoint(_ItemPart, db.Model):
    """審議内容（論点）: one ○ line."""

    __tablename__ = "item_discussion_points"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    item: Mapped[Item] = relationship(back_populates="discussion_points")


class ItemHistoryRow(_ItemPart, db.Model):
    """検討経過等 / 打合せ・会議の経過: one row as typed (``when`` is free text, 「R1.7.5・7.29」)."""

    __tablename__ = "item_history_rows"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    when: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    meeting: Mapped[str] = mapped_column(String(LINE_MAX), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    remarks: Mapped[str] = mapped_column(Text, default="", server_default="")  # 備考
    item: Mapped[Item] = relationship(back_populates="history_rows")


class ItemCoordination(_ItemPart, db.Model):
    """関係部局との調整: one department and how far it is."""

    __tablename__ = "item_coordination"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    department: Mapped[str] = mapped_column(String(NAME_MAX))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CoordinationStatus] = mapped_column(
        enum_type(CoordinationStatus, "coordination_status"), default=CoordinationStatus.NOT_STARTED
    )
    item: Mapped[Item] = relationship(back_populates="coordination")


class ItemDetail(_ItemPart, db.Model):
    """事案の具体的な内容: one section of the back side, heading and body as typed."""

    __tablename__ = "item_details"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    heading: Mapped[str] = mapped_column(String(LINE_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    item: Mapped[Item] = relationship(back_populates="details")


class ItemRouteStep(_ItemPart, db.Model):
    """One planned meeting kind on the item's route."""

    __tablename__ = "item_route_steps"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(ForeignKey("meeting_kinds.code"))
    item: Mapped[Item] = relationship(back_populates="route_steps")


class ItemOpinionNote(_ItemPart, db.Model):
    """The department's follow-up under an earlier meeting's opinion (「（→…へ変更）」, DOMAIN §9).

    Part of the form the department writes, so it is kept in each version; the secretariat's own
    ``Opinion.follow_up`` is printed as well.
    """

    __tablename__ = "item_opinion_notes"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinions.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    item: Mapped[Item] = relationship(back_populates="opinion_notes")
