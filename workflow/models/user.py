"""Users, their server-side sign-in sessions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    String,
    bindparam,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from workflow.extensions import db
from workflow.models._types import UTCDateTime, enum_type, utcnow
from workflow.models.section import Section
from workflow.schemas.limits import EMAIL_MAX, TOKEN_NAME_MAX
from workflow.states.states import Role


def hash_token(token: str) -> str:
    """SHA-256 of a random bearer secret: enough for 256-bit tokens, and indexable."""
    return hashlib.sha256(token.encode()).hexdigest()


# The password hash of an account without a local password: not of werkzeug's form, so
# check_password_hash refuses every password at once.
NO_PASSWORD = "!"  # noqa: S105 (a marker, not a password)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role <> 'department' OR section_id IS NOT NULL", name="department_has_section"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(enum_type(Role, "user_role"))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where notices go (issue 19); None: in-app only.
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    # Set by an admin's password reset: the next sign-in must choose a new password first.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # A directory (LDAP) account: signs in by a bind, never by a local password.
    directory: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An admin's 「ロック解除」: sign-in failures before this moment no longer count.
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Notices by e-mail where there is an address (the default), or in the app only (issue 19).
    notify_by_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    section: Mapped[Section | None] = relationship(lazy="joined")

    # Set by the user loader to the server-side session the request runs in.
    current_session = None  # type: UserSession | None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def clear_password(self) -> None:
        """No local password: the account signs in through the directory, or not until an admin
        gives it one. A marker, not the hash of a random secret: a reshuffle creates users by
        the thousand, and hashing is deliberately slow."""
        self.password_hash = NO_PASSWORD

    @property
    def has_password(self) -> bool:
        """A local account whose password was set (werkzeug's hashes are ``method$salt$hash``);
        never a directory account, whose password is the directory's."""
        return not self.directory and not self.password_hash.startswith(NO_PASSWORD)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        """Flask-Login keeps this in the cookie: the session token, never the user id alone."""
        if self.current_session is None:
            raise RuntimeError("get_id() outside a server-side session")
        return self.current_session.token

    def __repr__(self) -> str:
        return f"<User {self.login} {self.role}>"


class UserSession(db.Model):
    """One sign-in. The cookie carries its random token; logout revokes the row."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Every request that finds its session needs the user (and the user's section): one query.
    user: Mapped[User] = relationship(lazy="joined")

    # The plain token exists only in the response that sets the cookie.
    token = ""

    @classmethod
    def start(cls, user: User) -> UserSession:
        token = secrets.token_urlsafe(32)
        row = cls(user=user, token_hash=hash_token(token))
        row.token = token
        return row

    @classmethod
    def by_token(cls, token: str) -> UserSession | None:
        return db.session.scalar(_SESSION_BY_HASH, {"token_hash": hash_token(token)})


# by_token's query, built once: it runs on every signed-in request, and composing it and its
# cache key each time would cost more than running it.
_SESSION_BY_HASH = select(UserSession).where(UserSession.token_hash == bindparam("token_hash"))


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What its owner calls it (「議事録取込スクリプト」), to tell tokens apart when revoking one.
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: never expires (only tokens made before expiry existed are backfilled with a date).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")  # every API request acts as it

    @classmethod
    def issue(cls, user: User) -> tuple[ApiToken, str]:
        """Create a token row for *user*; return it with the plain token (shown once)."""
        token = "chogi_" + secrets.token_urlsafe(32)
        return cls(user=user, token_hash=hash_token(token)), token

    @classmethod
    def lookup(cls, token: str) -> ApiToken | None:
        """The live token: not revoked, not expired (a token without an expiry never expires)."""
        return db.session.scalar(
            select(cls).where(
                cls.token_hash == hash_token(token),
                cls.revoked_at.is_(None),
                or_(cls.expires_at.is_(None), cls.expires_at > utcnow()),
            )
        )
