"""One serializer per noun: rows → plain dicts in DOMAIN §3's field names (reused by search and UI).

Each answer's shape is declared once, as a TypedDict in :mod:`workflow.schemas` (which the
OpenAPI document is made from); the builders here fill it without validating it again, so a list
of two hundred items costs no more than the dicts themselves.

What a caller may see is decided by the permission functions: the opinions, attendance and
outcome of a meeting appear only to those who may read its minutes, and the event history
(names of staff, internal reasons) only to signed-in staff.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from workflow.deadlines import deadline_of
from workflow.models import (
    AgendaEntry,
    HistoryEvent,
    Item,
    Meeting,
    PublicComment,
    PublicCommentOpinion,
    User,
)
from workflow.permissions import can_read_minutes
from workflow.queries.disclosure import visible_entries, visible_opinions
from workflow.queries.item_view import item_view
from workflow.queries.versions import fields_for
from workflow.schemas import comments, items, meetings
from workflow.states.machine import EVENT_LABELS


def iso(value: date | datetime | time | None) -> str | None:
    """Dates as YYYY-MM-DD, times as HH:MM, instants as UTC ISO 8601."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    return value.isoformat()


def item_summary(item: Item) -> items.ItemSummary:
    """An item in a list."""
    return {
        "id": item.id,
        "title": item.title,
        "section": item.section.name,
        "applied_on": iso(item.applied_on),
        "target_kind": item.target_kind,
        "status": item.status.value,
        "status_label": item.status.label,
        "level_kind": item.level_kind,
        "late": item.late,
        "version": item.version,
        "updated_at": iso(item.updated_at),
    }


def list_row_json(row) -> items.ItemSummary:
    """A row of the item list (:data:`workflow.queries.items.LIST_COLUMNS`), as :func:`item_summary`."""
    return {
        "id": row.id,
        "title": row.title,
        "section": row.section_name,
        "applied_on": iso(row.applied_on),
        "target_kind": row.target_kind,
        "status": row.status.value,
        "status_label": row.status.label,
        "level_kind": row.level_kind,
        "late": row.late,
        "version": row.version,
        "updated_at": iso(row.updated_at),
    }


def opinion_json(opinion) -> meetings.Opinion:
    """○ opinion, → response, （→ follow-up）."""
    return {
        "id": opinion.id,
        "opinion": opinion.opinion,
        "response": opinion.response,
        "follow_up": opinion.follow_up,
        "public": opinion.public is not False,
    }


def attendance_json(row) -> meetings.Attendance:
    return {"section": row.section_name, "deputy": row.deputy, "present": row.present}


def deliberation_json(entry: AgendaEntry, user: User | None) -> items.ItemDeliberation:
    """An item at one meeting; what was said only for those who may read the minutes."""
    meeting = entry.meeting
    said = can_read_minutes(user, meeting)
    return {
        "meeting_id": meeting.id,
        "meeting_title": meeting.title,
        "kind": meeting.kind,
        "date": iso(meeting.date),
        "meeting_status": meeting.status.value,
        "presenter": entry.presenter,
        "minutes_readable": said,
        "attendance": [attendance_json(a) for a in entry.attendance] if said else [],
        "opinions": [opinion_json(o) for o in visible_opinions(user, entry)] if said else [],
        "outcome": entry.outcome.value if said and entry.outcome else None,
        "outcome_text": entry.outcome_text if said else None,
        "forward_to": entry.forward_to if said else None,
        "special_notes": entry.special_notes if said else "",
    }


def history_json(row: HistoryEvent) -> items.HistoryEvent:
    return {
        "event": row.event,
        "event_label": EVENT_LABELS.get(row.event, row.event),
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor.display_name if row.actor else None,
        "at": iso(row.occurred_at),
        "reason": row.reason,
        "params": row.params or {},
    }


def public_comment_json(process: PublicComment) -> comments.PublicCommentProcess:
    """The running (or finished) パブリックコメント of an item."""
    return {
        "status": process.status.value,
        "status_label": process.status.label,
        "published_on": iso(process.published_on),
        "closes_on": iso(process.closes_on),
        "how_to_submit": process.how_to_submit,
        "shortened_reason": process.shortened_reason,
        "closed_on": iso(process.closed_on),
        "results_published_on": iso(process.results_published_on),
        "changes_made": process.changes_made,
        "abandoned_reason": process.abandoned_reason,
        "opinion_count": len(process.opinions),
        "submitter_count": process.submitter_count,
        "version": process.version,
    }


