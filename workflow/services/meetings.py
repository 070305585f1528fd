"""Use cases of meetings: create, set the agenda, record deliberations and outcomes, hold, confirm, publish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, time
from typing import Any

from sqlalchemy import select

from workflow.errors import Conflict, Forbidden, ValidationFailed
from workflow.extensions import db
from workflow.models import (
    AgendaEntry,
    Attendance,
    HistoryEvent,
    Item,
    Meeting,
    MeetingKind,
    Opinion,
    User,
    review_kinds,
)
from workflow.models._types import utcnow
from workflow.permissions import can_manage_meetings
from workflow.schemas.meetings import Deliberation, MeetingCreate, MeetingPatch, Presenter
from workflow.schemas.types import validate, validate_value
from workflow.services import numbering, versions
from workflow.services.items import authorize, check_version, fire_item
from workflow.states.machine import check_allowed, fire
from workflow.states.routing import next_kind
from workflow.states.states import Disclosure, MeetingStatus, Outcome, because
from workflow.wareki import fiscal_year

FROZEN = frozenset({MeetingStatus.CONFIRMED, MeetingStatus.PUBLISHED})


def _require_secretariat(actor: User | None) -> None:
    if not can_manage_meetings(actor):
        raise Forbidden("会議の操作は庁議事務局だけが行えます。")


def _touch(meeting: Meeting) -> None:
    """Bump the meeting's version: concurrent edits of its agenda conflict instead of merging."""
    meeting.updated_at = utcnow()


def create_meeting(
    actor: User,
    *,
    kind: str,
    date_: date,
    number: int | None = None,
    chair: str = "",
    venue: str = "",
    start_time: time | None = None,
    joint_name: str = "",
    second_kind: str | None = None,
) -> Meeting:
    """Create a planned meeting; 第N回 is counted per kind per 年度 unless *number* is given."""
    _require_secretariat(actor)
    body = validate(
        MeetingCreate,
        {
            "kind": kind,
            "date": date_,
            "number": number,
            "chair": chair,
            "venue": venue,
            "start_time": start_time,
            "joint_name": joint_name,
            "second_kind": second_kind,
        },
        message="会議の入力に誤りがあります。",
    )
    kind_row = db.session.get(MeetingKind, kind)
    if kind_row is None:
        raise ValidationFailed.field("kind", f"会議の種類「{kind}」はありません。")
    second_row = None
    if second_kind is not None:
        second_row = db.session.get(MeetingKind, second_kind)
        if second_row is None:
            raise ValidationFailed.field(
                "second_kind", f"会議の種類「{second_kind}」はありません。"
            )
        if second_kind == kind:
            raise ValidationFailed.field(
                "second_kind", "兼ねて開く会議には、別の種類の会議を選んでください。"
            )
    fy = fiscal_year(date_)
    numbering.lock_numbers(kind, fy)
    if number is not None:
        kept = db.session.scalar(
            select(Meeting).where(
                Meeting.kind == kind, Meeting.fiscal_year == fy, Meeting.number == number
            )
        )
        if kept is not None and numbering.keeps_number(kept):
            raise ValidationFailed.field(
                "number", f"この年度の第{number}回{kind_row.name}はすでに登録されています。"
            )
    meeting = Meeting(
        kind=kind,
        kind_row=kind_row,
        number=number or 0,  # an automatic number is given by renumber() below
        number_fixed=number is not None,
        fiscal_year=fy,
        date=body.date,
        chair=body.chair,
        venue=body.venue,
        start_time=body.start_time,
        joint_name=body.joint_name,
        second_kind=second_kind,
        second_kind_row=second_row,
    )
    # Numbers follow the date (DOMAIN §2): the new meeting takes its place among the planned ones.
    numbering.renumber(kind, fy, new=meeting)
    db.session.add(meeting)
    db.session.flush()
    return meeting


def entry_for(meeting: Meeting, item: Item) -> AgendaEntry:
    for entry in meeting.entries:
        if entry.item_id == item.id:
            return entry
    raise ValidationFailed.field("item_id", "この案件はこの会議の議題にありません。")


