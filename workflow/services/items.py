"""Use cases of an item: file, update, and every item event that is not about a meeting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from workflow.errors import CONFLICT_MESSAGE, Conflict, Forbidden, ValidationFailed
from workflow.extensions import db
from workflow.models import (
    AgendaEntry,
    HistoryEvent,
    Item,
    ItemVersion,
    Meeting,
    MeetingKind,
    Opinion,
    Section,
    User,
)
from workflow.permissions import EDITABLE, can_edit_item, can_file_item, can_fire_item_event
from workflow.queries.versions import form_fields
from workflow.services import versions
from workflow.services.item_fields import apply_item_fields, validate_item_fields
from workflow.states.machine import check_allowed, events_from, fire
from workflow.states.routing import passed_position
from workflow.states.states import ItemStatus, because

FORBIDDEN_MESSAGE = "この操作を行う権限がありません。"


def check_version(row: Item | Meeting, version: int | None) -> None:
    """Refuse a write based on a stale read: the client sends the version it saw."""
    if version is not None and version != row.version:
        raise Conflict(
            CONFLICT_MESSAGE,
            {"current_version": row.version, "sent_version": version},
        )


def merged_into(section: Section) -> Section | None:
    """The section a merged one joined (None: not merged)."""
    if section.merged_into_id is None:
        return None
    return db.session.get(Section, section.merged_into_id)


def retired_phrase(section: Section) -> str:
    """「課「X」は廃止されています」, naming where it went when it was merged, for every refusal
    of a retired section."""
    if (into := merged_into(section)) is not None:
        return f"課「{section.name}」は「{into.name}」に統合されたため廃止されています"
    return f"課「{section.name}」は廃止されています"


def check_section_open(section: Section) -> None:
    """A retired (廃止) or merged section takes no new item; the ones it has stay as they are."""
    if section.retired_at is not None:
        raise ValidationFailed.field(
            "section", f"{retired_phrase(section)}。案件を登録できません。"
        )


def file_item(actor: User, data: Mapping[str, Any]) -> Item:
    """Create a draft item from 様式２ fields (``title`` and ``section`` required).

    Nothing is filled in for the caller: a field not sent stays empty (the request page
    pre-fills its form instead), and :func:`submit` says what a request still lacks.
    """
    clean = validate_item_fields(data, creating=True)
    if not can_file_item(actor, clean["section"]):
        raise Forbidden("ほかの課の案件は作成できません。")
    check_section_open(clean["section"])
    item = Item(title=clean["title"], section=clean["section"], created_by_id=actor.id)
    apply_item_fields(item, clean)
    db.session.add(item)
    db.session.flush()
    return item


def update_item(
    actor: User, item: Item, data: Mapping[str, Any], *, version: int | None = None
) -> Item:
    """Change 様式２ fields while the item is a draft, returned, between meetings (accepted) or
    being amended. After the first submission each save that changes a field is a new version
    with its history row (DOMAIN §9)."""
    if not can_edit_item(actor, item):
        if item.status not in EDITABLE:
            raise Conflict(
                f"この案件は{because(item.status)}、編集できません。",
                {"status": item.status.value, "allowed_events": allowed_events(actor, item)},
            )
        raise Forbidden("この案件を編集する権限がありません。")
    check_version(item, version)
    clean = validate_item_fields(data, creating=False)
    if "section" in clean and not can_file_item(actor, clean["section"]):
        raise Forbidden("案件をほかの課へ移すことはできません。")
    if "section" in clean and clean["section"] is not item.section:
        check_section_open(clean["section"])
    filed = item.status != ItemStatus.DRAFT
    if filed:
        check_revision(item, clean)
        versions.current_version(item, actor)  # an item filed before versions: its form as v1
    elif "opinion_notes" in clean and clean["opinion_notes"]:
        raise ValidationFailed.field(
            "opinion_notes", "申込前の案件には、意見への追記はできません。"
        )
    apply_item_fields(item, clean)
    db.session.flush()
    if filed:
        versions.keep_revision(item, actor)
    return item


def check_revision(item: Item, clean: Mapping[str, Any]) -> None:
    """DOMAIN §9: the kinds already passed stay on the route; notes go under earlier opinions."""
    decided = db.session.execute(
        select(AgendaEntry.id, Meeting.kind, Meeting.second_kind)
        .join(Meeting, AgendaEntry.meeting_id == Meeting.id)
        .where(AgendaEntry.item_id == item.id, AgendaEntry.outcome.is_not(None))
    ).all()
    if "route" in clean:
        passed = {k for row in decided for k in (row.kind, row.second_kind) if k}
        keep = item.route[: passed_position(item.route, passed) + 1]
        route = clean["route"]
        if route[: len(keep)] != keep:
            names = "・".join(_kind_names(keep))
            raise ValidationFailed.field(
                "route", f"審議を終えた会議（{names}）は、経路の先頭から変更できません。"
            )
        if item.level_kind and item.level_kind not in route[len(keep) :]:
            (name,) = _kind_names([item.level_kind])
            raise ValidationFailed.field(
                "route", f"この案件は{name}での審議を待っています。経路から外せません。"
            )
    if clean.get("opinion_notes"):
        allowed = set(
            db.session.scalars(
                select(Opinion.id).where(Opinion.entry_id.in_([row.id for row in decided]))
            )
        )
        ids = [note["opinion_id"] for note in clean["opinion_notes"]]
        if len(set(ids)) != len(ids):
            raise ValidationFailed.field(
                "opinion_notes", "一つの意見への追記は一つにまとめてください。"
            )
        if not set(ids) <= allowed:
            raise ValidationFailed.field(
                "opinion_notes", "追記できるのは、この案件のこれまでの会議での意見だけです。"
            )


def _kind_names(codes: list[str]) -> list[str]:
    names = dict(db.session.execute(select(MeetingKind.code, MeetingKind.name)).all())
    return [names.get(code, code) for code in codes]


def allowed_events(actor: User | None, item: Item) -> list[str]:
    """The item events *actor* may fire now: the machine's, filtered by permission."""
    return [e for e in events_from(item) if can_fire_item_event(actor, item, e)]


