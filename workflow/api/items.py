"""/api/v1/items: file, list, read, edit, and fire the item events; public-comment opinions."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from workflow.api.common import (
    bp,
    current_api_user,
    deny,
    json_body,
    only_keys,
    optional_version,
    query_int,
    readable_item,
    require_user,
)
from workflow.api.serializers import comment_opinion_json, item_json, list_row_json
from workflow.errors import Forbidden, NotFound, UnknownEvent, ValidationFailed
from workflow.permissions import can_manage_public_comment, can_read_comment_opinions
from workflow.queries.items import ItemFilter, count, list_rows
from workflow.services import events, public_comment
from workflow.services import items as item_service
from workflow.services.item_fields import _date, _Errors
from workflow.services.transaction import commit

# Keys of an item response that are not 様式２ input: sent back in a PATCH, they are ignored,
# so a client may PATCH the document it read.
READ_ONLY = frozenset(
    {
        "id",
        "status",
        "status_label",
        "level_kind",
        "created_at",
        "updated_at",
        "review_dates",
        "section_managers_attendance",
        "section_managers_result",
        "prior_opinions",
        "deliberations",
        "public_comment_process",
        "allowed_events",
    }
)

# The events fired here and the body each takes (besides ``version``).
EVENT_PARAMS: dict[str, frozenset[str]] = {
    "submit": frozenset(),
    "return": frozenset({"reason"}),
    "accept": frozenset(),
    "withdraw": frozenset({"reason"}),
    "submit_amendment": frozenset(),
    "conclude": frozenset(),
    "open_public_comment": frozenset(
        {"published_on", "closes_on", "how_to_submit", "shortened_reason"}
    ),
    "close_public_comment": frozenset({"today"}),  # ``today`` only in TESTING
    "publish_comment_results": frozenset({"changes_made"}),
}
MEETING_EVENTS = ("schedule", "unschedule", "record_outcome")


def _form_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Body → the mapping :func:`validate_item_fields` takes (``history_rows`` = ``history``)."""
    data = {k: v for k, v in data.items() if k not in READ_ONLY}
    if "history_rows" in data:
        # GET gives the event history as ``history``: with ``history_rows`` present, that is it.
        data["history"] = data.pop("history_rows")
    return data


@bp.post("/items")
def create_item() -> ResponseReturnValue:
    user = require_user()
    data = json_body()
    item = item_service.file_item(user, _form_fields(data))
    commit()
    return jsonify(item_json(item, user)), 201


@bp.get("/items")
def index_items() -> ResponseReturnValue:
    """The item list: the same filters, items and order as the page /items."""
    user = current_api_user()
    item_filter = ItemFilter.from_args(request.args)
    page = query_int("page", 1)
    per_page = query_int("per_page", 50, maximum=200)
    rows = list_rows(user, item_filter, offset=(page - 1) * per_page, limit=per_page)
    return jsonify({"items": [list_row_json(r) for r in rows], "total": count(user, item_filter)})


@bp.get("/items/<int:item_id>")
def show_item(item_id: int) -> ResponseReturnValue:
    item = readable_item(item_id)
    return jsonify(item_json(item, current_api_user()))


@bp.patch("/items/<int:item_id>")
def update_item(item_id: int) -> ResponseReturnValue:
    user = require_user()
    item = readable_item(item_id)
    data = json_body()
    if data.get("version") is None:
        raise ValidationFailed.field("version", "読み込んだときの version を指定してください。")
    version = optional_version(data)
    item_service.update_item(user, item, _form_fields(data), version=version)
    commit()
    return jsonify(item_json(item, user))


@bp.post("/items/<int:item_id>/events/<event>")
def fire_item_event(item_id: int, event: str) -> ResponseReturnValue:
    user = require_user()
    if event not in EVENT_PARAMS:
        where = (
            "会議の議題（/api/v1/meetings/{id}/entries）で行ってください。"
            if event in MEETING_EVENTS
            else "次のいずれかを指定してください: " + "、".join(EVENT_PARAMS)
        )
        raise UnknownEvent(
            f"案件の操作「{event[:40]}」はここではできません。{where}",
            {"events": list(EVENT_PARAMS)},
        )
    item = readable_item(item_id)
    data = json_body()
    version = optional_version(data)
    only_keys(data, EVENT_PARAMS[event])
    events.fire_item_event(user, item, event, version=version, **_event_params(event, data))
    commit()
    return jsonify(item_json(item, user))


def _event_params(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """The body as the event's service takes it (see workflow.services.events.ITEM_EVENTS)."""
    match event:
        case "return" | "withdraw":
            return {"reason": _reason(data)}
        case "open_public_comment":
            return {
                "published_on": data.get("published_on"),
                "closes_on": data.get("closes_on"),
                "how_to_submit": data.get("how_to_submit"),
                "shortened_reason": data.get("shortened_reason") or "",
            }
        case "close_public_comment":
            return {"on": _test_today(data)}
        case "publish_comment_results":
            return {"changes_made": data.get("changes_made") or ""}
    return {}


def _reason(data: dict[str, Any]) -> str:
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationFailed.field("reason", "理由は文字列で入力してください。")
    return reason or ""


def _test_today(data: dict[str, Any]):
    """``today`` lets tests close a period on a chosen day; in production the city's today."""
    if "today" not in data:
        return None
    if not current_app.testing:
        raise ValidationFailed.field("today", "この項目は指定できません。")
    errors = _Errors()
    day = _date(errors, "today", data["today"])
    if errors.fields:
        raise ValidationFailed("日付に誤りがあります。", errors.fields)
    return day


# -- パブリックコメント: opinions ------------------------------------------------------------


def _process_for_reading(item_id: int):
    item = readable_item(item_id)
    process = item.comment_process
    if process is None:
        raise NotFound("この案件の意見募集はありません。")
    if not can_read_comment_opinions(current_api_user(), process):
        raise deny("意見募集")
    return item, process


@bp.get("/items/<int:item_id>/public-comment/opinions")
def list_comment_opinions(item_id: int) -> ResponseReturnValue:
    _item, process = _process_for_reading(item_id)
    return jsonify({"opinions": [comment_opinion_json(o) for o in process.opinions]})


@bp.post("/items/<int:item_id>/public-comment/opinions")
def add_comment_opinion(item_id: int) -> ResponseReturnValue:
    user = require_user()
    item = readable_item(item_id)
    if not can_manage_public_comment(user):
        raise Forbidden("パブリックコメントの操作は庁議事務局だけが行えます。")
    data = json_body()
    only_keys(data, {"summary", "submitter_kind", "submitter_no"})
    submitter_no = data.get("submitter_no")
    if submitter_no is not None and (
        isinstance(submitter_no, bool) or not isinstance(submitter_no, int) or submitter_no > 9999
    ):
        raise ValidationFailed.field("submitter_no", "提出者番号は1以上9999以下の整数です。")
    opinion = public_comment.add_opinion(
        user,
        item,
        summary=data.get("summary"),
        submitter_kind=data.get("submitter_kind") or "",
        submitter_no=submitter_no,
    )
    commit()
    return jsonify(comment_opinion_json(opinion)), 201


@bp.put("/items/<int:item_id>/public-comment/opinions/<int:number>")
def update_comment_opinion(item_id: int, number: int) -> ResponseReturnValue:
    user = require_user()
    item = readable_item(item_id)
    if not can_manage_public_comment(user):
        raise Forbidden("パブリックコメントの操作は庁議事務局だけが行えます。")
    data = json_body()
    opinion = public_comment.update_opinion(user, item, number, data)
    commit()
    return jsonify(comment_opinion_json(opinion))
