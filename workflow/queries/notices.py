"""A user's notices, as the header, the list page and the API read them (only their own)."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from workflow.extensions import db
from workflow.models import Notice, User
from workflow.schemas.limits import ID_MAX


def unread_count(user: User) -> int:
    """The user's unread notices: one query, as the header shows it on every page."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notice)
        .where(Notice.user_id == user.id, Notice.read_at.is_(None))
    )


def notices_query(user: User) -> Select:
    """The user's notices, newest first (pages cut it with offset and limit)."""
    return (
        select(Notice)
        .where(Notice.user_id == user.id)
        .order_by(Notice.created_at.desc(), Notice.id.desc())
    )


def own_notice(user: User, notice_id: int) -> Notice | None:
    """The notice, if it is *user*'s; anyone else's is as if it did not exist."""
    notice = db.session.get(Notice, notice_id) if 1 <= notice_id <= ID_MAX else None
    if notice is None or notice.user_id != user.id:
        return None
    return notice
