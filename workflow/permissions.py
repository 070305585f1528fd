"""Who may do what (DOMAIN §1), as plain functions used by services, pages and the API alike.

``user`` may be Flask-Login's anonymous user or None: both mean the public.

Each read rule has its SQL twin right beside it — ``can_read_item`` / ``readable_items``,
``can_read_meeting`` / ``readable_meetings``, ``can_read_minutes`` / ``readable_minutes`` — and
every page, the API, search, open data and the PDFs use that pair, never a copy of the rule.
``tests/test_read_rules.py`` holds each pair equal for every role on both engines.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import aliased

from workflow.extensions import db
from workflow.models import (
    AgendaEntry,
    Attachment,
    EntryAttachment,
    Item,
    Meeting,
    Opinion,
    PublicComment,
    Section,
    User,
)
from workflow.states.states import (
    Disclosure,
    ItemStatus,
    MeetingStatus,
    PublicCommentStatus,
    Role,
)

# The form may be revised while a draft, returned, between meetings (accepted, not while
# scheduled) and while being amended (DOMAIN §1, §9).
EDITABLE = frozenset(
    {ItemStatus.DRAFT, ItemStatus.RETURNED, ItemStatus.ACCEPTED, ItemStatus.AMENDING}
)
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
        "confirm_amendment",
        "return_amendment",
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


def reads_everything(user: User | None) -> bool:
    """The secretariat and admins read every item and every meeting's minutes."""
    return _role(user) in (Role.SECRETARIAT, Role.ADMIN)


# -- items -----------------------------------------------------------------------------------


def is_public_item(item: Item) -> bool:
    """On the agenda of a meeting whose minutes are published (様式２ is written to be public)."""
    return bool(db.session.scalar(select(Item.id).where(Item.id == item.id, public_items())))


def public_items() -> ColumnElement[bool]:
    """SQL for :func:`is_public_item`, on ``Item``: on a published meeting in an entry that is
    not 非公開 (DOMAIN §10).

    An EXISTS per item rather than ``Item.id IN (…)``: a newest-first page can then stop at its
    rows instead of sorting every public item first. Its own aliases of the entries and meetings,
    so that it correlates with nothing but ``items`` in a query that joins those tables too.
    """
    entry, meeting = aliased(AgendaEntry), aliased(Meeting)
    return exists().where(
        entry.item_id == Item.id,
        entry.meeting_id == meeting.id,
        meeting.status == MeetingStatus.PUBLISHED,
        entry.disclosure != Disclosure.CLOSED,
    )


def can_read_item(user: User | None, item: Item) -> bool:
    """Staff read every item but other sections' drafts; the public, items on published minutes."""
    role = _role(user)
    if reads_everything(user) or owns(user, item):
        return True
    if role in (Role.VIEWER, Role.DEPARTMENT):
        return item.status != ItemStatus.DRAFT
    return is_public_item(item)


def readable_items(user: User | None) -> ColumnElement[bool]:
    """SQL for :func:`can_read_item`, on ``Item``."""
    role = _role(user)
    if reads_everything(user):
        return true()
    if role == Role.VIEWER:
        return Item.status != ItemStatus.DRAFT
    if role == Role.DEPARTMENT:
        return or_(Item.status != ItemStatus.DRAFT, Item.section_id == user.section_id)
    return public_items()


def can_file_item(user: User | None, section: Section) -> bool:
    """File a new item for *section*: its own department staff, or the secretariat."""
    role = _role(user)
    return role == Role.SECRETARIAT or (role == Role.DEPARTMENT and user.section_id == section.id)


def can_edit_item(user: User | None, item: Item) -> bool:
    return item.status in EDITABLE and (is_secretariat(user) or owns(user, item))


def can_change_attachments(user: User | None, owner: Item | Meeting) -> bool:
    """Add, edit, reorder, replace or remove *owner*'s 資料: an item's owning section while it
    may edit the form, the secretariat always; a meeting's, the secretariat (DOMAIN §10)."""
    if isinstance(owner, Meeting):
        return is_secretariat(user)
    return is_secretariat(user) or can_edit_item(user, owner)


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


# -- meetings and minutes --------------------------------------------------------------------


def can_read_meeting(user: User | None, meeting: Meeting) -> bool:
    """See the meeting and its agenda: staff always, the public once published."""
    if _role(user) is not None:
        return True
    return meeting.status == MeetingStatus.PUBLISHED


