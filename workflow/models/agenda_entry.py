"""An item on a meeting's agenda, and what was said and decided about it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, enum_type
from workflow.models.item import Item
from workflow.models.meeting import Meeting
from workflow.models.meeting_kind import MeetingKind
from workflow.schemas.limits import NAME_MAX
from workflow.states.states import Disclosure, Outcome


class AgendaEntry(db.Model):
    __tablename__ = "agenda_entries"
    __table_args__ = (
        UniqueConstraint("meeting_id", "item_id", name="uq_agenda_entries_meeting_item"),
        CheckConstraint(
            "forward_to IS NULL OR outcome = 'forwarded'", name="forward_only_when_fwd"
        ),
        CheckConstraint(
            "outcome IS NULL OR outcome <> 'forwarded' OR forward_to IS NOT NULL",
            name="forwarded_names_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    presenter: Mapped[str] = mapped_column(String(NAME_MAX), default="")  # a job title: 企画部長
    # The owning section's name when the item was scheduled: the 次第 and the meeting's pages
    # print it, so a later rename or merge of the section does not rewrite this meeting's record.
    section_name: Mapped[str] = mapped_column(String(NAME_MAX), default="", server_default="")
    special_notes: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[Outcome | None] = mapped_column(enum_type(Outcome, "outcome"))
    forward_to: Mapped[str | None] = mapped_column(ForeignKey("meeting_kinds.code"))
    outcome_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The 様式２ filed for this meeting (DOMAIN §9): the item's version frozen when it was
    # scheduled, and what the system filled in then (審議日, 主な意見, 出席課, 結果等), so the form
    # of this meeting prints the same after any later edit. None for entries made before §9.
    form_version_id: Mapped[int | None] = mapped_column(ForeignKey("item_versions.id"))
    frozen_parts: Mapped[dict | None] = mapped_column(JSON)
    # 公開 / 一部非公開 / 非公開 (DOMAIN §10) and why (the article of the 情報公開条例): set until
    # the meeting is published, changed after only through 公開取消.
    disclosure: Mapped[Disclosure] = mapped_column(
        enum_type(Disclosure, "disclosure"), default=Disclosure.PUBLIC, server_default="public"
    )
    disclosure_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    meeting: Mapped[Meeting] = relationship(back_populates="entries")
    item: Mapped[Item] = relationship(lazy="joined")
    forward_kind: Mapped[MeetingKind | None] = relationship()
    opinions: Mapped[list[Opinion]] = relationship(
        order_by="Opinion.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        back_populates="entry",
    )
    attendance: Mapped[list[Attendance]] = relationship(
        order_by="Attendance.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
        back_populates="entry",
    )

    form_version: Mapped[ItemVersion | None] = relationship()  # noqa: F821 (item_version)
    # The 資料 of the frozen 様式２ (workflow.models.attachment).
    attachments: Mapped[list[EntryAttachment]] = relationship(  # noqa: F821
        "EntryAttachment",
        order_by="EntryAttachment.position",
        cascade="all, delete-orphan",
    )

    @property
    def outcome_text(self) -> str | None:
        """The result as 様式６ prints it: 「原案を上部庁議へ付議する（政策調整会議）」."""
        if self.outcome is None:
            return None
        return self.outcome.wording(self.forward_kind.name if self.forward_kind else None)

    @property
    def screen_outcome_text(self) -> str | None:
        """The result on a screen (lists, badges): 「原案のとおり承認する」, no 「。」."""
        if self.outcome is None:
            return None
        return self.outcome.screen_wording(self.forward_kind.name if self.forward_kind else None)

    @property
    def form_outcome_text(self) -> str | None:
        """The result as the 様式２ 結果等 box prints it: 「原案を上部庁議へ付議する。（政策調整会議）」."""
        if self.outcome is None:
            return None
        return self.outcome.form_wording(self.forward_kind.name if self.forward_kind else None)


class Opinion(db.Model):
    """主な意見等: ○ opinion, → response (optional), （→ follow-up） (optional)."""

    __tablename__ = "opinions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_entries.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    opinion: Mapped[str] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    # False: held back from the public whatever the entry's label (workflow.permissions); the
    # public edition of the minutes prints 「（一部非公開）」 where it was (DOMAIN §10).
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    entry: Mapped[AgendaEntry] = relationship(back_populates="opinions")


class Attendance(db.Model):
    """関係課長会議の出席課・機関等: one section present, 「（代）」 when a deputy came."""

    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_entries.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    section_name: Mapped[str] = mapped_column(String(NAME_MAX))
    deputy: Mapped[bool] = mapped_column(Boolean, default=False)
    # False: invited but absent, printed □ on 様式２ (■ for those present).
    present: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    entry: Mapped[AgendaEntry] = relationship(back_populates="attendance")
