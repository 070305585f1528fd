"""Use cases of an item: file, update, and every item event that is not about a meeting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from workflow.errors import CONFLICT_MESSAGE, Conflict, Forbidden, ValidationFailed
from workflow.extensions import db
from workflow.models import (
    DEFAULT_ROUTE,
    AgendaEntry,
    Item,
    ItemRouteStep,
    Meeting,
    MeetingKind,
    Opinion,
    Section,
    User,
)
from workflow.permissions import EDITABLE, can_edit_item, can_file_item, can_fire_item_event
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
    """Create a draft item from 様式２ fields (``title`` and ``section`` required)."""
    clean = validate_item_fields(data, creating=True)
    if not can_file_item(actor, clean["section"]):
        raise Forbidden("ほかの課の案件は作成できません。")
    check_section_open(clean["section"])
    item = Item(title=clean["title"], section=clean["section"], created_by_id=actor.id)
    if "route" not in clean:
        item.route_steps = [ItemRouteStep(kind=k) for k in DEFAULT_ROUTE]
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


def submit(actor: User, item: Item, *, version: int | None = None) -> Item:
    """Send the request to the secretariat; the first submission is version 1 of the form.

    Each (re)submission decides 締切後 anew (DOMAIN §11), before the history row is written:
    its notice says whether the request came late.
    """
    from workflow import deadlines
    from workflow.services import public_comment

    authorize(actor, item, "submit", version)
    awaited = item.level_kind or (item.route[0] if item.route else None)
    item.late = deadlines.is_late(awaited, public_comment.today())
    fire_item(actor, item, "submit")
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
