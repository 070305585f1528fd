"""One dispatch from an event's name to the service that fires it, for pages and the API alike.

A page's button and an API call name an event; :func:`fire_item_event` and
:func:`fire_meeting_event` find its service here and call it with the parameters it takes. The
service checks permission, the version read and the state once (``items.authorize``, or the
meeting's own check), so neither caller checks them again.

The events of an agenda entry (``schedule``, ``unschedule``, ``record_outcome``) name a meeting
too and have their own screens and endpoints; they are not dispatched by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workflow.errors import UnknownEvent
from workflow.models import Item, Meeting, User
from workflow.services import items, meetings, public_comment


@dataclass(frozen=True)
class EventService:
    """The service an event name stands for and the keyword parameters it takes (besides
    ``version``)."""

    service: Callable[..., Any]
    params: frozenset[str] = frozenset()


ITEM_EVENTS: dict[str, EventService] = {
    "submit": EventService(items.submit, frozenset({"comment"})),
    "return": EventService(items.return_item, frozenset({"reason"})),
    "accept": EventService(items.accept),
    "withdraw": EventService(items.withdraw, frozenset({"reason"})),
    "submit_amendment": EventService(items.submit_amendment),
    "confirm_amendment": EventService(items.confirm_amendment),
    "return_amendment": EventService(items.return_amendment, frozenset({"reason"})),
    "conclude": EventService(items.conclude),
    "open_public_comment": EventService(
        public_comment.open_public_comment,
        frozenset({"published_on", "closes_on", "how_to_submit", "shortened_reason"}),
    ),
    "close_public_comment": EventService(public_comment.close, frozenset({"on"})),
    "publish_comment_results": EventService(
        public_comment.publish_results, frozenset({"changes_made"})
    ),
}

MEETING_EVENTS: dict[str, EventService] = {
    "hold": EventService(meetings.hold),
    "confirm": EventService(meetings.confirm),
    "publish": EventService(meetings.publish),
    "unpublish": EventService(meetings.unpublish, frozenset({"reason"})),
    "cancel": EventService(meetings.cancel, frozenset({"reason"})),
}


def _call(table: dict[str, EventService], noun: str, event: str, *args: Any, **params: Any) -> Any:
    spec = table.get(event)
    if spec is None:
        raise UnknownEvent(f"{noun}の操作「{event[:40]}」はありません。", {"events": list(table)})
    unknown = params.keys() - spec.params - {"version"}
    if unknown:  # a caller's mistake, not the user's: the table says what each service takes
        raise TypeError(f"event {event!r} takes no parameter {', '.join(sorted(unknown))}")
    return spec.service(*args, **params)


def fire_item_event(
    actor: User, item: Item, event: str, *, version: int | None = None, **params: Any
) -> Any:
    """Fire the item event *event* through its service (permission and state checked there)."""
    return _call(ITEM_EVENTS, "案件", event, actor, item, version=version, **params)


def fire_meeting_event(
    actor: User, meeting: Meeting, event: str, *, version: int | None = None, **params: Any
) -> Meeting:
    """Fire the meeting event *event* (開催済にする・議事録の確定・公開・公開取消・中止) through its
    service."""
    return _call(MEETING_EVENTS, "会議", event, actor, meeting, version=version, **params)
