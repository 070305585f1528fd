"""What the admin's screens read: users by text and role, sections with what they joined, API
tokens, and the admin changes of the history chain (``admin.*`` rows)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from workflow.extensions import db
from workflow.models import ApiToken, HistoryEvent, MeetingKind, Section, User
from workflow.models._types import utcnow
from workflow.services.admin import token_state
from workflow.services.audit_log import EVENT_PREFIX
from workflow.states.states import Role

RECENT_ROWS = 20  # admin changes shown on a user's page


def _like(text: str) -> str:
    """*text* as a LIKE pattern that matches it literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def users(text: str = "", role: Role | None = None) -> Select:
    """Users whose login ID, 表示名, e-mail or 課 contain *text*, of *role* where given, by login
    ID; the caller cuts the page."""
    query = select(User).outerjoin(User.section).order_by(User.login)
    if text:
        pattern = _like(text.casefold())
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (User.login, User.display_name, User.email, Section.name)
                )
            )
        )
    if role is not None:
        query = query.where(User.role == role)
    return query


def active_sections() -> list[Section]:
    """The sections a user or a request may be given: not retired, by name."""
    return list(
        db.session.scalars(
            select(Section).where(Section.retired_at.is_(None)).order_by(Section.name)
        )
    )


@dataclass(frozen=True)
class SectionRow:
    section: Section
    merged_into: Section | None
    users: int


def sections() -> list[SectionRow]:
    """Every section by 局・区, 部 and name, with the section it joined and its user count."""
    into = aliased(Section)
    user_count = (
        select(func.count())
        .where(User.section_id == Section.id)
        .correlate(Section)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Section, into, user_count)
        .outerjoin(into, Section.merged_into_id == into.id)
        .order_by(Section.retired_at.is_not(None), Section.bureau, Section.division, Section.name)
    )
    return [SectionRow(*row) for row in rows]


def meeting_kinds() -> list[MeetingKind]:
    return list(db.session.scalars(select(MeetingKind).order_by(MeetingKind.sort_order)))


TOKEN_STATES = {"active": "有効", "expired": "期限切れ", "revoked": "失効"}


@dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    state: str  # workflow.services.admin.token_state: active, expired or revoked

    @property
    def live(self) -> bool:
        return self.state == "active"

    @property
    def state_label(self) -> str:
        return TOKEN_STATES[self.state]


def tokens(user: User) -> list[TokenRow]:
    """*user*'s API tokens, newest first, each with its state."""
    now = utcnow()
    rows = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    )
    return [TokenRow(t, token_state(t, now)) for t in rows]


def password_stamp(user: User) -> str:
    """A short digest of *user*'s current password hash (keyed by the app's secret, so the page
    reveals nothing of the hash): a reset form carries it and is refused once the password has
    changed, so reloading the result page does not reset it again."""
    key = str(current_app.secret_key or "").encode()
    return hmac.new(key, (user.password_hash or "").encode(), hashlib.sha256).hexdigest()[:16]


def newest_token_id(user: User) -> int:
    """The id of *user*'s newest API token, 0 for none: the issue form carries it and is refused
    once another token was issued, so reloading the result page issues no second token."""
    return db.session.scalar(select(func.max(ApiToken.id)).where(ApiToken.user_id == user.id)) or 0


def audit_rows() -> Select:
    """The admin changes, newest first; the caller cuts the page."""
    return (
        select(HistoryEvent)
        .where(HistoryEvent.event.startswith(EVENT_PREFIX, autoescape=True))
        .order_by(HistoryEvent.id.desc())
    )


def _subject_is(subject_type: str, subject_id: int | str) -> ColumnElement[bool]:
    params = HistoryEvent.params
    id_ = params[("subject", "id")]
    return and_(
        params[("subject", "type")].as_string() == subject_type,
        id_.as_integer() == subject_id
        if isinstance(subject_id, int)
        else id_.as_string() == subject_id,
    )


def subject_audit_rows(
    subject_type: str, subject_id: int | str, limit: int = RECENT_ROWS
) -> list[HistoryEvent]:
    """The latest admin changes whose subject (``params.subject``) is this row."""
    return list(
        db.session.scalars(audit_rows().where(_subject_is(subject_type, subject_id)).limit(limit))
    )


def user_audit_rows(user: User, limit: int = RECENT_ROWS) -> list[HistoryEvent]:
    """The latest admin changes of *user*: to the account, and to its API tokens (a token's row
    names its owner's login ID in ``after.user``)."""
    owner = HistoryEvent.params[("after", "user")].as_string()
    of_token = and_(
        HistoryEvent.params[("subject", "type")].as_string() == "token", owner == user.login
    )
    return list(
        db.session.scalars(
            audit_rows().where(or_(_subject_is("user", user.id), of_token)).limit(limit)
        )
    )


def subject_of(row: HistoryEvent) -> dict[str, Any]:
    """The ``params.subject`` of an admin row ({} for an older or odd row)."""
    subject = (row.params or {}).get("subject")
    return subject if isinstance(subject, dict) else {}
