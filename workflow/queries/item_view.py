"""An item as one reader may see it: shared by the item page, the API's item_json and 様式２.

The meetings the item was on are cut to those the reader may see (:func:`can_read_meeting`); what
was said and decided there, to those whose minutes the reader may read (:func:`can_read_minutes`);
the event history (staff names, internal reasons) to signed-in staff. From those come the parts of
様式２ the system fills in, never typed (DOMAIN §3): 審議日 per kind, 「これまでの庁議での主な意見」,
関係課長会議の出席課・機関等 and its 結果等.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workflow.extensions import db
from workflow.models import AgendaEntry, Attendance, HistoryEvent, Item, Meeting, Opinion, User
from workflow.permissions import (
    can_read_entry,
    can_read_meeting,
    can_read_minutes,
    can_read_opinion,
)
from workflow.queries.disclosure import is_public_reader

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
    """審議日: kind code → date of the meeting of that kind that took the item up (the latest).

    A joint sitting (関係課長会議兼事務事業調整会議) is the date of both its kinds.
    """
    return {
        kind: entry.meeting.date
        for entry in _entries(item, entries)
        for kind in entry.meeting.kinds
    }


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
                name=meeting.kinds_name,
                date=meeting.date,
                opinions=list(entry.opinions),
                outcome_text=entry.outcome_text,
            )
        )
    return groups


def section_managers_entry(item: Item, *, entries: Entries | None = None) -> AgendaEntry | None:
    """The item's latest 関係課長会議 entry, which the two fields below print."""
    found = [e for e in _entries(item, entries) if SECTION_MANAGERS in e.meeting.kinds]
    return found[-1] if found else None


def _after(meeting: Meeting, limit: Meeting) -> bool:
    return (meeting.date, meeting.id) > (limit.date, limit.id)


def form_parts(
    item: Item, before: Meeting | None = None, *, entries: Entries | None = None
) -> dict[str, Any]:
    """What the system fills into 様式２ (DOMAIN §3), as plain data naming each meeting by id.

    With *before*, as the form filed for that meeting shows them: 審議日 up to it, the opinions
    and the 関係課長会議 of the meetings held before it. Kept with an agenda entry when the item
    is scheduled (``AgendaEntry.frozen_parts``); :func:`readable_parts` cuts them for a reader.
    """
    rows = [e for e in _entries(item, entries) if before is None or not _after(e.meeting, before)]
    decided = [
        e for e in rows if e.outcome is not None and (before is None or e.meeting_id != before.id)
    ]
    return {
        "review_dates": [
            {"kind": kind, "meeting_id": e.meeting_id, "date": e.meeting.date.isoformat()}
            for e in rows
            for kind in e.meeting.kinds
        ],
        "prior": [
            {
                "meeting_id": e.meeting_id,
                "name": e.meeting.kinds_name,
                "opinions": [
                    {
                        "id": o.id,
                        "opinion": o.opinion,
                        "response": o.response,
                        "follow_up": o.follow_up,
                    }
                    for o in e.opinions
                ],
            }
            for e in decided
        ],
        # Every 関係課長会議 the item sat in, oldest first: a reader is shown the latest they see.
        "section_managers": [
            {
                "meeting_id": e.meeting_id,
                "attendance": [
                    {"name": a.section_name, "deputy": a.deputy, "present": a.present}
                    for a in e.attendance
                ],
                "result": e.form_outcome_text,
            }
            for e in rows
            if SECTION_MANAGERS in e.meeting.kinds
        ],
    }


def parts_meetings(ids: set[int]) -> dict[int, Meeting]:
    """The meetings *ids* name, by id: read once for many forms' :func:`readable_parts`."""
    if not ids:
        return {}
    return {m.id: m for m in db.session.scalars(select(Meeting).where(Meeting.id.in_(ids)))}


def parts_meeting_ids(parts: dict[str, Any]) -> set[int]:
    """The meetings a form's system-filled parts (:func:`form_parts`) name."""
    ids = {row["meeting_id"] for row in parts["review_dates"]}
    ids |= {group["meeting_id"] for group in parts["prior"]}
    ids |= {row["meeting_id"] for row in parts["section_managers"]}
    return ids