def schedule(
    actor: User, meeting: Meeting, item: Item, presenter: str = "", *, version: int | None = None
) -> AgendaEntry:
    """Put an accepted item on a planned meeting of the kind it awaits."""
    authorize(actor, item, "schedule", version)
    presenter = validate_value(
        Presenter, "presenter", presenter, message="説明者の入力に誤りがあります。"
    )
    entry = AgendaEntry(item=item, presenter=presenter, section_name=item.section.name)

    def add_to_agenda() -> None:
        meeting.entries.append(entry)
        _touch(meeting)

    fire_item(actor, item, "schedule", meeting=meeting, effect=add_to_agenda)
    versions.freeze(entry, item, meeting, actor)
    db.session.flush()
    return entry


def unschedule(actor: User, meeting: Meeting, item: Item, *, version: int | None = None) -> Item:
    """Take the item off the agenda; it awaits the same kind again."""
    authorize(actor, item, "unschedule", version)
    entry = entry_for(meeting, item)

    def remove_from_agenda() -> None:
        meeting.entries.remove(entry)
        meeting.entries.reorder()
        _touch(meeting)

    return fire_item(
        actor, item, "unschedule", meeting=meeting, entry=entry, effect=remove_from_agenda
    )


def drop_open_entry(item: Item) -> None:
    """A withdrawn scheduled item leaves the agenda of its planned meeting."""
    entry = db.session.scalar(
        select(AgendaEntry).where(AgendaEntry.item_id == item.id, AgendaEntry.outcome.is_(None))
    )
    if entry is not None and entry.meeting.status == MeetingStatus.PLANNED:
        meeting = entry.meeting
        meeting.entries.remove(entry)
        meeting.entries.reorder()
        _touch(meeting)


def reorder_agenda(
    actor: User, meeting: Meeting, item_ids: Sequence[int], *, version: int | None = None
) -> Meeting:
    """Put the agenda in the given order of item ids (all of them, each once)."""
    _require_secretariat(actor)
    check_version(meeting, version)
    if meeting.status != MeetingStatus.PLANNED:
        raise Conflict(f"{because(meeting.status)}、議題の順番を変えられません。")
    by_item = {e.item_id: e for e in meeting.entries}
    if sorted(item_ids) != sorted(by_item):
        raise ValidationFailed.field("order", "議題の案件をすべて一度ずつ指定してください。")
    meeting.entries[:] = [by_item[i] for i in item_ids]
    meeting.entries.reorder()
    _touch(meeting)
    db.session.flush()
    return meeting


def record_deliberation(
    actor: User,
    meeting: Meeting,
    item: Item,
    data: Mapping[str, Any],
    *,
    version: int | None = None,
) -> AgendaEntry:
    """Record what was said: presenter, attendance, opinions, special notes, and the entry's
    disclosure (each given key replaces).

    Everything is editable until the minutes are confirmed. Once confirmed, only the disclosure
    (公開範囲, its reason, the opinions' 公開 flags) may change, until the meeting is published;
    after that, only through 公開取消 (DOMAIN §10). A change of disclosure writes a history row.
    """
    _require_secretariat(actor)
    check_version(meeting, version)
    if meeting.status == MeetingStatus.PUBLISHED:
        raise Conflict(
            "この会議の議事録は公開済みのため、変更できません。"
            "公開範囲を変えるときは、先に「公開取消」をしてください。",
            {"status": meeting.status.value},
        )
    entry = entry_for(meeting, item)
    clean = validate_deliberation(data)
    opinions = clean.pop("opinions", None)
    same_texts = opinions is not None and _texts(entry.opinions) == _texts(opinions)
    if meeting.status in FROZEN:
        changed = [k for k in clean if k not in DISCLOSURE_KEYS and clean[k] != _recorded(entry, k)]
        if changed or (opinions is not None and not same_texts):
            raise Conflict(
                f"{because(meeting.status)}、公開範囲"
                "（disclosure・disclosure_reason・意見の public）のほかは変更できません。",
                {"status": meeting.status.value},
            )
    disclosure, reason = _disclosure_wanted(entry, clean)  # refused before anything changes
    before = _disclosure_of(entry)
    if "presenter" in clean:
        entry.presenter = clean["presenter"]
    if "special_notes" in clean:
        entry.special_notes = clean["special_notes"]
    if "attendance" in clean:
        entry.attendance = [Attendance(**row) for row in clean["attendance"]]
    if opinions is not None:
        if same_texts:  # only the 公開 flags: the rows (and the ids a 様式２ names) stay
            for opinion, row in zip(entry.opinions, opinions, strict=True):
                opinion.public = row["public"]
        else:
            entry.opinions = [Opinion(**row) for row in opinions]
    entry.disclosure, entry.disclosure_reason = disclosure, reason
    after = _disclosure_of(entry)
    if after != before:
        db.session.add(
            HistoryEvent(
                meeting_id=meeting.id,
                actor_id=actor.id,
                event="set_disclosure",
                from_state=meeting.status.value,
                to_state=meeting.status.value,
                params={"item_id": item.id, **after},
                reason=entry.disclosure_reason,
            )
        )
    _touch(meeting)
    db.session.flush()
    return entry


