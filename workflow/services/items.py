"""Use cases of an item: file, update, and every item event that is not about a meeting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflow.errors import CONFLICT_MESSAGE, Conflict, Forbidden
from workflow.extensions import db
from workflow.models import DEFAULT_ROUTE, Item, ItemRouteStep, Meeting, User
from workflow.permissions import can_edit_item, can_file_item, can_fire_item_event
from workflow.services.item_fields import apply_item_fields, validate_item_fields
from workflow.states.machine import check_allowed, events_from, fire
from workflow.states.states import ItemStatus

FORBIDDEN_MESSAGE = "この操作を行う権限がありません。"


def check_version(row: Item | Meeting, version: int | None) -> None:
    """Refuse a write based on a stale read: the client sends the version it saw."""
    if version is not None and version != row.version:
        raise Conflict(
            CONFLICT_MESSAGE,
            {"current_version": row.version, "sent_version": version},
        )


def file_item(actor: User, data: Mapping[str, Any]) -> Item:
    """Create a draft item from 様式２ fields (``title`` and ``section`` required)."""
    clean = validate_item_fields(data, creating=True)
    if not can_file_item(actor, clean["section"]):
        raise Forbidden("ほかの課の案件は作成できません。")
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
    """Change 様式２ fields while the item is a draft, returned or being amended."""
    if not can_edit_item(actor, item):
        if item.status not in (ItemStatus.DRAFT, ItemStatus.RETURNED, ItemStatus.AMENDING):
            raise Conflict(
                f"この案件は現在「{item.status.label}」のため、編集できません。",
                {"status": item.status.value, "allowed_events": allowed_events(actor, item)},
            )
        raise Forbidden("この案件を編集する権限がありません。")
    check_version(item, version)
    clean = validate_item_fields(data, creating=False)
    if "section" in clean and not can_file_item(actor, clean["section"]):
        raise Forbidden("案件をほかの課へ移すことはできません。")
    apply_item_fields(item, clean)
    db.session.flush()
    return item


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
    authorize(actor, item, "submit", version)
    return fire_item(actor, item, "submit")


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