def readable_parts(
    parts: dict[str, Any],
    reader: User | None,
    item_id: int | None = None,
    *,
    entries: Entries | None = None,
    known: dict[int, Meeting] | None = None,
) -> dict[str, Any]:
    """*parts* cut to what *reader* may see: 審議日 of the meetings they see, what was said and
    decided where they may read the minutes (the same rules as :func:`item_view`).

    For the public, given *item_id* (the item the parts are of), the entries it may not see
    (非公開) are cut too, and the opinions it may not read (not public): the public is
    shown an opinion only while its row still says it may (an opinion rewritten since the
    parts were frozen is no longer shown to the public). *entries*: the item's entries with
    their opinions, when the caller has them (:func:`item_entries`); else one query reads them.
    *known*: meetings read already (:func:`parts_meetings`); the others are read here.
    """
    ids = parts_meeting_ids(parts)
    known = known or {}
    meetings = [known[i] for i in ids if i in known]
    meetings += parts_meetings(ids - known.keys()).values()
    seen = {m.id for m in meetings if can_read_meeting(reader, m)}
    readable = None  # opinion ids the reader may read; None: every opinion of a meeting in said
    if item_id is not None and seen and is_public_reader(reader):
        if entries is None:
            pairs = db.session.execute(
                select(AgendaEntry, Opinion)
                .outerjoin(Opinion, Opinion.entry_id == AgendaEntry.id)
                .where(AgendaEntry.item_id == item_id, AgendaEntry.meeting_id.in_(seen))
            ).all()
        else:
            pairs = [
                (e, o) for e in entries if e.meeting_id in seen for o in (e.opinions or [None])
            ]
        seen = {e.meeting_id for e, _ in pairs if can_read_entry(reader, e)}
        readable = {
            o.id
            for e, o in pairs
            if o is not None and e.meeting_id in seen and can_read_opinion(reader, e, o)
        }
    said = {m.id for m in meetings if m.id in seen and can_read_minutes(reader, m)}
    # The latest 関係課長会議 the reader sees; its fields only if they may read its minutes
    # (blank while it is unconfirmed, as in the API's item_json).
    managers = [row for row in parts["section_managers"] if row["meeting_id"] in seen]
    latest = managers[-1] if managers else None
    prior = [g for g in parts["prior"] if g["meeting_id"] in said]
    if readable is not None:
        prior = [
            {**g, "opinions": [o for o in g["opinions"] if o["id"] in readable]} for g in prior
        ]
    return {
        "review_dates": [r for r in parts["review_dates"] if r["meeting_id"] in seen],
        "prior": prior,
        "section_managers": latest if latest and latest["meeting_id"] in said else None,
    }


@dataclass(frozen=True)
class ItemView:
    """What *reader* may see of *item* beyond its typed fields (see the module's docstring)."""

    item: Item
    entries: list[AgendaEntry]  # every agenda entry, oldest meeting first (not all readable)
    seen: list[AgendaEntry]  # the entries of meetings the reader may see
    said: list[AgendaEntry]  # of those, the entries whose minutes the reader may read
    history: list[HistoryEvent]  # the event history, for signed-in staff only
    reader: User | None = None

    @property
    def deliberations(self) -> list[tuple[AgendaEntry, bool]]:
        """Each meeting the reader sees, with whether they may read what was said there."""
        said = {e.id for e in self.said}
        return [(e, e.id in said) for e in self.seen]

    @property
    def review_dates(self) -> dict[str, date]:
        """審議日 of the meetings the reader sees."""
        return review_dates(self.item, entries=self.seen)

    def prior_opinions(self, before: Meeting | None = None) -> list[PriorMeeting]:
        """「これまでの庁議での主な意見」 of the minutes the reader may read (before *before*),
        each group cut to the opinions the reader may read (not public: staff only)."""
        said = {e.meeting_id: e for e in self.said}
        return [
            PriorMeeting(
                group.meeting,
                group.name,
                group.date,
                [
                    o
                    for o in group.opinions
                    if can_read_opinion(self.reader, said[group.meeting.id], o)
                ],
                group.outcome_text,
            )
            for group in prior_opinions(self.item, before, entries=self.said)
        ]

    @property
    def section_managers(self) -> AgendaEntry | None:
        """The latest 関係課長会議 the reader sees, if its minutes are readable (else None)."""
        entry = section_managers_entry(self.item, entries=self.seen)
        return entry if entry is not None and entry.id in {e.id for e in self.said} else None

    @property
    def section_managers_attendance(self) -> list[Attendance]:
        """関係課長会議の出席課・機関等: who attended (``deputy`` marks 「（代）」)."""
        entry = self.section_managers
        return list(entry.attendance) if entry else []

    @property
    def section_managers_result(self) -> str | None:
        """関係課長会議の結果等: the printed outcome of the item at its 関係課長会議."""
        entry = self.section_managers
        return entry.form_outcome_text if entry else None

    @property
    def target_meeting(self) -> Meeting | None:
        """The meeting of the 付議先 kind that took the item up, seen or not: a reader's 様式２ is
        the full form with parts left blank, cut at the same meeting."""
        for entry in self.entries:
            if self.item.target_kind in entry.meeting.kinds:
                return entry.meeting
        return None


def item_view(reader: User | None, item: Item) -> ItemView:
    """*item* as *reader* may see it (the caller has checked :func:`can_read_item`)."""
    entries = item_entries(item)
    # A 非公開 entry is not seen by the public (can_read_entry), however its meeting is.
    seen = [e for e in entries if can_read_entry(reader, e)]
    said = [e for e in seen if can_read_minutes(reader, e.meeting)]
    signed_in = reader is not None and getattr(reader, "is_authenticated", False)
    history = (
        list(
            db.session.scalars(
                select(HistoryEvent)
                .where(HistoryEvent.item_id == item.id)
                .order_by(HistoryEvent.occurred_at, HistoryEvent.id)
            )
        )
        if signed_in
        else []
    )
    return ItemView(item, entries, seen, said, history, reader)
