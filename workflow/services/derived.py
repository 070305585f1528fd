"""Data the system fills in, never typed: used alike by pages, the API and the PDFs.

審議日 per kind, 「これまでの庁議での主な意見」, 関係課長会議の出席課・機関等 and its 結果等
(DOMAIN §3, "Filled by the system").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workflow.extensions import db
from workflow.models import AgendaEntry, Attendance, Item, Meeting, Opinion

SECTION_MANAGERS = "section_managers"


@dataclass(frozen=True)
class PriorMeeting:
    """One 【会議名】 group of 「これまでの庁議での主な意見」."""

    meeting: Meeting
    name: str
    date: date
    opinions: list[Opinion]
    outcome_text: str | None


def item_entries(item: Item) -> list[AgendaEntry]:
    """Every agenda entry of the item, oldest meeting first, with opinions and attendance loaded."""
    return list(
        db.session.scalars(
            select(AgendaEntry)
            .join(Meeting, AgendaEntry.meeting_id == Meeting.id)
            .where(AgendaEntry.item_id == item.id)
            .options(
                selectinload(AgendaEntry.opinions),
                selectinload(AgendaEntry.attendance),
                selectinload(AgendaEntry.meeting),
            )
            .order_by(Meeting.date, Meeting.id)
        )
    )


def review_dates(item: Item) -> dict[str, date]:
    """審議日: kind code → date of the meeting of that kind that took the item up (the latest)."""
    return {entry.meeting.kind: entry.meeting.date for entry in item_entries(item)}


def prior_opinions(item: Item, before: Meeting | None = None) -> list[PriorMeeting]:
    """「これまでの庁議での主な意見」: each decided earlier meeting's opinions, in date order.

    With *before*, only meetings held before it (the form printed for that meeting).
    """
    groups = []
    for entry in item_entries(item):
        meeting = entry.meeting
        if entry.outcome is None:
            continue
        if before is not None and (
            meeting.id == before.id or (meeting.date, meeting.id) > (before.date, before.id)
        ):
            continue
        groups.append(
            PriorMeeting(
                meeting=meeting,
                name=meeting.kind_row.name,
                date=meeting.date,
                opinions=list(entry.opinions),
                outcome_text=entry.outcome_text,
            )
        )
    return groups


def _section_managers_entry(item: Item) -> AgendaEntry | None:
    entries = [e for e in item_entries(item) if e.meeting.kind == SECTION_MANAGERS]
    return entries[-1] if entries else None


def section_managers_attendance(item: Item) -> list[Attendance]:
    """関係課長会議の出席課・機関等: who attended (``deputy`` marks 「（代）」)."""
    entry = _section_managers_entry(item)
    return list(entry.attendance) if entry else []


def section_managers_result(item: Item) -> str | None:
    """関係課長会議の結果等: the printed outcome of the item at its 関係課長会議."""
    entry = _section_managers_entry(item)
    return entry.outcome_text if entry else None