# The keys of a deliberation that set the disclosure (the opinions' 公開 flags apart).
DISCLOSURE_KEYS = frozenset({"disclosure", "disclosure_reason"})
_OPINION_TEXTS = ("opinion", "response", "follow_up")


def _texts(rows: Sequence[Any]) -> list[tuple]:
    """The opinions' texts (rows or dicts), blanks as None: what a flag-only change keeps."""

    def get(row: Any, key: str) -> Any:
        value = row[key] if isinstance(row, Mapping) else getattr(row, key)
        return value or None

    return [tuple(get(row, key) for key in _OPINION_TEXTS) for row in rows]


def _recorded(entry: AgendaEntry, key: str) -> Any:
    """What *entry* holds for a deliberation key, in :func:`validate_deliberation`'s shape."""
    if key == "attendance":
        return [
            {"section_name": a.section_name, "deputy": a.deputy, "present": a.present}
            for a in entry.attendance
        ]
    return getattr(entry, key)


def _disclosure_of(entry: AgendaEntry) -> dict[str, Any]:
    """The entry's disclosure as its history row records it (the opinions held back by 1-based
    number, as the minutes number them)."""
    return {
        "disclosure": Disclosure(entry.disclosure).value,
        "disclosure_reason": entry.disclosure_reason,
        "withheld_opinions": [i + 1 for i, o in enumerate(entry.opinions) if o.public is False],
    }


def _disclosure_wanted(entry: AgendaEntry, clean: Mapping[str, Any]) -> tuple[Disclosure, str]:
    """The disclosure and reason *clean* asks for (what is recorded where it names none):
    一部非公開 and 非公開 need the article of the 情報公開条例; 公開 keeps no reason."""
    disclosure = clean.get("disclosure") or Disclosure(entry.disclosure)
    reason = clean.get("disclosure_reason", entry.disclosure_reason).strip()
    if disclosure == Disclosure.PUBLIC:
        return disclosure, ""
    if not reason:
        raise ValidationFailed.field(
            "disclosure_reason",
            f"「{disclosure.label}」にするときは、理由（情報公開条例の該当する条項）を入力してください。",
        )
    return disclosure, reason


