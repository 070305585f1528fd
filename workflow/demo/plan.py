"""Deciding what the city's ten years look like: a calendar of sittings, and for each item the
events that happened to it, in order (``Planner.plan_all``). Plain Python, no database: rows.py
turns a plan into rows.

Everything derives from the seed: one random stream plans the calendar and every item's path.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from workflow.demo.city import (
    AGENDA_MAX,
    AGENDA_SIZE,
    AS_OF,
    CADENCE,
    CITIZEN_OPINIONS,
    FINAL_OUTCOMES,
    FIRST_FY,
    JST,
    LAST_FY,
    RECENT_DAYS,
    ROUTES,
    jst_date,
    pick,
    weekday_from,
    working_moment,
)
from workflow.states.machine import OUTCOME_NEXT
from workflow.states.states import ItemStatus, Outcome, PublicCommentStatus
from workflow.wareki import fiscal_year


@dataclass
class PlannedMeeting:
    kind: str
    day: date
    start: dtime
    entries: list[int] = field(default_factory=list)  # agenda entry ids, in agenda order
    touches: int = 0  # updates of the meeting row (schedule, deliberation, outcome, events)
    id: int = 0
    number: int = 0


@dataclass
class PlannedEntry:
    id: int
    item_id: int
    meeting: PlannedMeeting
    position: int
    outcome: Outcome | None = None
    forward_to: str | None = None
    recorded_at: datetime | None = None


@dataclass
class Plan:
    """One item: its 様式２ choices and the events that happened to it, in order."""

    item_id: int
    section: tuple[int, str, str, str]  # id, name, bureau, division
    author_id: int
    filed_at: datetime
    route: tuple[str, ...]
    public_comment: bool
    ordinance: bool
    events: list[tuple] = field(
        default_factory=list
    )  # (at, event, from, to, params, reason, actor)
    status: ItemStatus = ItemStatus.DRAFT
    level_kind: str | None = None
    entries: list[PlannedEntry] = field(default_factory=list)
    comment: dict | None = None


class Ids:
    """Primary keys handed out in order, after whatever the table already holds."""

    def __init__(self, start: int) -> None:
        self.next = start

    def __call__(self) -> int:
        self.next += 1
        return self.next - 1


@dataclass
class World:
    sections: list[tuple[int, str, str, str]]
    authors: dict[int, int]  # section id → a department user of it
    secretariat_id: int


class Planner:
    """Walks each item through the workflow against a calendar of sittings."""

    def __init__(self, world: World, n: int, seed: int, ids: dict[str, Ids]) -> None:
        self.world, self.n, self.seed, self.ids = world, n, seed, ids
        self.rng = random.Random(seed)  # noqa: S311  (reproducible sample data)
        first, last = date(FIRST_FY, 4, 1), AS_OF - timedelta(days=1)
        span = (last - first).days
        # Most items lie anywhere in the ten years; a few percent were filed in the last weeks
        # and are still on their way (drafts, intake, agendas, public comment).
        recent = max(1, n * 3 // 100)
        self.filing_days = sorted(
            [first + timedelta(days=self.rng.randrange(span)) for _ in range(n - recent)]
            + [last - timedelta(days=self.rng.randrange(RECENT_DAYS)) for _ in range(recent)]
        )
        self.meetings = self._calendar()
        self.days = {k: [m.day for m in ms] for k, ms in self.meetings.items()}

    def _calendar(self) -> dict[str, list[PlannedMeeting]]:
        """Sittings per kind per month: the usual cadence, more when agendas would be long."""
        expected: Counter[tuple[str, int, int]] = Counter()
        for day in self.filing_days:
            route = pick(self.rng, ROUTES)
            for step, kind in enumerate(route):
                target = day + timedelta(days=25 + 30 * step)
                expected[kind, target.year, target.month] += 1
        calendar: dict[str, list[PlannedMeeting]] = defaultdict(list)
        for (kind, year, month), count in sorted(expected.items()):
            if fiscal_year(date(year, month, 1)) > LAST_FY:
                continue
            usual = math.ceil(CADENCE[kind] / 12)
            sittings = max(math.ceil(count / AGENDA_SIZE), min(usual, math.ceil(count / 2)))
            start = date(year, month, 1)
            length = ((start + timedelta(days=31)).replace(day=1) - start).days
            for j in range(sittings):
                day = weekday_from(start + timedelta(days=int((j + 0.5) * length / sittings)))
                hour = self.rng.choice((dtime(9, 30), dtime(10, 0), dtime(13, 30), dtime(15, 0)))
                calendar[kind].append(PlannedMeeting(kind, day, hour))
        for sittings in calendar.values():
            sittings.sort(key=lambda m: (m.day, m.start))
        return calendar

    def plan_all(self) -> list[Plan]:
        return [self._plan(i, day) for i, day in enumerate(self.filing_days)]

    def _next_meeting(self, kind: str, after: date, target: date) -> PlannedMeeting | None:
        days = self.days.get(kind, [])
        i = bisect.bisect_right(days, max(after, target - timedelta(days=1)))
        # The shortest agenda of the first day with sittings; a full agenda sends the item on
        # to a later sitting, as a secretariat would (a handful of tries, then the last one).
        best = None
        for _ in range(8):
            if i == len(days):
                break
            j = bisect.bisect_right(days, days[i])
            best = min(self.meetings[kind][i:j], key=lambda m: len(m.entries))
            if len(best.entries) < AGENDA_MAX:
                break
            i = j
        if best is not None and len(best.entries) >= 2 * AGENDA_MAX:
            return None  # every sitting in sight is full: the item waits
        return best

    def _plan(self, index: int, filed: date) -> Plan:
        rng = self.rng
        world = self.world
        section = world.sections[rng.randrange(len(world.sections))]
        route = pick(rng, ROUTES)
        plan = Plan(
            item_id=self.ids["items"](),
            section=section,
            author_id=world.authors[section[0]],
            filed_at=working_moment(filed, rng),
            route=route,
            public_comment=rng.random() < 0.15,
            ordinance=rng.random() < 0.12,
        )
        clock = [plan.filed_at]

        def happen(after_days: tuple[int, int], event: str, to: ItemStatus, actor: int, **kw):
            """The next event, *after_days* working days on; False once past AS_OF."""
            day = weekday_from(jst_date(clock[0]) + timedelta(days=rng.randint(*after_days)))
            return at(working_moment(day, rng), event, to, actor, **kw)

        def at(moment: datetime, event: str, to: ItemStatus, actor: int, **kw) -> bool:
            moment = max(moment, clock[0] + timedelta(minutes=1))
            if jst_date(moment) > AS_OF:
                return False
            plan.events.append(
                (moment, event, plan.status, to, kw.get("params", {}), kw.get("reason", ""), actor)
            )
            plan.status = to
            clock[0] = moment
            return True

        author, sec = plan.author_id, world.secretariat_id
        S = ItemStatus
        if not happen((0, 6), "submit", S.SUBMITTED, author):
            return plan
        if rng.random() < 0.08:
            reason = rng.choice(
                (
                    "関係部局との調整状況を追記してください。",
                    "事業経費・財源の欄を具体的に記載してください。",
                    "論点を整理し、二つ程度に絞ってください。",
                )
            )
            if not happen((1, 4), "return", S.RETURNED, sec, reason=reason):
                return plan
            if not happen((2, 8), "submit", S.SUBMITTED, author):
                return plan
        if not happen((1, 5), "accept", S.ACCEPTED, sec):
            return plan
        plan.level_kind = route[0]
        if rng.random() < 0.02:
            reason = "事業の実施を見送ることとしたため。"
            if happen((3, 20), "withdraw", S.WITHDRAWN, author, reason=reason):
                plan.level_kind = None
            return plan

        step, continued = 0, False
        while True:
            kind = route[step]
            last_day = jst_date(clock[0])
            meeting = self._next_meeting(kind, last_day, last_day + timedelta(days=10))
            if meeting is None:
                return plan  # awaiting a sitting not yet planned
            scheduled_at = datetime.combine(
                weekday_from(meeting.day - timedelta(days=rng.randint(7, 12))), dtime(10), JST
            ).astimezone(UTC)
            entry = PlannedEntry(
                self.ids["agenda_entries"](), plan.item_id, meeting, len(meeting.entries)
            )
            if not at(scheduled_at, "schedule", S.SCHEDULED, sec, params={"meeting_id": meeting}):
                self.ids["agenda_entries"].next -= 1  # not on the agenda after all
                return plan
            meeting.entries.append(entry.id)
            meeting.touches += 1
            plan.entries.append(entry)
            if meeting.day > AS_OF:
                return plan  # on the agenda of a planned sitting
            if step < len(route) - 1:
                outcome = Outcome.CONTINUED if not continued and rng.random() < 0.04 else None
                outcome = outcome or Outcome.FORWARDED
            else:
                outcome = Outcome.CONTINUED if not continued and rng.random() < 0.04 else None
                outcome = outcome or pick(rng, FINAL_OUTCOMES)
            forward_to = route[step + 1] if outcome == Outcome.FORWARDED else None
            held_at = datetime.combine(meeting.day, meeting.start, JST).astimezone(UTC)
            entry.outcome, entry.forward_to = outcome, forward_to
            entry.recorded_at = held_at + timedelta(minutes=10 + 10 * entry.position)
            meeting.touches += 2  # the deliberation, then the outcome
            to = OUTCOME_NEXT[outcome]
            at(
                entry.recorded_at,
                "record_outcome",
                to,
                sec,
                params={
                    "meeting_id": meeting,
                    "entry_id": entry.id,
                    "outcome": outcome.value,
                    "forward_to": forward_to,
                },
            )
            if outcome == Outcome.FORWARDED:
                plan.level_kind = forward_to
                step += 1
            elif outcome == Outcome.CONTINUED:
                continued = True
            else:
                plan.level_kind = None
                break

        if plan.status == S.RETURNED:
            happen((10, 30), "withdraw", S.WITHDRAWN, author, reason="差戻しを受け、取り下げます。")
            return plan
        if plan.status == S.AMENDING and not (
            happen((5, 20), "submit_amendment", S.AMENDMENT_SUBMITTED, author)
            and happen((1, 5), "confirm_amendment", S.APPROVED, sec)
        ):
            return plan
        if plan.status != S.APPROVED:
            return plan
        if not plan.public_comment:
            happen((2, 14), "conclude", S.CONCLUDED, sec)
            return plan
        self._public_comment(plan, clock, happen)
        return plan

    def _public_comment(self, plan: Plan, clock: list[datetime], happen) -> None:
        rng, sec, S = self.rng, self.world.secretariat_id, ItemStatus
        published = weekday_from(jst_date(clock[0]) + timedelta(days=rng.randint(14, 40)))
        closes = published + timedelta(days=rng.randint(29, 44))
        how = "所管課へ持参、郵送、ファクス又は電子メール"
        comment_id = self.ids["public_comments"]()
        opened = happen(
            ((published - jst_date(clock[0])).days,) * 2,
            "open_public_comment",
            S.PUBLIC_COMMENT,
            sec,
            params={
                "published_on": published.isoformat(),
                "closes_on": closes.isoformat(),
                "how_to_submit": how,
                "shortened_reason": "",
            },
        )
        if not opened:
            self.ids["public_comments"].next -= 1
            return
        comment = plan.comment = {
            "id": comment_id,
            "published_on": published,
            "closes_on": closes,
            "how_to_submit": how,
            "status": PublicCommentStatus.OPEN,
            "closed_on": None,
            "results_published_on": None,
            "changes_made": "",
            "version": 1,
        }
        received = [rng.choice(CITIZEN_OPINIONS) for _ in range(rng.choice((0, 1, 2, 3, 5, 8)))]
        # Opinions arrive during the period; the ones after AS_OF have not arrived yet.
        arrivals = sorted(
            published + timedelta(days=rng.randrange((closes - published).days + 1))
            for _ in received
        )
        comment["opinions"] = [
            (kind, summary)
            for (kind, summary), day in zip(received, arrivals, strict=True)
            if day <= AS_OF
        ]
        comment["answered"] = False
        close_day = weekday_from(closes + timedelta(days=rng.randint(1, 5)))
        closed = happen(
            ((close_day - jst_date(clock[0])).days,) * 2,
            "close_public_comment",
            S.PUBLIC_COMMENT_CLOSED,
            sec,
            params={"public_comment_id": comment_id, "today": close_day.isoformat()},
        )
        if not closed:
            return
        comment.update(status=PublicCommentStatus.CLOSED, closed_on=close_day, version=2)
        results_day = weekday_from(close_day + timedelta(days=rng.randint(20, 60)))
        if happen(
            ((results_day - jst_date(clock[0])).days,) * 2,
            "publish_comment_results",
            S.CONCLUDED,
            sec,
            params={"public_comment_id": comment_id},
        ):
            comment.update(
                status=PublicCommentStatus.RESULTS_PUBLISHED,
                results_published_on=results_day,
                changes_made="御意見を踏まえ、案の一部を修正しました。"
                if comment["opinions"]
                else "",
                version=3,
                answered=True,
            )
        elif (AS_OF - close_day).days > 10:
            comment["answered"] = True  # the answers are written; the result is not out yet
