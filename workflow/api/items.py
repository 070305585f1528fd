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
    optional_version,
    query_int,
    readable_item,
    require_user,
    written,
)
from workflow.api.serializers import comment_opinion_json, iso, item_json, list_row_json
from workflow.errors import Forbidden, NotFound, UnknownEvent, ValidationFailed
from workflow.permissions import can_manage_public_comment, can_read_comment_opinions
from workflow.queries import versions
from workflow.queries.items import ItemFilter, count, list_rows
from workflow.schemas.comments import CommentOpinionList, OpinionCreate
from workflow.schemas.events import ITEM_EVENT_BODIES, ClosePublicComment
from workflow.schemas.items import ItemList, VersionList
from workflow.schemas.types import validate
from workflow.services import events, public_comment
from workflow.services import items as item_service

# Keys of an item response that are not 様式２ input: sent back in a PATCH, they are ignored,
# so a client may PATCH the document it read.
READ_ONLY = frozenset(
    {
        "id",
        "status",
        "status_label",
        "level_kind",
        "late",
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

MEETING_EVENTS = ("schedule", "unschedule", "record_outcome")


def _form_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Body → the 様式２ mapping the services check (:class:`workflow.schemas.items.ItemInput`)."""
    return {k: v for k, v in data.items() if k not in READ_ONLY}


@bp.post("/items")
def create_item() -> ResponseReturnValue:
    user = require_user()
    data = json_body()
    item = item_service.file_item(user, _form_fields(data))
    return written(lambda: item_json(item, user), 201)


@bp.get("/items")
def index_items() -> ResponseReturnValue:
    """The item list: the same filters, items and order as the page /items."""
    user = current_api_user()
    item_filter = ItemFilter.from_args(request.args)
    page = query_int("page", 1)
    per_page = query_int("per_page", 50, maximum=200)
    rows = list_rows(user, item_filter, offset=(page - 1) * per_page, limit=per_page)
    answer: ItemList = {
        "items": [list_row_json(r) for r in rows],
        "total": count(user, item_filter),
    }
    return jsonify(answer)


@bp.get("/items/<int:item_id>")
def show_item(item_id: int) -> ResponseReturnValue:
    item = readable_item(item_id)
    return jsonify(item_json(item, current_api_user()))


@bp.get("/items/<int:item_id>/versions")
def item_versions(item_id: int) -> ResponseReturnValue:
    """The versions of the item's 様式２ (DOMAIN §9), oldest first; staff only."""
    require_user()
    item = readable_item(item_id)
    frozen = versions.frozen_for(item)
    answer: VersionList = {
        "versions": [
            {
                "number": v.number,
                "created_at": iso(v.created_at),
                "created_by": v.created_by.login if v.created_by else None,
                "meeting_ids": frozen.get(v.id, []),
            }
            for v in versions.versions_of(item)
        ]
    }
    return jsonify(answer)


@bp.get("/items/<int:item_id>/versions/<int:number>")
def item_version(item_id: int, number: int) -> ResponseReturnValue:
    """One version: the 様式２ fields as saved, with the keys ``GET /items/{id}`` uses."""
    require_user()
    item = readable_item(item_id)
    version = versions.version_of(item, number)
    if version is None:
        raise NotFound(f"この案件に第{number}版はありません。")
    return jsonify(version.fields)


@bp.patch("/items/<int:item_id>")
def update_item(item_id: int) -> ResponseReturnValue:
    user = require_user()
    item = readable_item(item_id)
    data = json_body()
    if data.get("version") is None:
        raise ValidationFailed.field("version", "読み込んだときの version を指定してください。")
    version = optional_version(data)
    item_service.update_item(user, item, _form_fields(data), version=version)
    return written(lambda: item_json(item, user))


@bp.post("/items/<int:item_id>/events/<event>")
def fire_item_event(item_id: int, event: str) -> ResponseReturnValue:
    user = require_user()
    if event not in ITEM_EVENT_BODIES:
        where = (
            "会議の議題（/api/v1/meetings/{id}/entries）で行ってください。"
            if event in MEETING_EVENTS
            else "次のいずれかを指定してください: " + "、".join(ITEM_EVENT_BODIES)
        )
        raise UnknownEvent(
            f"案件の操作「{event[:40]}」はここではできません。{where}",
            {"events": list(ITEM_EVENT_BODIES)},
        )
    item = readable_item(item_id)
    body = validate(ITEM_EVENT_BODIES[event], json_body())
    events.fire_item_event(user, item, event, version=body.version, **_event_params(event, body))
    return written(lambda: item_json(item, user))


def _event_params(event: str, body) -> dict[str, Any]:
    """The body as the event's service takes it (see workflow.services.events.ITEM_EVENTS)."""
    if event == "close_public_comment":
        return {"on": _test_today(body)}
    return {name: getattr(body, name) for name in type(body).model_fields if name != "version"}


def _test_today(body: ClosePublicComment):
    """``today`` lets tests close a period on a chosen day; in production the city's today."""
    if "today" not in body.model_fields_set:
        return None
    if not current_app.testing:
        raise ValidationFailed.field("today", "この項目は指定できません。")
    return body.today


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
    answer: CommentOpinionList = {"opinions": [comment_opinion_json(o) for o in process.opinions]}
    return jsonify(answer)


@bp.post("/items/<int:item_id>/public-comment/opinions")
def add_comment_opinion(item_id: int) -> ResponseReturnValue:
    user = require_user()
    item = readable_item(item_id)
    if not can_manage_public_comment(user):
        raise Forbidden("パブリックコメントの操作は庁議事務局だけが行えます。")
    body = validate(OpinionCreate, json_body())
    opinion = public_comment.add_opinion(
        user,
        item,
        summary=body.summary,
        submitter_kind=body.submitter_kind,
        submitter_no=body.submitter_no,
    )
    return written(lambda: comment_opinion_json(opinion), 201)


@bp.put("/items/<int:item_id>/public-comment/opinions/<int:number>")
def update_comment_opinion(item_id: int, number: int) -> ResponseReturnValue:
    user = require_user()
    item = readable_item(item_id)
    if not can_manage_public_comment(user):
        raise Forbidden("パブリックコメントの操作は庁議事務局だけが行えます。")
    data = json_body()
    opinion = public_comment.update_opinion(user, item, number, data)
    return written(lambda: comment_opinion_json(opinion))
