"""/api/v1/meetings: create, list, read; the agenda, deliberations, outcomes; hold/confirm/publish."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from workflow.api.common import (
    bp,
    current_api_user,
    int_value,
    is_code,
    json_body,
    only_keys,
    optional_version,
    query_int,
    query_text,
    readable_meeting,
    require_user,
)
from workflow.api.serializers import meeting_json, meeting_summary
from workflow.errors import Forbidden, NotFound, UnknownEvent, ValidationFailed
from workflow.extensions import db
from workflow.models import Item, Meeting, MeetingKind
from workflow.permissions import can_manage_meetings
from workflow.queries.meetings import meetings as readable_meeting_list
from workflow.services import events
from workflow.services import meetings as meeting_service
from workflow.services.item_fields import LINE_MAX, _date, _Errors, _text
from workflow.services.transaction import commit

# The meeting events, as the one dispatch names them (the OpenAPI document lists them).
MEETING_EVENTS = events.MEETING_EVENTS
CREATE_KEYS = {"kind", "date", "number", "chair", "venue", "start_time", "joint_name"}
# Column widths of the meeting's text fields.
TEXT_LIMITS = {"chair": 100, "venue": LINE_MAX, "joint_name": 100}


def _manager() -> Any:
    user = require_user()
    if not can_manage_meetings(user):
        raise Forbidden("会議の操作は庁議事務局だけが行えます。")
    return user


def _time(errors: _Errors, field: str, value: Any) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    errors.add(field, "時刻（HH:MM）で入力してください。")
    return None


@bp.post("/meetings")
def create_meeting() -> ResponseReturnValue:
    user = _manager()
    data = json_body()
    only_keys(data, CREATE_KEYS)
    errors = _Errors()
    kind = data.get("kind")
    if not is_code(kind):
        errors.add("kind", "会議の種類をコードで指定してください。")
    day = _date(errors, "date", data.get("date"))
    if day is None and "date" not in errors.fields:
        errors.add("date", "開催日を入力してください。")
    texts = {k: _text(errors, k, data.get(k), limit) for k, limit in TEXT_LIMITS.items()}
    start = _time(errors, "start_time", data.get("start_time"))
    if errors.fields:
        first = next(iter(errors.fields.values()))[0]
        raise ValidationFailed(f"入力内容に誤りがあります: {first}", errors.fields)
    number = data.get("number")
    meeting = meeting_service.create_meeting(
        user,
        kind=kind,
        date_=day,
        number=None if number is None else int_value(number, "number", maximum=9999),
        start_time=start,
        **texts,
    )
    commit()
    return jsonify(meeting_json(meeting, user)), 201


@bp.get("/meetings")
def index_meetings() -> ResponseReturnValue:
    user = current_api_user()
    kind = query_text("kind")
    if kind and db.session.get(MeetingKind, kind) is None:
        raise ValidationFailed.field("kind", f"会議の種類「{kind}」はありません。")
    fiscal_year = query_int("fiscal_year", 0, maximum=9999)
    rows = readable_meeting_list(user, kind=kind, fiscal_year=fiscal_year)
    return jsonify({"meetings": [meeting_summary(m) for m in rows], "total": len(rows)})


@bp.get("/meetings/<int:meeting_id>")
def show_meeting(meeting_id: int) -> ResponseReturnValue:
    meeting = readable_meeting(meeting_id)
    return jsonify(meeting_json(meeting, current_api_user()))


def _agenda_item(meeting: Meeting, item_id: int) -> Item:
    """The item of an agenda entry named in the URL (404 when it is not on this agenda)."""
    entry = next((e for e in meeting.entries if e.item_id == item_id), None)
    if entry is None:
        raise NotFound("この案件はこの会議の議題にありません。", {"item_id": item_id})
    return entry.item


@bp.post("/meetings/<int:meeting_id>/entries")
def schedule_item(meeting_id: int) -> ResponseReturnValue:
    user = _manager()
    meeting = readable_meeting(meeting_id)
    data = json_body()
    version = optional_version(data)
    only_keys(data, {"item_id", "presenter"})
    if "item_id" not in data:
        raise ValidationFailed.field("item_id", "議題にする案件を指定してください。")
    item = db.session.get(Item, int_value(data["item_id"], "item_id"))
    if item is None:
        raise ValidationFailed.field("item_id", "指定された案件はありません。")
    meeting_service.schedule(user, meeting, item, data.get("presenter") or "", version=version)
    commit()
    return jsonify(meeting_json(meeting, user)), 201


@bp.delete("/meetings/<int:meeting_id>/entries/<int:item_id>")
def unschedule_item(meeting_id: int, item_id: int) -> ResponseReturnValue:
    user = _manager()
    meeting = readable_meeting(meeting_id)
    item = _agenda_item(meeting, item_id)
    version = optional_version(json_body())
    meeting_service.unschedule(user, meeting, item, version=version)
    commit()
    return jsonify(meeting_json(meeting, user))


@bp.put("/meetings/<int:meeting_id>/entries/<int:item_id>")
def record_deliberation(meeting_id: int, item_id: int) -> ResponseReturnValue:
    user = _manager()
    meeting = readable_meeting(meeting_id)
    item = _agenda_item(meeting, item_id)
    data = json_body()
    version = optional_version(data)
    meeting_service.record_deliberation(user, meeting, item, data, version=version)
    commit()
    return jsonify(meeting_json(meeting, user))


@bp.post("/meetings/<int:meeting_id>/entries/<int:item_id>/outcome")
def record_outcome(meeting_id: int, item_id: int) -> ResponseReturnValue:
    user = _manager()
    meeting = readable_meeting(meeting_id)
    item = _agenda_item(meeting, item_id)
    data = json_body()
    version = optional_version(data)
    only_keys(data, {"outcome", "forward_to"})
    outcome, forward_to = data.get("outcome"), data.get("forward_to")
    if not isinstance(outcome, str):
        raise ValidationFailed.field("outcome", "結果（outcome）を指定してください。")
    if forward_to is not None and not is_code(forward_to):
        raise ValidationFailed.field("forward_to", "付議先は会議の種類のコードで指定してください。")
    meeting_service.record_outcome(user, meeting, item, outcome, forward_to, version=version)
    commit()
    return jsonify(meeting_json(meeting, user))


@bp.post("/meetings/<int:meeting_id>/events/<event>")
def fire_meeting_event(meeting_id: int, event: str) -> ResponseReturnValue:
    user = require_user()  # whether they may: the event's service says, once
    if event not in MEETING_EVENTS:
        raise UnknownEvent(
            f"会議の操作「{event[:40]}」はありません。次のいずれかです: "
            + "、".join(MEETING_EVENTS),
            {"events": list(MEETING_EVENTS)},
        )
    meeting = readable_meeting(meeting_id)
    data = json_body()
    version = optional_version(data)
    only_keys(data, set())
    events.fire_meeting_event(user, meeting, event, version=version)
    commit()
    return jsonify(meeting_json(meeting, user))
