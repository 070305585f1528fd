"""資料 (DOMAIN §10), written: add, retitle, reorder, replace and remove an item's or a meeting's
attachments, each with its history row in the same transaction.

Who: an item's owning section while it may edit the form, the secretariat always; a meeting's
資料, the secretariat. A PDF is ready at once (its own PDF edition); an Office file or an image
waits for `flask worker` (a ``convert_pdf`` job written with it).

差替え: while the item is on the agenda of a meeting still 予定 (planned), the secretariat's
changes apply to that entry's frozen list too (DOMAIN §9, §10); a department cannot change the
資料 of a scheduled item, so its changes only ever reach the live list, which the next
scheduling freezes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workflow import jobs, storage
from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.extensions import db
from workflow.files import PDF, CheckedUpload
from workflow.models import (
    AgendaEntry,
    Attachment,
    EntryAttachment,
    HistoryEvent,
    Item,
    Meeting,
    User,
)
from workflow.models._types import utcnow
from workflow.permissions import can_change_attachments, is_secretariat
from workflow.schemas.limits import LINE_MAX, UNSTORABLE_MESSAGE, storable
from workflow.states.states import ItemStatus, MeetingStatus, PdfStatus, because

Owner = Item | Meeting

ADD, UPDATE, REPLACE, REMOVE = (
    "attach",
    "update_attachment",
    "replace_attachment",
    "remove_attachment",
)
# Their labels on the timelines and in the API: workflow.states.machine.EVENT_LABELS.


# -- who may ----------------------------------------------------------------------------------


def authorize(actor: User, owner: Owner) -> None:
    """403 unless *actor* may change *owner*'s 資料."""
    if can_change_attachments(actor, owner):
        return
    if isinstance(owner, Meeting):
        raise Forbidden("会議の資料は庁議事務局だけが変更できます。")
    raise Forbidden(
        "この案件の資料は変更できません。所管課は様式２を編集できる間（作成中・差戻し中・"
        "付議待ち・修正対応中）だけ、庁議事務局はいつでも変更できます。"
    )


PUBLISHED_MESSAGE = "公開中の会議の資料は変更できません。先に「公開取消」をしてください。"


def _check_open(owner: Owner, *, only_public: bool = False) -> None:
    """A meeting's 資料 are what was handed out: changed while 予定; after it is held only their
    公開 may still change, until publication (DOMAIN §10). (An item's 資料 freeze with its
    agenda entries, and 差替え stops when the meeting is held: see :func:`_sync_open_entry`.)"""
    if not isinstance(owner, Meeting) or owner.status == MeetingStatus.PLANNED:
        return
    if owner.status == MeetingStatus.PUBLISHED:
        raise Conflict(PUBLISHED_MESSAGE, {"status": owner.status.value})
    if owner.status == MeetingStatus.CANCELLED:  # never held: its 資料 stay as they were
        raise Conflict(
            "この会議は中止になったため、会議の資料は変更できません。",
            {"status": owner.status.value},
        )
    if not only_public:
        raise Conflict(
            f"{because(owner.status)}、会議の資料は変更できません"
            "（公開するかどうかは公開まで変えられます）。",
            {"status": owner.status.value},
        )


# -- reading the live list ----------------------------------------------------------------------


def _owned_by(owner: Owner):
    if isinstance(owner, Meeting):
        return Attachment.meeting_id == owner.id
    return Attachment.item_id == owner.id


def live(owner: Owner) -> list[Attachment]:
    """The owner's 資料 now, 資料１ first (removed ones left out)."""
    return list(
        db.session.scalars(
            select(Attachment)
            .where(_owned_by(owner), Attachment.removed_at.is_(None))
            .order_by(Attachment.position, Attachment.id)
        )
    )


def get_live(owner: Owner, attachment_id: int) -> Attachment:
    """One of the owner's live 資料, or 404."""
    attachment = db.session.get(Attachment, attachment_id) if attachment_id >= 1 else None
    if (
        attachment is None
        or attachment.removed_at is not None
        or (attachment.meeting_id if isinstance(owner, Meeting) else attachment.item_id) != owner.id
    ):
        raise NotFound("指定された資料はありません。", {"id": attachment_id})
    return attachment