def comment_opinion_json(opinion: PublicCommentOpinion) -> comments.CommentOpinion:
    return {
        "number": opinion.number,
        "submitter_no": opinion.submitter_no,
        "submitter_kind": opinion.submitter_kind,
        "summary": opinion.summary,
        "city_view": opinion.city_view,
        "handling": opinion.handling.value if opinion.handling else None,
        "handling_label": opinion.handling.label if opinion.handling else None,
    }


def item_json(item: Item, user: User | None) -> items.Item:
    """Every field of the item, what the system derived, and what *user* may do with it."""
    from workflow.services.items import allowed_events

    view = item_view(user, item)  # as the item page and 様式２ show it to *user*
    process = item.comment_process
    return {
        "id": item.id,
        **fields_for(user, item),  # the public reads the form filed for a published meeting
        "status": item.status.value,
        "status_label": item.status.label,
        "level_kind": item.level_kind,
        "late": item.late,
        "version": item.version,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "review_dates": {kind: iso(day) for kind, day in view.review_dates.items()},
        "section_managers_attendance": [
            attendance_json(a) for a in view.section_managers_attendance
        ],
        "section_managers_result": view.section_managers_result,
        "prior_opinions": [
            {
                "meeting_id": group.meeting.id,
                "meeting_title": group.meeting.title,
                "name": group.name,
                "date": iso(group.date),
                "opinions": [opinion_json(o) for o in group.opinions],
                "outcome_text": group.outcome_text,
            }
            for group in view.prior_opinions()
        ],
        "deliberations": [deliberation_json(e, user) for e in view.seen],
        "public_comment_process": public_comment_json(process) if process else None,
        "history": [history_json(row) for row in view.history],
        "allowed_events": allowed_events(user, item),
    }


def entry_json(entry: AgendaEntry, user: User | None) -> meetings.Entry:
    """One agenda entry of a meeting (the caller lists only those *user* sees)."""
    said = can_read_minutes(user, entry.meeting)
    return {
        "number": entry.position + 1,
        "item_id": entry.item_id,
        "item_title": entry.item.title,
        "item_status": entry.item.status.value,
        "presenter": entry.presenter,
        "disclosure": entry.disclosure.value,
        "disclosure_reason": entry.disclosure_reason,
        "attendance": [attendance_json(a) for a in entry.attendance] if said else [],
        "opinions": [opinion_json(o) for o in visible_opinions(user, entry)] if said else [],
        "outcome": entry.outcome.value if said and entry.outcome else None,
        "outcome_text": entry.outcome_text if said else None,
        "forward_to": entry.forward_to if said else None,
        "special_notes": entry.special_notes if said else "",
    }


def meeting_summary(meeting: Meeting) -> meetings.MeetingSummary:
    """A meeting in a list."""
    return {
        "id": meeting.id,
        "title": meeting.title,
        "kind": meeting.kind,
        "kind_name": meeting.kind_name,
        "number": meeting.number,
        "fiscal_year": meeting.fiscal_year,
        "date": iso(meeting.date),
        # DOMAIN §11; the admin's 閉庁日 are read once per request, not once per meeting.
        "submission_deadline": iso(deadline_of(meeting)),
        "status": meeting.status.value,
        "status_label": meeting.status.label,
        "cancel_reason": meeting.cancel_reason,
        "version": meeting.version,
    }


def meeting_json(meeting: Meeting, user: User | None) -> meetings.Meeting:
    """The meeting, its agenda, and the events *user* may fire on it."""
    from workflow.services.meetings import allowed_meeting_events

    return {
        **meeting_summary(meeting),
        "number_fixed": bool(meeting.number_fixed),
        "second_kind": meeting.second_kind,
        "joint_name": meeting.joint_name,
        "start_time": iso(meeting.start_time),
        "end_time": iso(meeting.end_time),
        "venue": meeting.venue,
        "chair": meeting.chair,
        "minutes_readable": can_read_minutes(user, meeting),
        # The public is not told of a 非公開 entry (its number is kept by the others).
        "entries": [entry_json(e, user) for e in visible_entries(user, meeting)],
        "allowed_events": allowed_meeting_events(user, meeting),
    }
