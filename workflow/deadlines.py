"""申込締切 in 開庁日 (DOMAIN §11).

A 閉庁日 is a Saturday, a Sunday, a 国民の祝日 or 振替休日/国民の休日 (from the ``holidays``
package, which follows the 祝日法 and its yearly changes), a day of 12月29日–1月3日, or a day the
admin added (``closed_days``). A meeting's deadline is the N-th 開庁日 before it, counting back
from the day before (N per kind, ``meeting_kinds.deadline_days``), unless an admin set the
meeting's own (``meetings.deadline_override``). A request submitted on its deadline day is in
time; one submitted on a later day is 締切後.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import select

from workflow.extensions import db
from workflow.models import ClosedDay, Meeting, MeetingKind
from workflow.states.states import MeetingStatus

__all__ = [
    "admin_closed_days",
    "deadline_of",
    "is_closed",
    "next_planned_meeting",
    "open_days_before",
]

# How far back a deadline may lie: N is at most admin.DEADLINE_DAYS_MAX, and a year has no run
# of closed days longer than Golden Week's and the New Year's; this only stops a runaway loop.
SEARCH_LIMIT_DAYS = 400


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Japan(years=year))


def is_closed(day: date, extra: Iterable[date] = ()) -> bool:
    """Whether *day* is a 閉庁日 (weekend, 祝日, 12/29–1/3, or one of *extra*)."""
    if day.weekday() >= 5:
        return True
    if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
        return True
    return day in _national_holidays(day.year) or day in extra


def open_days_before(day: date, n: int, extra: Iterable[date] = ()) -> date:
    """The *n*-th 開庁日 before *day*, counting back from the day before (*n* = 0: *day*)."""
    extra = frozenset(extra)
    found, current = 0, day
    for _ in range(SEARCH_LIMIT_DAYS):
        if found == n:
            return current
        current -= timedelta(days=1)
        if not is_closed(current, extra):
            found += 1
    raise ValueError(f"no {n}th 開庁日 within {SEARCH_LIMIT_DAYS} days before {day}")


def admin_closed_days() -> frozenset[date]:
    """The 閉庁日 the admin added (one query; pass the result on when computing many)."""
    return frozenset(db.session.scalars(select(ClosedDay.day)))


def deadline_of(meeting: Meeting, extra: Iterable[date] | None = None) -> date:
    """The meeting's 申込締切. A joint meeting (兼) takes the earlier of its kinds' deadlines."""
    if meeting.deadline_override is not None:
        return meeting.deadline_override
    if extra is None:
        extra = admin_closed_days()
    kinds = [meeting.kind_row] + ([meeting.second_kind_row] if meeting.second_kind_row else [])
    n = max(kind.deadline_days for kind in kinds)
    return open_days_before(meeting.date, n, extra)


def next_planned_meeting(kind: str, on: date) -> Meeting | None:
    """The first planned meeting of *kind* (as its kind or its second) on or after *on*."""
    return db.session.scalars(
        select(Meeting)
        .where(
            Meeting.status == MeetingStatus.PLANNED,
            (Meeting.kind == kind) | (Meeting.second_kind == kind),
            Meeting.date >= on,
        )
        .order_by(Meeting.date, Meeting.id)
        .limit(1)
    ).first()


def kind_deadline_days(kind: str) -> int:
    """N of *kind* (for a request form that shows the deadline before a meeting exists)."""
    return db.session.get(MeetingKind, kind).deadline_days