def open_entry(item: Item) -> AgendaEntry | None:
    """The item's entry on a meeting still 予定 (not yet decided), whose frozen 資料 may still
    be 差替え."""
    return db.session.scalar(
        select(AgendaEntry)
        .join(Meeting, Meeting.id == AgendaEntry.meeting_id)
        .where(
            AgendaEntry.item_id == item.id,
            AgendaEntry.outcome.is_(None),
            Meeting.status == MeetingStatus.PLANNED,
        )
        .limit(1)
    )


# -- freezing (workflow.services.versions.freeze) ---------------------------------------------


def freeze_into(entry: AgendaEntry, item: Item) -> None:
    """Copy the item's live 資料 into *entry*'s frozen list (replacing whatever it held)."""
    entry.attachments[:] = [_snapshot_row(a, n) for n, a in enumerate(live(item))]


def _snapshot_row(attachment: Attachment, position: int) -> EntryAttachment:
    return EntryAttachment(
        attachment_id=attachment.id,
        position=position,
        title=attachment.title,
        filename=attachment.filename,
        public=attachment.public,
        file_id=attachment.file_id,
    )


def _sync_open_entry(actor: User, owner: Owner) -> None:
    """差替え: the secretariat's change reaches the frozen list of a meeting not yet held."""
    if not isinstance(owner, Item) or owner.status != ItemStatus.SCHEDULED:
        return
    if not is_secretariat(actor):
        return
    entry = open_entry(owner)
    if entry is not None:
        freeze_into(entry, owner)


# -- writing ----------------------------------------------------------------------------------


def _title(value: Any, fallback: str) -> str:
    title = (value if isinstance(value, str) else "").strip() or fallback
    if len(title) > LINE_MAX:
        raise ValidationFailed.field("title", f"資料名は{LINE_MAX}文字以内で入力してください。")
    if not storable(title, one_line=True):
        raise ValidationFailed.field("title", UNSTORABLE_MESSAGE)
    return title


def _lock(owner: Owner) -> None:
    """Take the owner's row for this transaction, so two additions never share a position
    (PostgreSQL; SQLite writers already take turns)."""
    cls = type(owner)
    db.session.execute(select(cls.id).where(cls.id == owner.id).with_for_update())


def _store(upload: CheckedUpload):
    """The upload's bytes as a stored file, with its PDF edition or a conversion job."""
    if upload.media_type == PDF:
        stored = storage.store(upload.stream, upload.media_type, pdf_status=PdfStatus.READY)
        stored.pdf_file_id, stored.pages = stored.id, upload.pages
    else:
        stored = storage.store(upload.stream, upload.media_type, pdf_status=PdfStatus.PENDING)
        jobs.enqueue("convert_pdf", file_id=stored.id)
    db.session.flush()
    return stored


def _history(actor: User, owner: Owner, event: str, attachment: Attachment, **more: Any) -> None:
    state = owner.status.value
    db.session.add(
        HistoryEvent(
            item_id=owner.id if isinstance(owner, Item) else None,
            meeting_id=owner.id if isinstance(owner, Meeting) else None,
            actor_id=actor.id,
            event=event,
            from_state=state,
            to_state=state,
            params={
                "attachment_id": attachment.id,
                "title": attachment.title,
                "filename": attachment.filename,
                "sha256": attachment.file.sha256,
                **more,
            },
        )
    )
    db.session.flush()


