"""Drafts of the meeting room (workflow.models.room_draft): keep what a secretary typed.

A draft is not the record: saving one fires no event, writes no history and leaves the meeting's
version alone. It holds the room form's fields as posted; the page builds its form from them as
from a post, so a restored draft shows exactly what was typed (rows included).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select

from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.extensions import db
from workflow.models import AgendaEntry, Meeting, RoomDraft, User
from workflow.models._types import utcnow
from workflow.permissions import can_manage_meetings
from workflow.schemas.limits import TEXT_MAX
from workflow.states.states import MeetingStatus

# The room form's fields a draft keeps (the CSRF token and the buttons are not kept).
_FIELD = re.compile(
    r"^(?:version|presenter|special_notes|outcome|forward_to|attendance_paste"
    r"|attendance-(\d+)-(?:section|deputy|absent)"
    r"|opinions-(\d+)-(?:opinion|response|follow_up|public))$"
)
MAX_ROWS = 500  # far more opinions or sections than any meeting has
MAX_TOTAL = 1_000_000  # characters of one draft in all
OPEN = frozenset({MeetingStatus.PLANNED, MeetingStatus.HELD})  # the record can still change


def fingerprint(record: dict[str, Any]) -> str:
    """A short digest of an entry's record as the room shows it (its ``version`` left out):
    tells whether the entry changed since a form was opened on it."""
    data = {k: v for k, v in record.items() if k != "version"}
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _check(actor: User, meeting: Meeting) -> None:
    if not can_manage_meetings(actor):
        raise Forbidden("会議の記録は庁議事務局だけが入力できます。")
    if meeting.status not in OPEN:
        raise Conflict(
            f"この会議の議事録は「{meeting.status.label}」のため、下書きを保存できません。",
            {"status": meeting.status.value},
        )


def clean_fields(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The room form's fields among *pairs*, in order; refuse what no form would send."""
    kept: list[list[str]] = []
    total = 0
    for name, value in pairs:
        match = _FIELD.match(name)
        if match is None:
            continue
        row = match[1] or match[2]
        if row is not None and int(row) >= MAX_ROWS:
            raise ValidationFailed(
                "行が多すぎるため、下書きを保存できません。", {name: ["行が多すぎます。"]}
            )
        if len(value) > TEXT_MAX:
            raise ValidationFailed(
                f"{TEXT_MAX:,}文字を超える欄があるため、下書きを保存できません。",
                {name: [f"{TEXT_MAX:,}文字以内で入力してください。"]},
            )
        total += len(value)
        kept.append([name, value])
    if total > MAX_TOTAL:
        raise ValidationFailed("入力が多すぎるため、下書きを保存できません。")
    return kept


def draft_of(actor: User, entry: AgendaEntry) -> RoomDraft | None:
    """*actor*'s own draft of *entry* (a draft is never shown to anyone else)."""
    return db.session.scalar(
        select(RoomDraft).where(RoomDraft.entry_id == entry.id, RoomDraft.user_id == actor.id)
    )


def save_draft(
    actor: User, meeting: Meeting, entry: AgendaEntry, pairs: Iterable[tuple[str, str]], base: str
) -> RoomDraft:
    """Keep what *actor* typed in *entry*'s form (replacing their previous draft of it)."""
    _check(actor, meeting)
    fields = clean_fields(pairs)
    draft = draft_of(actor, entry)
    if draft is None:
        draft = RoomDraft(entry_id=entry.id, user_id=actor.id)
        db.session.add(draft)
    draft.data = {"fields": fields, "base": base[:64]}
    draft.saved_at = utcnow()
    db.session.flush()
    return draft


def discard_draft(actor: User, meeting: Meeting, entry: AgendaEntry) -> bool:
    """Throw *actor*'s draft of *entry* away; False if there was none."""
    if not can_manage_meetings(actor):
        raise Forbidden("会議の記録は庁議事務局だけが入力できます。")
    result = db.session.execute(
        delete(RoomDraft).where(RoomDraft.entry_id == entry.id, RoomDraft.user_id == actor.id)
    )
    return bool(result.rowcount)
