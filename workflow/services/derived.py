"""Data the system fills in, never typed: used alike by pages, the API and the PDFs.

審議日 per kind, 「これまでの庁議での主な意見」, 関係課長会議の出席課・機関等 and its 結果等
(DOMAIN §3, "Filled by the system").
"""

from __future__ import annotations

from collections.abc import Sequence
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


# Each function below reads the item's entries itself, or takes *entries*: what item_entries(item)
# returned (or a part of it, in its order), so a caller that shows several of them queries once.
Entries = Sequence[AgendaEntry]


def _entries(item: Item, entries: Entries | None) -> Entries:
    return item_entries(item) if entries is None else entries


def review_dates(item: Item, *, entries: Entries | None = None) -> dict[str, date]:
    """審議日: kind code → date of the meeting of that kind that took the item up (the latest)."""
    return {entry.meeting.kind: entry.meeting.date for entry in _entries(item, entries)}


def prior_opinions(
    item: Item, before: Meeting | None = None, *, entries: Entries | None = None
) -> list[PriorMeeting]:
    """「これまでの庁議での主な意見」: each decided earlier meeting's opinions, in date order.

    With *before*, only meetings held before it (the form printed for that meeting).
    """
    groups = []
    for entry in _entries(item, entries):
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


def section_managers_entry(item: Item, *, entries: Entries | None = None) -> AgendaEntry | None:
    """The item's latest 関係課長会議 entry, which the two fields below print."""
    found = [e for e in _entries(item, entries) if e.meeting.kind == SECTION_MANAGERS]
    return found[-1] if found else None


def section_managers_attendance(item: Item, *, entries: Entries | None = None) -> list[Attendance]:
    """関係課長会議の出席課・機関等: who attended (``deputy`` marks 「（代）」)."""
    entry = section_managers_entry(item, entries=entries)
    return list(entry.attendance) if entry else []


def section_managers_result(item: Item, *, entries: Entries | None = None) -> str | None:
    """関係課長会議の結果等: the printed outcome of the item at its 関係課長会議."""
    entry = section_managers_entry(item, entries=entries)
    return entry.outcome_text if entry else None
