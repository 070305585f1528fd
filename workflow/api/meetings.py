"""/api/v1/meetings: create, list, read, edit; the agenda, deliberations, outcomes;
hold/confirm/publish/unpublish/cancel."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from workflow.api.common import (
    bp,
    current_api_user,
    json_body,
    optional_version,
    query_int,
    query_text,
    readable_meeting,
    require_user,
    written,
)
from workflow.api.serializers import meeting_json, meeting_summary
from workflow.errors import Forbidden, NotFound, UnknownEvent, ValidationFailed
from workflow.extensions import db
from workflow.models import Item, Meeting, MeetingKind
from workflow.permissions import can_manage_meetings
from workflow.queries.meetings import meetings as readable_meeting_list
from workflow.schemas.events import MEETING_EVENT_BODIES
from workflow.schemas.meetings import (
    EntryCreate,
    MeetingCreate,
    MeetingList,
    MeetingPatch,
    OutcomeBody,
)
from workflow.schemas.types import validate
from workflow.services import events
from workflow.services import meetings as meeting_service

# The meeting events, as the one dispatch names them (the OpenAPI document lists them).
MEETING_EVENTS = events.MEETING_EVENTS


def _manager() -> Any:
    user = require_user()
    if not can_manage_meetings(user):
        raise Forbidden("会議の操作は庁議事務局だけが行えます。")
    return user


@bp.post("/meetings")
def create_meeting() -> ResponseReturnValue:
    user = _manager()
    body = validate(MeetingCreate, json_body())
    meeting = meeting_service.create_meeting(
        user,
        kind=body.kind,
        date_=body.date,
        number=body.number,
        chair=body.chair,
        venue=body.venue,
        start_time=body.start_time,
        joint_name=body.joint_name,
        second_kind=body.second_kind,
    )
    return written(lambda: meeting_json(meeting, user), 201)


@bp.get("/meetings")
def index_meetings() -> ResponseReturnValue:
    user = current_api_user()
    kind = query_text("kind")
    if kind and db.session.get(MeetingKind, kind) is None:
        raise ValidationFailed.field("kind", f"会議の種類「{kind}」はありません。")
    fiscal_year = query_int("fiscal_year", 0, maximum=9999)
    rows = readable_meeting_list(user, kind=kind, fiscal_year=fiscal_year)
    answer: MeetingList = {"meetings": [meeting_summary(m) for m in rows], "total": len(rows)}
    return jsonify(answer)


@bp.get("/meetings/<int:meeting_id>")
def show_meeting(meeting_id: int) -> ResponseReturnValue:
    meeting = readable_meeting(meeting_id)
    return jsonify(meeting_json(meeting, current_api_user()))


@bp.patch("/meetings/<int:meeting_id>")
def update_meeting(meeting_id: int) -> ResponseReturnValue:
    """A planned meeting's date, time, venue, chair, joint name, 第N回 (only the keys given)."""
    user = _manager()
    meeting = readable_meeting(meeting_id)
    data = json_body()
    body = validate(MeetingPatch, data)
    changes = {key: data[key] for key in body.model_fields_set if key != "version"}
    meeting_service.update_meeting(user, meeting, changes, version=body.version)
    return written(lambda: meeting_json(meeting, user))


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
    body = validate(EntryCreate, json_body())
    item = db.session.get(Item, body.item_id)
    if item is None:
        raise ValidationFailed.field("item_id", "指定された案件はありません。")
    meeting_service.schedule(user, meeting, item, body.presenter, version=body.version)
    return written(lambda: meeting_json(meeting, user), 201)


@bp.delete("/meetings/<int:meeting_id>/entries/<int:item_id>")
def unschedule_item(meeting_id: int, item_id: int) -> ResponseReturnValue:
    user = _manager()
    meeting = readable_meeting(meeting_id)
    item = _agenda_item(meeting, item_id)
    version = optional_version(json_body())
    meeting_service.unschedule(user, meeting, item, version=version)
    return written(lambda: meeting_json(meeting, user))


@bp.put("/meetings/<int:meeting_id>/entries/<int:item_id>")
def record_deliberation(meeting_id: int, item_id: int) -> ResponseReturnValue:
    user = _manager()
    meeting = readable_meeting(meeting_id)
    item = _agenda_item(meeting, item_id)
    data = json_body()
    version = optional_version(data)
    meeting_service.record_deliberation(user, meeting, item, data, version=version)
    return written(lambda: meeting_json(meeting, user))


@bp.post("/meetings/<int:meeting_id>/entries/<int:item_id>/outcome")
def record_outcome(meeting_id: int, item_id: int) -> ResponseReturnValue:
    user = _manager()
    meeting = readable_meeting(meeting_id)
    item = _agenda_item(meeting, item_id)
    body = validate(OutcomeBody, json_body())
    meeting_service.record_outcome(
        user, meeting, item, body.outcome, body.forward_to, version=body.version
    )
    return written(lambda: meeting_json(meeting, user))


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
    body = validate(MEETING_EVENT_BODIES[event], json_body())
    params = {name: getattr(body, name) for name in type(body).model_fields if name != "version"}
    events.fire_meeting_event(user, meeting, event, version=body.version, **params)
    return written(lambda: meeting_json(meeting, user))
