"""第N回: a meeting's number within its kind and 年度 (DOMAIN §2).

Automatic numbering follows the date: a planned meeting takes 1 + the number of the meeting
before it in date order, skipping the numbers held or hand-numbered meetings keep. So a meeting
registered later for an earlier day takes its place in the count, and the planned meetings after
it move up by one; a held meeting's number never changes, nor does one given by hand.

Creating a meeting never fails because of its number: writers of one kind and 年度 take turns
(SQLite's write lock; on PostgreSQL a transaction-level advisory lock per kind and 年度), so two
creates at once cannot both take the same number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from workflow.extensions import db
from workflow.models import Meeting
from workflow.states.states import MeetingStatus

# Numbers moved out of the way while the others are given theirs (unique per kind and 年度).
_PARKING = 1_000_000
# A meeting being edited waits here, apart from the numbers renumber() parks.
_EDIT_PARKING = 2_000_000


def lock_numbers(kind: str, fiscal_year: int) -> None:
    """Take the turn of *kind*'s numbers in *fiscal_year* until the transaction ends.

    On SQLite a writing transaction holds the one write lock already (workflow.database).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        key = sa.func.hashtext(f"chogi-meeting-number:{kind}:{fiscal_year}")
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def keeps_number(meeting: Meeting) -> bool:
    """Held (or further on) and hand-numbered meetings keep the number they have."""
    # A meeting being created has no status until it is flushed: it is planned.
    status = meeting.status or MeetingStatus.PLANNED
    return bool(meeting.number_fixed) or status != MeetingStatus.PLANNED


def plan_numbers(
    meetings: Sequence[Meeting], pinned: Mapping[Meeting, int] | None = None
) -> dict[Meeting, int]:
    """The number each automatically numbered planned meeting should have; *meetings* are all of
    one kind and 年度, in date order (ties by creation). *pinned*: meetings given a number by hand
    whose row does not hold it yet (a meeting being edited, parked out of the way)."""
    pinned = pinned or {}

    def kept(meeting: Meeting) -> int:
        return pinned.get(meeting, meeting.number)

    used = {kept(m) for m in meetings if keeps_number(m)}
    planned: dict[Meeting, int] = {}
    before = 0
    for meeting in meetings:
        if keeps_number(meeting):
            before = kept(meeting)
            continue
        number = before + 1
        while number in used:
            number += 1
        used.add(number)
        planned[meeting] = number
        before = number
    return planned


def renumber(
    kind: str,
    fiscal_year: int,
    new: Meeting | None = None,
    pinned: Mapping[Meeting, int] | None = None,
) -> None:
    """Give the planned meetings of *kind* and *fiscal_year* (and *new*, not yet added) their
    numbers by date; each meeting of *pinned* (parked, see :func:`park`) takes its number once the
    others have moved out of its way. The caller holds :func:`lock_numbers`."""
    with db.session.no_autoflush:
        stored = db.session.scalars(
            sa.select(Meeting).where(Meeting.kind == kind, Meeting.fiscal_year == fiscal_year)
        ).all()
    meetings = sorted(
        [*stored, *([new] if new is not None else [])],
        key=lambda m: (m.date, m.id is None, m.id or 0),
    )
    planned = plan_numbers(meetings, pinned)
    moving = [m for m, n in planned.items() if m.number != n and m is not new]
    for parked, meeting in enumerate(moving, start=_PARKING):
        meeting.number = parked
    if moving:
        db.session.flush()
    for meeting, number in {**(pinned or {}), **planned}.items():
        meeting.number = number


def park(meeting: Meeting) -> None:
    """Move a stored meeting's number out of every other's way (before its date or 年度 changes:
    the unique number per kind and 年度 holds at each flush); :func:`renumber` gives it its
    place again."""
    meeting.number = _EDIT_PARKING + meeting.id
    db.session.flush()
