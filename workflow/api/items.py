"""/api/v1/items: file, list, read, edit, and fire the item events; public-comment opinions."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue

from workflow.api.common import (
    UnknownEvent,
    bp,
    commit,
    current_api_user,
    deny,
    json_body,
    optional_version,
    query_int,
    query_text,
    readable_item,
    require_user,
)
from workflow.api.pdfs import PUBLISHED_COMMENT
from workflow.api.serializers import comment_opinion_json, item_json, item_summary
from workflow.errors import Forbidden, NotFound, ValidationFailed
from workflow.extensions import db
from workflow.models import MeetingKind
from workflow.permissions import can_fire_item_event, can_manage_public_comment
from workflow.schemas.comments import CommentOpinionList, OpinionCreate
from workflow.schemas.events import ITEM_EVENT_BODIES, ClosePublicComment
from workflow.schemas.items import ItemList
from workflow.schemas.types import validate
from workflow.services import items as item_service
from workflow.services import public_comment
from workflow.services.search import list_items
from workflow.states.states import ItemStatus

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

MEETING_EVENTS = ("schedule", "unschedule", "record_outcome")


def _form_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Body → the 様式２ mapping the services check (:class:`workflow.schemas.items.ItemInput`)."""
    return {k: v for k, v in data.items() if k not in READ_ONLY}


@bp.post("/items")
def create_item() -> ResponseReturnValue:
    user = require_user()
    data = json_body()
    item = item_service.file_item(user, _form_fields(data))
    commit()
    return jsonify(item_json(item, user)), 201


@bp.get("/items")
def index_items() -> ResponseReturnValue:
    user = current_api_user()
    status_value = query_text("status")
    kind = query_text("kind") or None
    try:
        status = ItemStatus(status_value) if status_value else None
    except ValueError:
        allowed = "、".join(s.value for s in ItemStatus)
        raise ValidationFailed.field("status", f"状態は次のいずれかです: {allowed}") from None
    if kind is not None and db.session.get(MeetingKind, kind) is None:
        raise ValidationFailed.field("kind", f"会議の種類「{kind}」はありません。")
    rows, total = list_items(
        user,
        status=status,
        kind=kind,
        q=query_text("q"),
        page=query_int("page", 1),
        per_page=query_int("per_page", 50, maximum=200),
    )
    answer: ItemList = {"items": [item_summary(i) for i in rows], "total": total}
    return jsonify(answer)


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
    version = body.version
    if not can_fire_item_event(user, item, event):
        raise Forbidden("この操作を行う権限がありません。")
    match event:
        case "submit":
            item_service.submit(user, item, version=version)
        case "return":
            item_service.return_item(user, item, body.reason, version=version)
        case "accept":
            item_service.accept(user, item, version=version)
        case "withdraw":
            item_service.withdraw(user, item, body.reason, version=version)
        case "submit_amendment":
            item_service.submit_amendment(user, item, version=version)
        case "conclude":
            item_service.conclude(user, item, version=version)
        case "open_public_comment":
            public_comment.open_public_comment(
                user,
                item,
                published_on=body.published_on,
                closes_on=body.closes_on,
                how_to_submit=body.how_to_submit,
                shortened_reason=body.shortened_reason,
                version=version,
            )
        case "close_public_comment":
            public_comment.close(user, item, on=_test_today(body), version=version)
        case "publish_comment_results":
            public_comment.publish_results(
                user, item, changes_made=body.changes_made, version=version
            )
    commit()
    return jsonify(item_json(item, user))


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
    # The opinions are staff material until the result is published (行政手続法 §43).
    user = current_api_user()
    if user is None and process.status not in PUBLISHED_COMMENT:
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
