"""Sign-in attempts: the sign-in log, and the counter the sign-in limits read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow

LOGIN_MAX = 64  # as wide as users.login: a longer login ID cannot exist
ADDRESS_MAX = 64  # an IPv6 address with a zone id fits
DEVICE_MAX = 64


class LoginAttempt(db.Model):
    """One press of 「ログイン」: who it claimed to be, from where, when, and whether it worked.

    Kept in the database, not in a worker's memory, so that every worker and every app server
    counts the same attempts (see :mod:`workflow.auth`).
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_login_at", "login", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
        Index("ix_login_attempts_device_at", "device", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(LOGIN_MAX))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    # Answered 429 without checking the password: logged, never counted as a failure.
    refused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The device cookie's id when the browser carried a valid one for this login
    # (OWASP "device cookies"): such attempts are counted per device, not per account.
    device: Mapped[str | None] = mapped_column(String(DEVICE_MAX))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LoginAttempt {self.login!r} {self.address} {'ok' if self.success else 'failed'}>"