def add(
    actor: User, owner: Owner, upload: CheckedUpload, *, title: Any = "", public: bool = True
) -> Attachment:
    """Append *upload* as the owner's next 資料N."""
    authorize(actor, owner)
    _check_open(owner)
    title = _title(title, upload.filename.rpartition(".")[0][:LINE_MAX])  # a name may be longer
    _lock(owner)
    stored = _store(upload)
    attachment = Attachment(
        item_id=owner.id if isinstance(owner, Item) else None,
        meeting_id=owner.id if isinstance(owner, Meeting) else None,
        position=len(live(owner)),
        title=title,
        filename=upload.filename,
        public=bool(public),
        file_id=stored.id,
        file=stored,
        created_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    _history(actor, owner, ADD, attachment, public=attachment.public)
    _sync_open_entry(actor, owner)
    return attachment


def update(
    actor: User,
    owner: Owner,
    attachment: Attachment,
    *,
    title: Any = None,
    public: bool | None = None,
    position: int | None = None,
) -> Attachment:
    """Change the title, 公開 or the place (0 = 資料１) of one 資料; None leaves it as it is."""
    authorize(actor, owner)
    _check_open(owner, only_public=title is None and position is None)
    _lock(owner)
    changed: dict[str, Any] = {}
    if title is not None:
        new_title = _title(title, attachment.title)
        if new_title != attachment.title:
            attachment.title = changed["new_title"] = new_title
    if public is not None and bool(public) != attachment.public:
        attachment.public = changed["public"] = bool(public)
    if position is not None:
        rows = live(owner)
        if not 0 <= position < len(rows):
            raise ValidationFailed.field(
                "position", f"位置は0（資料１）から{len(rows) - 1}までで指定してください。"
            )
        if rows.index(attachment) != position:
            rows.remove(attachment)
            rows.insert(position, attachment)
            for n, row in enumerate(rows):
                row.position = n
            changed["position"] = position
    db.session.flush()
    if changed:
        _history(actor, owner, UPDATE, attachment, **changed)
        _sync_open_entry(actor, owner)
    return attachment


def replace(actor: User, owner: Owner, attachment: Attachment, upload: CheckedUpload) -> Attachment:
    """Point the 資料 at a new file (the old one stays for the versions that froze it)."""
    authorize(actor, owner)
    _check_open(owner)
    _lock(owner)
    before = attachment.file.sha256
    stored = _store(upload)
    attachment.file_id, attachment.file = stored.id, stored
    attachment.filename = upload.filename
    db.session.flush()
    _history(actor, owner, REPLACE, attachment, previous_sha256=before)
    _sync_open_entry(actor, owner)
    return attachment


def remove(actor: User, owner: Owner, attachment: Attachment) -> None:
    """Take the 資料 off the live list; frozen versions that list it keep it."""
    authorize(actor, owner)
    _check_open(owner)
    _lock(owner)
    attachment.removed_at = utcnow()
    db.session.flush()
    for n, row in enumerate(live(owner)):
        row.position = n
    db.session.flush()
    _history(actor, owner, REMOVE, attachment)
    _sync_open_entry(actor, owner)


def set_frozen_public(
    actor: User, item: Item, meeting: Meeting, attachment_id: int, public: bool
) -> EntryAttachment:
    """Set 公開 of a 資料 in the list frozen for *meeting* (the version deliberated there):
    the secretariat, until the meeting is published (DOMAIN §10), with a history row."""
    if not is_secretariat(actor):
        raise Forbidden("会議に付議した版の資料の公開は庁議事務局だけが変更できます。")
    if meeting.status == MeetingStatus.PUBLISHED:
        raise Conflict(PUBLISHED_MESSAGE, {"status": meeting.status.value})
    row = db.session.scalar(
        select(EntryAttachment)
        .join(AgendaEntry, AgendaEntry.id == EntryAttachment.entry_id)
        .where(
            AgendaEntry.item_id == item.id,
            AgendaEntry.meeting_id == meeting.id,
            EntryAttachment.attachment_id == attachment_id,
        )
    )
    if row is None:
        raise NotFound("この会議に付議した版にその資料はありません。", {"id": attachment_id})
    if row.public != bool(public):
        row.public = bool(public)
        _history(
            actor, item, UPDATE, row.attachment, meeting_id=meeting.id, frozen_public=row.public
        )
    return row
