"""Search, and the published minutes as open data (CSV for Excel, JSON for programs)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workflow.api.common import bp, current_api_user, query_int, query_text
from workflow.api.serializers import iso
from workflow.extensions import db
from workflow.models import AgendaEntry, Meeting
from workflow.permissions import can_read_minutes
from workflow.services.search import search_items
from workflow.states.states import MeetingStatus

MINUTES_COLUMNS = (
    "meeting_id",
    "meeting",
    "kind",
    "date",
    "item_id",
    "item",
    "opinion",
    "response",
    "follow_up",
    "outcome",
)


@bp.get("/search")
def search() -> ResponseReturnValue:
    user = current_api_user()
    q = query_text("q")
    hits = search_items(user, q, limit=query_int("limit", 50, maximum=200))
    return jsonify(
        {
            "results": [
                {
                    "item_id": hit.item.id,
                    "title": hit.item.title,
                    "status": hit.item.status.value,
                    "status_label": hit.item.status.label,
                    "field": hit.field,
                    "snippet": hit.snippet,
                }
                for hit in hits
            ]
        }
    )


def minutes_rows() -> list[dict[str, Any]]:
    """One row per opinion of every published meeting, oldest meeting first."""
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.status == MeetingStatus.PUBLISHED)
        .options(selectinload(Meeting.entries).selectinload(AgendaEntry.opinions))
        .order_by(Meeting.date, Meeting.id)
    ).all()
    rows = []
    for meeting in meetings:
        if not can_read_minutes(None, meeting):  # open data: what the public may read
            continue
        for entry in meeting.entries:
            for opinion in entry.opinions:
                rows.append(
                    {
                        "meeting_id": meeting.id,
                        "meeting": meeting.title,
                        "kind": meeting.kind,
                        "date": iso(meeting.date),
                        "item_id": entry.item_id,
                        "item": entry.item.title,
                        "opinion": opinion.opinion,
                        "response": opinion.response or "",
                        "follow_up": opinion.follow_up or "",
                        "outcome": entry.outcome_text or "",
                    }
                )
    return rows


@bp.get("/minutes.json")
def minutes_json() -> ResponseReturnValue:
    return jsonify({"columns": list(MINUTES_COLUMNS), "rows": minutes_rows()})


@bp.get("/minutes.csv")
def minutes_csv() -> ResponseReturnValue:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MINUTES_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(minutes_rows())
    # The BOM tells Excel the file is UTF-8.
    response = Response(("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers.set("Content-Disposition", "attachment", filename="minutes.csv")
    return response