def validate_deliberation(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a deliberation payload (:class:`Deliberation`); return the keys given, as columns."""
    body = validate(Deliberation, data)
    clean: dict[str, Any] = {k: getattr(body, k) for k in body.model_fields_set - {"version"}}
    if "attendance" in clean:
        clean["attendance"] = [
            {"section_name": row.section, "deputy": row.deputy, "present": row.present}
            for row in body.attendance
        ]
    if "opinions" in clean:
        clean["opinions"] = [
            {
                "opinion": row.opinion,
                "response": row.response or None,
                "follow_up": row.follow_up or None,
                "public": row.public,
            }
            for row in body.opinions
        ]
    if clean.get("disclosure", "") is None:  # null: as recorded
        del clean["disclosure"]
    return clean


def record_outcome(
    actor: User,
    meeting: Meeting,
    item: Item,
    outcome: str | Outcome,
    forward_to: str | None = None,
    *,
    version: int | None = None,
) -> AgendaEntry:
    """Record the result (結果) of an agenda entry and move the item on (DOMAIN §4)."""
    authorize(actor, item, "record_outcome", version)
    try:
        outcome = Outcome(outcome)
    except ValueError:
        allowed = "、".join(f"{o.value}（{o.label}）" for o in Outcome)
        raise ValidationFailed.field("outcome", f"結果は次のいずれかです: {allowed}") from None
    target = None
    if forward_to is not None:
        target = db.session.get(MeetingKind, forward_to)
        if target is None:
            raise ValidationFailed.field("forward_to", f"会議の種類「{forward_to}」はありません。")
    entry = entry_for(meeting, item)

    def note_outcome() -> None:
        entry.outcome = outcome
        entry.forward_to = target.code if target else None
        entry.forward_kind = target
        entry.outcome_recorded_at = utcnow()
        if outcome == Outcome.FORWARDED:
            # The next kind of the route: a review on the way first (DOMAIN §8).
            item.level_kind = next_kind(item.route, meeting.kinds, target.code, review_kinds())
        elif outcome != Outcome.CONTINUED:
            item.level_kind = None
        _touch(meeting)

    fire_item(
        actor,
        item,
        "record_outcome",
        meeting=meeting,
        entry=entry,
        outcome=outcome,
        forward_to=target,
        effect=note_outcome,
    )
    return entry


def _fire_meeting(actor: User, meeting: Meeting, event: str, version: int | None) -> Meeting:
    _require_secretariat(actor)
    check_version(meeting, version)
    fire(meeting, event, actor=actor)
    db.session.flush()
    return meeting


def hold(actor: User, meeting: Meeting, *, version: int | None = None) -> Meeting:
    """Mark the meeting held: every agenda entry has its outcome."""
    return _fire_meeting(actor, meeting, "hold", version)


def confirm(actor: User, meeting: Meeting, *, version: int | None = None) -> Meeting:
    """Confirm the minutes (議事録確定): they no longer print as 案 and are frozen."""
    return _fire_meeting(actor, meeting, "confirm", version)


def publish(actor: User, meeting: Meeting, *, version: int | None = None) -> Meeting:
    """Publish the minutes and the items on them."""
    return _fire_meeting(actor, meeting, "publish", version)


def unpublish(
    actor: User, meeting: Meeting, *, reason: str = "", version: int | None = None
) -> Meeting:
    """公開取消: take the minutes back to 確定 (DOMAIN §10), the reason in the history row.

    The public's pages of the meeting, and of the items public only through it, then answer
    404; the items' own states are not touched. The disclosure may be set again, then the
    meeting published again.
    """
    _require_secretariat(actor)
    check_version(meeting, version)
    check_allowed(meeting, "unpublish")  # not published: the state's answer comes first
    if not (reason or "").strip():
        raise ValidationFailed.field("reason", "公開取消の理由を入力してください。")
    fire(meeting, "unpublish", actor=actor, reason=reason.strip())
    db.session.flush()
    return meeting


def cancel(
    actor: User, meeting: Meeting, *, reason: str = "", version: int | None = None
) -> Meeting:
    """中止 (DOMAIN §2): call off a planned meeting, with the reason.

    The items on its agenda go back to waiting for the same kind (each with its ``unschedule``
    history row, as taking it off the agenda by hand), then the meeting's own ``cancel`` row names
    them, and its notice tells their sections (workflow.services.notices). The meeting keeps its
    number: it was announced. Refused (409) once an entry has its outcome: the meeting sat.
    """
    _require_secretariat(actor)
    check_version(meeting, version)
    check_allowed(meeting, "cancel")  # not planned: the state's answer comes first
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "中止の理由を入力してください。")
    decided = [e for e in meeting.entries if e.outcome is not None]
    if decided:
        raise Conflict(
            "結果を登録した議題があるため、この会議は中止にできません。"
            "会議を開いたときは「開催済にする」を使ってください。",
            {"decided_item_ids": [e.item_id for e in decided]},
        )
    items = [entry.item for entry in meeting.entries]
    for item in items:
        unschedule(actor, meeting, item)

    def note_cancel() -> None:
        meeting.cancel_reason = reason
        meeting.cancelled_at = utcnow()

    fire(
        meeting,
        "cancel",
        actor=actor,
        reason=reason,
        item_ids=[item.id for item in items],
        effect=note_cancel,
    )
    db.session.flush()
    return meeting


# What a planned meeting's edit may change (PATCH /api/v1/meetings/{id}, the edit page).
EDITABLE = ("date", "start_time", "venue", "chair", "joint_name", "number")


def update_meeting(
    actor: User, meeting: Meeting, changes: Mapping[str, Any], *, version: int | None = None
) -> Meeting:
    """Change a planned meeting's date, time, venue, chair, joint name or 第N回 (only the keys of
    *changes*; ``number`` None: back to the automatic number by date).

    A new date renumbers the kind's planned meetings (DOMAIN §2), in both 年度 when it moves to
    another one; the edit never fails because of an automatic number. The change writes one
    ``edit_meeting`` history row (old and new values) in the same transaction, and a new date is
    told to the sections of the items on the agenda (workflow.services.notices).
    """
    _require_secretariat(actor)
    check_version(meeting, version)
    if meeting.status != MeetingStatus.PLANNED:
        raise Conflict(
            f"この会議は「{meeting.status.label}」のため、変更できません。",
            {"status": meeting.status.value},
        )
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(
            "変更できない項目があります。",
            {key: ["この項目は変更できません。"] for key in sorted(unknown)},
        )
    body = validate(MeetingPatch, dict(changes), message="会議の入力に誤りがあります。")
    given = body.model_fields_set & set(EDITABLE)
    before = _editable_of(meeting)
    wanted = {**before, **{key: getattr(body, key) for key in given}}
    if "number" in given:
        wanted["number_fixed"] = body.number is not None
    new_date: date = wanted["date"]
    old_fy, new_fy = meeting.fiscal_year, fiscal_year(new_date)
    for fy in sorted({old_fy, new_fy}):  # one order for every writer: no deadlock
        numbering.lock_numbers(meeting.kind, fy)
    fixed = wanted["number"] if wanted["number_fixed"] else None
    if fixed is not None:
        kept = db.session.scalar(
            select(Meeting).where(
                Meeting.kind == meeting.kind,
                Meeting.fiscal_year == new_fy,
                Meeting.number == fixed,
                Meeting.id != meeting.id,
            )
        )
        if kept is not None and numbering.keeps_number(kept):
            raise ValidationFailed.field(
                "number",
                f"この年度の第{fixed}回{meeting.kind_row.name}はすでに登録されています。",
            )
    renumbering = new_date != meeting.date or "number" in given
    if renumbering:
        numbering.park(meeting)  # out of the way of both years' numbers
    meeting.date = new_date
    meeting.fiscal_year = new_fy
    meeting.start_time = wanted["start_time"]
    meeting.venue = wanted["venue"]
    meeting.chair = wanted["chair"]
    meeting.joint_name = wanted["joint_name"]
    meeting.number_fixed = wanted["number_fixed"]
    if renumbering:
        db.session.flush()
        if new_fy != old_fy:
            numbering.renumber(meeting.kind, old_fy)
        numbering.renumber(
            meeting.kind, new_fy, pinned={meeting: fixed} if fixed is not None else None
        )
    after = _editable_of(meeting)
    changed = {key: (before[key], after[key]) for key in after if before[key] != after[key]}
    if not changed:
        return meeting
    _touch(meeting)
    row = HistoryEvent(
        meeting_id=meeting.id,
        actor_id=actor.id,
        event="edit_meeting",
        from_state=meeting.status.value,
        to_state=meeting.status.value,
        params={
            key: [_jsonable_value(old), _jsonable_value(new)] for key, (old, new) in changed.items()
        },
    )
    db.session.add(row)
    db.session.flush()
    from workflow.services import notices

    notices.announce(row)
    return meeting


def _editable_of(meeting: Meeting) -> dict[str, Any]:
    return {
        "date": meeting.date,
        "start_time": meeting.start_time,
        "venue": meeting.venue,
        "chair": meeting.chair,
        "joint_name": meeting.joint_name,
        "number": meeting.number,
        "number_fixed": bool(meeting.number_fixed),
    }


def _jsonable_value(value: Any) -> Any:
    if isinstance(value, date | time):
        return value.isoformat(timespec="minutes") if isinstance(value, time) else value.isoformat()
    return value


def allowed_meeting_events(actor: User | None, meeting: Meeting) -> list[str]:
    from workflow.states.machine import events_from

    return events_from(meeting) if can_manage_meetings(actor) else []
