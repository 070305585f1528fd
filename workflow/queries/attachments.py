"""資料 (DOMAIN §10), read: which list of an item's or a meeting's attachments a reader sees.

Staff see an item's live list, or with a meeting the list frozen for that meeting's entry. The
public sees the 公開 資料 of the version deliberated at a published meeting whose entry it may
see — the newest such entry unless a meeting is named — and nothing else. The rules are
:func:`workflow.permissions.can_read_entry_attachment` / :func:`public_entries` and
:func:`can_read_meeting_attachment`; pages and the API both read through here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from workflow.errors import NotFound
from workflow.extensions import db
from workflow.files import INLINE_TYPES
from workflow.models import AgendaEntry, Attachment, EntryAttachment, Item, Meeting, User
from workflow.models.attachment import StoredFile
from workflow.permissions import (
    can_read_entry_attachment,
    can_read_meeting_attachment,
    public_entries,
)
from workflow.queries.disclosure import is_public_reader
from workflow.services.attachments import live


@dataclass(frozen=True)
class Shown:
    """One 資料 as a reader sees it: live (``Attachment``) or frozen (``EntryAttachment``)."""

    id: int  # the Attachment's id in both cases: the same 資料 across versions
    position: int
    title: str
    filename: str
    public: bool
    file: StoredFile
    removed: bool = False

    @property
    def number(self) -> int:
        """1 for 資料１."""
        return self.position + 1

    @property
    def size_text(self) -> str:
        """「1.2 MB」, 「340 KB」, 「512 バイト」."""
        size = self.file.size
        if size >= 1024 * 1024:
            return f"{size / (1024 * 1024):.1f} MB"
        if size >= 1024:
            return f"{size // 1024} KB"
        return f"{size} バイト"

    @property
    def inline(self) -> bool:
        return self.file.media_type in INLINE_TYPES

    @classmethod
    def of(cls, row: Attachment | EntryAttachment) -> Shown:
        if isinstance(row, EntryAttachment):
            return cls(
                row.attachment_id, row.position, row.title, row.filename, row.public, row.file
            )
        return cls(row.id, row.position, row.title, row.filename, row.public, row.file)


def entry_of(item: Item, meeting: Meeting) -> AgendaEntry:
    entry = db.session.scalar(
        select(AgendaEntry).where(
            AgendaEntry.item_id == item.id, AgendaEntry.meeting_id == meeting.id
        )
    )
    if entry is None:
        raise NotFound("この案件はその会議の議題にありません。")
    return entry


def newest_public_entry(item: Item) -> AgendaEntry | None:
    """The newest entry of *item* the public may see (its version is the one published)."""
    return db.session.scalar(
        select(AgendaEntry)
        .join(Meeting, Meeting.id == AgendaEntry.meeting_id)
        .where(AgendaEntry.item_id == item.id, public_entries())
        .order_by(Meeting.date.desc(), Meeting.id.desc())
        .limit(1)
    )


def frozen(user: User | None, entry: AgendaEntry) -> list[Shown]:
    """The 資料 frozen for *entry*, as far as *user* may read them."""
    return [Shown.of(a) for a in entry.attachments if can_read_entry_attachment(user, entry, a)]


def frozen_by_entry(user: User | None, item: Item) -> dict[int, list[Shown]]:
    """Every frozen list of *item*'s entries by entry id, in one query (the item page shows one
    per meeting), as far as *user* may read them."""
    rows = db.session.execute(
        select(EntryAttachment, AgendaEntry)
        .join(AgendaEntry, AgendaEntry.id == EntryAttachment.entry_id)
        .where(AgendaEntry.item_id == item.id)
        .order_by(EntryAttachment.entry_id, EntryAttachment.position)
    ).all()
    out: dict[int, list[Shown]] = {}
    for attachment, entry in rows:
        if can_read_entry_attachment(user, entry, attachment):
            out.setdefault(entry.id, []).append(Shown.of(attachment))
    return out


def item_attachments(user: User | None, item: Item, meeting: Meeting | None = None) -> list[Shown]:
    """What *user* sees of *item*'s 資料 (the item is readable to them: checked by the caller)."""
    if meeting is not None:
        return frozen(user, entry_of(item, meeting))
    if not is_public_reader(user):  # staff: the live list
        return [Shown.of(a) for a in live(item)]
    entry = newest_public_entry(item)
    return frozen(user, entry) if entry is not None else []


def meeting_attachments(user: User | None, meeting: Meeting) -> list[Shown]:
    """What *user* sees of *meeting*'s own 資料 (the meeting is readable to them)."""
    return [Shown.of(a) for a in live(meeting) if can_read_meeting_attachment(user, meeting, a)]


def find(rows: list[Shown], attachment_id: int) -> Shown:
    for row in rows:
        if row.id == attachment_id:
            return row
    raise NotFound("指定された資料はありません。", {"id": attachment_id})
