"""Notices in the API (/api/v1/me/notices): the answers' shapes."""

from __future__ import annotations

from typing_extensions import TypedDict

from workflow.schemas.types import Id, IsoDateTime, as_string

MaybeId = as_string("integer", nullable=True, minimum=1)


class Notice(TypedDict):
    """A notice to the token's user (DOMAIN §11)."""

    id: Id
    kind: str
    item_id: MaybeId
    meeting_id: MaybeId
    title: str
    body: str
    url: str
    created_at: IsoDateTime
    read_at: as_string(nullable=True, format="date-time")


class NoticeList(TypedDict):
    unread: int
    notices: list[Notice]
    total: int