def authorize(actor: User | None, item: Item, event: str, version: int | None = None) -> None:
    """The one check before an item event: permission (403), the version read, the state (409).

    Every item event's service calls it first, before validating its own input, so a user who
    may not act learns nothing more; :func:`fire_item` then fires without checking again.
    """
    if not can_fire_item_event(actor, item, event):
        raise Forbidden(FORBIDDEN_MESSAGE)
    check_version(item, version)
    check_allowed(item, event)


def fire_item(actor: User, item: Item, event: str, **context) -> Item:
    """Fire *event*, which :func:`authorize` allowed, and flush (see :func:`fire`)."""
    fire(item, event, actor=actor, **context)
    db.session.flush()
    return item


# What a request must carry before it goes to the secretariat (issue 20): the keys of
# ``details["fields"]`` and the words for each, naming the field as the form labels it.
MISSING_MESSAGES = {
    "title": "案件名を入力してください。",
    "applied_on": "申込日を入力してください。",
    "target_kind": "付議先を選んでください。",
    "route": "審議の経路を一つ以上選んでください。",
    "section": "課を選んでください。",
    "bureau": "局・区を入力してください。",
    "summary": "概要を入力してください。",
    "discussion_points": "審議内容（論点）を一つ以上入力してください。",
}
INCOMPLETE_MESSAGE = (
    "申込書に足りない項目があります。次の項目を入力してから、もう一度申し込んでください。"
)
TARGET_OFF_ROUTE = "付議先は、審議の経路にある会議から選んでください。"
UNCHANGED_MESSAGE = (
    "差し戻された後、申込書が変更されていません。差戻しの理由に沿って申込書を修正するか、"
    "「差戻しへの回答」に対応を書いてから、もう一度申し込んでください。"
)


def missing_fields(item: Item) -> dict[str, list[str]]:
    """Every required field of the request that is empty or inconsistent, with its message:
    案件名, 申込日, 付議先 (a ladder kind on the route), 審議の経路, 課, 局・区, 概要 and at
    least one 論点. Nothing else is required."""
    from workflow.models import review_kinds

    missing: list[str] = []
    if not (item.title or "").strip():
        missing.append("title")
    if item.applied_on is None:
        missing.append("applied_on")
    route = item.route
    if not item.target_kind:
        missing.append("target_kind")
    if not route:
        missing.append("route")
    if item.section is None:
        missing.append("section")
    if not (item.bureau or "").strip():
        missing.append("bureau")
    if not (item.summary or "").strip():
        missing.append("summary")
    if not any((p.text or "").strip() for p in item.discussion_points):
        missing.append("discussion_points")
    fields = {name: [MISSING_MESSAGES[name]] for name in MISSING_MESSAGES if name in missing}
    if item.target_kind and route:
        if item.target_kind in review_kinds():
            (name,) = _kind_names([item.target_kind])
            fields["target_kind"] = [
                f"{name}は上部庁議へ向かう途中で経由する会議のため、付議先にはできません。"
                + TARGET_OFF_ROUTE
            ]
        elif item.target_kind not in route:
            fields["target_kind"] = [TARGET_OFF_ROUTE]
    return fields


def last_return(item: Item) -> HistoryEvent | None:
    """The history row that sent the item back (差戻し, or 差し戻しとする at a meeting)."""
    return db.session.scalar(
        select(HistoryEvent)
        .where(
            HistoryEvent.item_id == item.id,
            HistoryEvent.to_state == ItemStatus.RETURNED.value,
            HistoryEvent.from_state != ItemStatus.RETURNED.value,
        )
        .order_by(HistoryEvent.id.desc())
        .limit(1)
    )


