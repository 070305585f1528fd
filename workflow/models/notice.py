"""Notices (DOMAIN §11): what happened that a user must act on or wait for, in the app and, where
the user chose it, by e-mail.

A notice is written in the same transaction as the change that causes it, and so is the job that
mails it (workflow.jobs): the notices table is the outbox. ``mail_status`` follows the mail:
``none`` (in-app only), ``pending`` (a job will hand it to the mail server), ``sent`` (the server
accepted it at ``mailed_at``), ``failed`` (given up after the job's last attempt).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow
from workflow.models.user import User

MAIL_NONE = "none"
MAIL_PENDING = "pending"
MAIL_SENT = "sent"
MAIL_FAILED = "failed"


class Notice(db.Model):
    __tablename__ = "notices"
    __table_args__ = (
        # A reminder of `flask notify` is made once per user however often cron runs it.
        UniqueConstraint("user_id", "dedupe_key", name="uq_notices_user_dedupe_key"),
        Index("ix_notices_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))  # the history event or reminder: "return", …
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))  # one line: the mail's subject
    body: Mapped[str] = mapped_column(Text, default="")  # what the reader must know, in full
    url: Mapped[str] = mapped_column(String(500), default="")  # a path in the app: "/items/3"
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_status: Mapped[str] = mapped_column(String(10), default=MAIL_NONE)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Notice {self.id} {self.kind} user={self.user_id} mail={self.mail_status}>"


class ClosedDay(db.Model):
    """A 閉庁日 the admin added (a city's own holiday), besides weekends, 祝日 and 12/29–1/3."""

    __tablename__ = "closed_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ClosedDay {self.day} {self.name}>"
