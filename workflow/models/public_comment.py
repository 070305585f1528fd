"""パブリックコメント (意見公募手続, DOMAIN §5) and the opinions it received."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import enum_type
from workflow.models.item import Item
from workflow.schemas.limits import SUBMITTER_KIND_MAX
from workflow.states.states import Handling, PublicCommentStatus


class PublicComment(db.Model):
    __tablename__ = "public_comments"
    __table_args__ = (
        CheckConstraint("closes_on >= published_on", name="closes_after_publication"),
        CheckConstraint("version >= 1", name="version_positive"),
        # The public list pages through the procedures newest call first.
        Index("ix_public_comments_published_on_id", "published_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True)
    status: Mapped[PublicCommentStatus] = mapped_column(
        enum_type(PublicCommentStatus, "public_comment_status"), default=PublicCommentStatus.OPEN
    )
    published_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    how_to_submit: Mapped[str] = mapped_column(Text)
    # Why the period is shorter than 30 days (行政手続法 §40①); published with the draft.
    shortened_reason: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None] = mapped_column(Date)
    results_published_on: Mapped[date | None] = mapped_column(Date)
    # 案の修正内容とその理由 (§43①四).
    changes_made: Mapped[str] = mapped_column(Text, default="")
    abandoned_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    item: Mapped[Item] = relationship(
        backref=backref("comment_process", uselist=False, lazy="select")
    )
    opinions: Mapped[list[PublicCommentOpinion]] = relationship(
        order_by="PublicCommentOpinion.number",
        cascade="all, delete-orphan",
        back_populates="public_comment",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def submitter_count(self) -> int:
        return len({o.submitter_no for o in self.opinions})


class PublicCommentOpinion(db.Model):
    __tablename__ = "public_comment_opinions"
    __table_args__ = (
        UniqueConstraint("public_comment_id", "number", name="uq_pc_opinions_pc_number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("submitter_no >= 1", name="submitter_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_comment_id: Mapped[int] = mapped_column(ForeignKey("public_comments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # n in …/opinions/{n}
    # Opinions sent by one person or body share a submitter number (to count 提出者数).
    submitter_no: Mapped[int] = mapped_column(Integer, default=1)
    submitter_kind: Mapped[str] = mapped_column(
        String(SUBMITTER_KIND_MAX), default=""
    )  # 個人 / 団体 / 事業者
    summary: Mapped[str] = mapped_column(Text)
    city_view: Mapped[str] = mapped_column(Text, default="")  # 市の考え方
    handling: Mapped[Handling | None] = mapped_column(enum_type(Handling, "handling"))

    public_comment: Mapped[PublicComment] = relationship(back_populates="opinions")
