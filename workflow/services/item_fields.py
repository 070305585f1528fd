"""様式２ fields: check a mapping of DOMAIN §3 field names and apply it to an item.

The API sends these keys as JSON; the pages' forms produce the same mapping. Both are checked by
the one declaration in :mod:`workflow.schemas.items`, so the rules and the Japanese messages
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflow.models import (
    Item,
    ItemCoordination,
    ItemDetail,
    ItemDiscussionPoint,
    ItemHistoryRow,
    ItemOpinionNote,
    ItemRouteStep,
)
from workflow.schemas.items import ItemChanges, ItemInput
from workflow.schemas.types import validate

STANDARD_DETAIL_HEADINGS = (
    "事案の概要",
    "事業スケジュール",
    "市民等への周知、合意形成",
    "事業経費・財源",
    "財源確保の考え方",
    "事業実施の効果",
)


def validate_item_fields(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Check *data* (DOMAIN §3 keys, plus ``route``); return the keys given, or raise
    ValidationFailed. ``creating`` requires ``title`` and ``section``."""
    return validate(ItemInput if creating else ItemChanges, data).given()


def apply_item_fields(item: Item, clean: Mapping[str, Any]) -> None:
    """Write validated values (from :func:`validate_item_fields`) onto *item*."""
    for key, value in clean.items():
        match key:
            case "section":
                item.section = value  # 局・区 and 部 as sent: the page pre-fills them, not this
            case "discussion_points":
                item.discussion_points = [ItemDiscussionPoint(text=t) for t in value]
            case "history":
                item.history_rows = [ItemHistoryRow(**row) for row in value]
            case "coordination":
                item.coordination = [ItemCoordination(**row) for row in value]
            case "details":
                item.details = [ItemDetail(**row) for row in value]
            case "route":
                item.route_steps = [ItemRouteStep(kind=k) for k in value]
            case "opinion_notes":
                item.opinion_notes = [ItemOpinionNote(**row) for row in value]
            case "public_comment":
                item.public_comment_planned = value["planned"]
                item.public_comment_period_text = value["period_text"]
            case "council_report":
                item.council_channel = value["channel"]
                item.council_timing = value["timing"]
                item.council_regular_session = value["regular_session"]
            case "ordinance":
                item.ordinance_kind = value["kind"]
                item.ordinance_change = value["change"]
                item.ordinance_council_submission = value["council_submission"]
                item.ordinance_submission_label = value["submission_label"]
            case _:
                setattr(item, key, value)