def changed_since_return(item: Item) -> bool:
    """Whether the form differs from the version it had when it was last sent back.

    That version is the latest saved before the return's history row: the 「様式２の修正」
    rows (``revise``) name each version they made, in the history's order.
    """
    returned = last_return(item)
    if returned is None:
        return True
    numbers = db.session.scalars(
        select(HistoryEvent.params).where(
            HistoryEvent.item_id == item.id,
            HistoryEvent.event == versions.REVISE_EVENT,
            HistoryEvent.id < returned.id,
        )
    ).all()
    number = max((p.get("version_number", 1) for p in numbers if p), default=1)
    then = db.session.scalar(
        select(ItemVersion.fields).where(
            ItemVersion.item_id == item.id, ItemVersion.number == number
        )
    )
    # An item filed before versions has none until its first save after the return, which
    # keeps the form as it stood then as version 1.
    return then is None or then != form_fields(item)


def check_submittable(item: Item, comment: str = "") -> None:
    """Raise ValidationFailed naming every field that keeps the request from going now: what
    :func:`missing_fields` finds, and a returned request unchanged since its return without a
    written answer (*comment*). The pages ask this before their confirmation step too."""
    fields = missing_fields(item)
    unchanged = (
        item.status == ItemStatus.RETURNED and not comment and not changed_since_return(item)
    )
    if unchanged:
        fields["comment"] = [UNCHANGED_MESSAGE]
    if fields:
        only_unchanged = unchanged and len(fields) == 1
        raise ValidationFailed(UNCHANGED_MESSAGE if only_unchanged else INCOMPLETE_MESSAGE, fields)


def check_ready_to_submit(
    actor: User | None, item: Item, comment: str = "", version: int | None = None
) -> None:
    """Everything :func:`submit` asks before it fires: permission, version and state
    (:func:`authorize`), then a complete request (:func:`check_submittable`). The pages ask it
    before their confirmation step."""
    authorize(actor, item, "submit", version)
    check_submittable(item, comment)


def submit(actor: User, item: Item, *, version: int | None = None, comment: str = "") -> Item:
    """Send the request to the secretariat; the first submission is version 1 of the form.

    The request must be complete (:func:`missing_fields`); every missing field is named at
    once. A returned request goes again only if its form changed since the return or
    *comment* answers the return in words; the comment is kept on the history row.
    Each (re)submission decides 締切後 anew (DOMAIN §11), before the history row is written:
    its notice says whether the request came late.
    """
    from workflow import deadlines
    from workflow.services import public_comment

    comment = (comment or "").strip()
    check_ready_to_submit(actor, item, comment, version)
    awaited = item.level_kind or (item.route[0] if item.route else None)
    item.late = deadlines.is_late(awaited, public_comment.today())
    fire_item(actor, item, "submit", reason=comment)
    versions.current_version(item, actor)
    return item


def return_item(actor: User, item: Item, reason: str, *, version: int | None = None) -> Item:
    authorize(actor, item, "return", version)
    return fire_item(actor, item, "return", reason=reason)


def accept(actor: User, item: Item, *, version: int | None = None) -> Item:
    """Take the item in; it then awaits the first kind of its route."""
    authorize(actor, item, "accept", version)

    def await_first_kind() -> None:
        item.level_kind = item.route[0]

    return fire_item(actor, item, "accept", effect=await_first_kind)


def submit_amendment(actor: User, item: Item, *, version: int | None = None) -> Item:
    authorize(actor, item, "submit_amendment", version)
    return fire_item(actor, item, "submit_amendment")


def confirm_amendment(actor: User, item: Item, *, version: int | None = None) -> Item:
    """The secretariat confirms the amended form (修正確認): the item is approved."""
    authorize(actor, item, "confirm_amendment", version)
    return fire_item(actor, item, "confirm_amendment")


def return_amendment(actor: User, item: Item, reason: str, *, version: int | None = None) -> Item:
    """The secretariat sends the amendment back with its reason: the department amends again."""
    authorize(actor, item, "return_amendment", version)
    return fire_item(actor, item, "return_amendment", reason=reason)


def conclude(actor: User, item: Item, *, version: int | None = None) -> Item:
    authorize(actor, item, "conclude", version)
    return fire_item(actor, item, "conclude")


def withdraw(actor: User, item: Item, reason: str, *, version: int | None = None) -> Item:
    """Withdraw the item; from public comment this records that the draft was abandoned."""
    from workflow.services import meetings, public_comment

    authorize(actor, item, "withdraw", version)
    was = item.status

    def leave_workflow() -> None:
        if was == ItemStatus.SCHEDULED:
            meetings.drop_open_entry(item)
        if was in (ItemStatus.PUBLIC_COMMENT, ItemStatus.PUBLIC_COMMENT_CLOSED):
            public_comment.abandon(actor, item, reason)
        item.level_kind = None

    return fire_item(actor, item, "withdraw", reason=reason, effect=leave_workflow)