def readable_meetings(user: User | None) -> ColumnElement[bool]:
    """SQL for :func:`can_read_meeting`, on ``Meeting``."""
    if _role(user) is not None:
        return true()
    return Meeting.status == MeetingStatus.PUBLISHED


def can_read_minutes(user: User | None, meeting: Meeting) -> bool:
    """Read what was said: the secretariat while drafting, staff once confirmed, public once published."""
    if reads_everything(user):
        return True
    if _role(user) is not None:
        return meeting.status in MINUTES_READABLE
    return meeting.status == MeetingStatus.PUBLISHED


def readable_minutes(user: User | None) -> ColumnElement[bool]:
    """SQL for :func:`can_read_minutes`, on ``Meeting``."""
    if reads_everything(user):
        return true()
    if _role(user) is not None:
        return Meeting.status.in_(MINUTES_READABLE)
    return Meeting.status == MeetingStatus.PUBLISHED


# -- disclosure of agenda entries, opinions and 資料 (DOMAIN §10) -----------------------------
# Staff read an entry, its opinions and 資料 as they read its meeting and minutes. The public
# sees an entry of a published meeting unless it is 非公開, and of it only the opinions and 資料
# marked public: a part held back is hidden whatever the entry's label (一部非公開 says so on
# the public edition of the minutes).


def public_sees_entry(entry: AgendaEntry) -> bool:
    return entry.meeting.status == MeetingStatus.PUBLISHED and entry.disclosure != Disclosure.CLOSED


def public_entries() -> ColumnElement[bool]:
    """SQL for :func:`public_sees_entry`, on ``AgendaEntry``."""
    meeting = aliased(Meeting)
    return and_(
        AgendaEntry.disclosure != Disclosure.CLOSED,
        exists().where(
            meeting.id == AgendaEntry.meeting_id, meeting.status == MeetingStatus.PUBLISHED
        ),
    )


def can_read_entry(user: User | None, entry: AgendaEntry) -> bool:
    """See the entry on its meeting's agenda (its item's title, presenter, …)."""
    if _role(user) is not None:
        return can_read_meeting(user, entry.meeting)
    return public_sees_entry(entry)


def readable_entries(user: User | None) -> ColumnElement[bool]:
    """SQL for :func:`can_read_entry`, on ``AgendaEntry`` (staff read every meeting)."""
    if _role(user) is not None:
        return true()
    return public_entries()


def can_read_opinion(user: User | None, entry: AgendaEntry, opinion: Opinion) -> bool:
    """An opinion in the minutes: whoever reads the minutes; of the public, only public ones."""
    if _role(user) is not None:
        return can_read_minutes(user, entry.meeting)
    return public_sees_entry(entry) and opinion.public


def readable_opinions(user: User | None) -> ColumnElement[bool]:
    """SQL for :func:`can_read_opinion`, on ``Opinion`` joined to its ``AgendaEntry`` and that
    entry's ``Meeting`` (the open data export and search read opinions by the row)."""
    if _role(user) is not None:
        return readable_minutes(user)
    return and_(Opinion.public.is_(True), public_entries())


def can_read_entry_attachment(
    user: User | None, entry: AgendaEntry, attachment: EntryAttachment
) -> bool:
    """A 資料 of the version deliberated at *entry*'s meeting."""
    if _role(user) is not None:
        return can_read_meeting(user, entry.meeting)
    return public_sees_entry(entry) and attachment.public


def can_read_meeting_attachment(
    user: User | None, meeting: Meeting, attachment: Attachment
) -> bool:
    """A 資料 of the meeting itself: staff always, the public public ones of a published meeting."""
    if _role(user) is not None:
        return can_read_meeting(user, meeting)
    return meeting.status == MeetingStatus.PUBLISHED and attachment.public


# -- パブリックコメント ------------------------------------------------------------------------

# The opinions received are staff material until the result is published (行政手続法 §43).
COMMENT_RESULTS_PUBLIC = frozenset(
    {PublicCommentStatus.RESULTS_PUBLISHED, PublicCommentStatus.ABANDONED}
)


def can_read_comment_opinions(user: User | None, process: PublicComment) -> bool:
    """The opinions of a public comment: staff always, the public once the result is out."""
    return _role(user) is not None or process.status in COMMENT_RESULTS_PUBLIC


def can_manage_users(user: User | None) -> bool:
    return is_admin(user)
