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
from typing import NamedTuple

import holidays
from flask import g, has_request_context
from sqlalchemy import select

from workflow.extensions import db
from workflow.models import ClosedDay, Meeting, MeetingKind
from workflow.states.states import MeetingStatus

__all__ = [
    "admin_closed_days",
    "closed_day_rows",
    "closed_days_of_request",
    "deadline_of",
    "forget_closed_days",
    "is_closed",
    "is_late",
    "next_deadlines",
    "next_planned_meeting",
    "open_days_before",
    "rule_deadline",
]

# Where a request keeps the admin's 閉庁日 once read (flask.g).
_REQUEST_KEY = "chogi_closed_days"

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


def closed_day_rows() -> list[ClosedDay]:
    """The admin's 閉庁日 as rows, earliest first (the admin's list page and API)."""
    return list(db.session.scalars(select(ClosedDay).order_by(ClosedDay.day)))


def closed_days_of_request() -> frozenset[date]:
    """The admin's 閉庁日, read once per request however many meetings the answer shows."""
    if not has_request_context():
        return admin_closed_days()
    days = g.get(_REQUEST_KEY)
    if days is None:
        days = admin_closed_days()
        setattr(g, _REQUEST_KEY, days)
    return days


def forget_closed_days() -> None:
    """After an admin added or removed a 閉庁日: the request's deadlines count the change."""
    if has_request_context():
        g.pop(_REQUEST_KEY, None)


def deadline_of(meeting: Meeting, extra: Iterable[date] | None = None) -> date:
    """The meeting's 申込締切. A joint meeting (兼) takes the earlier of its kinds' deadlines.
    *extra*: the admin's 閉庁日; by default the request's one read of them."""
    if meeting.deadline_override is not None:
        return meeting.deadline_override
    return rule_deadline(meeting, extra)


def rule_deadline(meeting: Meeting, extra: Iterable[date] | None = None) -> date:
    """The deadline by the kinds' N alone, whatever the admin set for this meeting."""
    if extra is None:
        extra = closed_days_of_request()
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


def is_late(kind: str | None, on: date) -> bool:
    """Whether a request waiting for *kind*, submitted on *on*, is 締切後 (DOMAIN §11): after
    the deadline of the next planned meeting of *kind*. No such meeting: not late."""
    if kind is None:
        return False
    meeting = next_planned_meeting(kind, on)
    return meeting is not None and on > deadline_of(meeting)


class NextDeadline(NamedTuple):
    """A kind's next planned meeting and its 申込締切, as the request form shows them."""

    kind: MeetingKind
    meeting: Meeting | None
    deadline: date | None
    passed: bool  # the deadline is before *on*: a request sent now is 締切後


def next_deadlines(kinds: Iterable[str], on: date) -> list[NextDeadline]:
    """For each of *kinds* (in their order, each once), its next planned meeting from *on*."""
    rows = []
    for code in dict.fromkeys(kinds):
        kind = db.session.get(MeetingKind, code)
        if kind is None:
            continue
        meeting = next_planned_meeting(code, on)
        deadline = deadline_of(meeting) if meeting is not None else None
        rows.append(NextDeadline(kind, meeting, deadline, deadline is not None and on > deadline))
    return rows
