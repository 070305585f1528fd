"""Who may do what (DOMAIN §1), as plain functions used by services, pages and the API alike.

``user`` may be Flask-Login's anonymous user or None: both mean the public.
"""

from __future__ import annotations

from sqlalchemy import exists, select

from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, Section, User
from workflow.states.states import ItemStatus, MeetingStatus, Role

EDITABLE = frozenset({ItemStatus.DRAFT, ItemStatus.RETURNED, ItemStatus.AMENDING})
SECRETARIAT_ITEM_EVENTS = frozenset(
    {
        "return",
        "accept",
        "schedule",
        "unschedule",
        "record_outcome",
        "open_public_comment",
        "close_public_comment",
        "publish_comment_results",
        "conclude",
    }
)
DEPARTMENT_ITEM_EVENTS = frozenset({"submit", "submit_amendment"})
MINUTES_READABLE = frozenset({MeetingStatus.CONFIRMED, MeetingStatus.PUBLISHED})


def _role(user: User | None) -> Role | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.role


def is_secretariat(user: User | None) -> bool:
    return _role(user) == Role.SECRETARIAT


def is_admin(user: User | None) -> bool:
    return _role(user) == Role.ADMIN


def owns(user: User | None, item: Item) -> bool:
    """A department user of the item's own section."""
    return _role(user) == Role.DEPARTMENT and user.section_id == item.section_id


def is_public_item(item: Item) -> bool:
    """On the agenda of a meeting whose minutes are published (様式２ is written to be public)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    AgendaEntry.item_id == item.id,
                    AgendaEntry.meeting_id == Meeting.id,
                    Meeting.status == MeetingStatus.PUBLISHED,
                )
            )
        )
    )


def can_read_item(user: User | None, item: Item) -> bool:
    role = _role(user)
    if role in (Role.SECRETARIAT, Role.ADMIN) or owns(user, item):
        return True
    if role in (Role.VIEWER, Role.DEPARTMENT):
        return item.status != ItemStatus.DRAFT
    return is_public_item(item)


def can_file_item(user: User | None, section: Section) -> bool:
    """File a new item for *section*: its own department staff, or the secretariat."""
    role = _role(user)
    return role == Role.SECRETARIAT or (role == Role.DEPARTMENT and user.section_id == section.id)


def can_edit_item(user: User | None, item: Item) -> bool:
    return item.status in EDITABLE and (is_secretariat(user) or owns(user, item))


def can_fire_item_event(user: User | None, item: Item, event: str) -> bool:
    """May *user* fire *event* on *item* (whatever the item's state)?"""
    if event in SECRETARIAT_ITEM_EVENTS:
        return is_secretariat(user)
    if event in DEPARTMENT_ITEM_EVENTS:
        return owns(user, item)
    if event == "withdraw":
        return is_secretariat(user) or owns(user, item)
    return False


def can_manage_meetings(user: User | None) -> bool:
    """Create meetings, set agendas, record deliberations and outcomes, hold/confirm/publish."""
    return is_secretariat(user)


def can_manage_public_comment(user: User | None) -> bool:
    return is_secretariat(user)


def can_read_meeting(user: User | None, meeting: Meeting) -> bool:
    """See the meeting and its agenda: staff always, the public once published."""
    if _role(user) is not None:
        return True
    return meeting.status == MeetingStatus.PUBLISHED


def can_read_minutes(user: User | None, meeting: Meeting) -> bool:
    """Read what was said: the secretariat while drafting, staff once confirmed, public once published."""
    role = _role(user)
    if role in (Role.SECRETARIAT, Role.ADMIN):
        return True
    if role is not None:
        return meeting.status in MINUTES_READABLE
    return meeting.status == MeetingStatus.PUBLISHED


def can_manage_users(user: User | None) -> bool:
    return is_admin(user)
