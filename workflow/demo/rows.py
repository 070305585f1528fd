"""Turning a plan into rows: an item with its 様式２ parts and history (``item_rows``), a sitting
with its history (``meeting_rows``), as (table, row) pairs for Core bulk inserts.

Each item's text comes from a random stream of its own (the seed and the item's id), so the same
seed gives the same rows whatever order they are written in.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Table

from workflow.demo.city import (
    ACTIONS,
    AS_OF,
    CITY_VIEWS,
    FOLLOW_UPS,
    JST,
    OPINIONS,
    ORDINANCE_ACTIONS,
    PLANS,
    POINTS,
    PRIOR_MEETINGS,
    REASONS,
    THEMES,
    jst_date,
    working_moment,
)
from workflow.demo.plan import Plan, PlannedMeeting, World
from workflow.models import (
    AgendaEntry,
    Attendance,
    HistoryEvent,
    Item,
    ItemCoordination,
    ItemDetail,
    ItemDiscussionPoint,
    ItemHistoryRow,
    ItemRouteStep,
    Meeting,
    Opinion,
    PublicComment,
    PublicCommentOpinion,
)
from workflow.services.item_fields import STANDARD_DETAIL_HEADINGS
from workflow.states.states import (
    CoordinationStatus,
    CouncilChannel,
    MeetingStatus,
    OrdinanceChange,
    OrdinanceKind,
    PressRelease,
)
from workflow.wareki import era_year, fiscal_year, to_fullwidth_digits, to_wareki_short


def _wareki_month(day: date) -> str:
    """「令和３年１２月」 (the way 様式２ writes a month)."""
    name, year = era_year(day)
    return to_fullwidth_digits(f"{name}{year}年{day.month}月")


def _title(rng: random.Random, theme: str, ordinance: bool) -> tuple[str, OrdinanceChange | None]:
    if ordinance:
        wording, change = rng.choice(ORDINANCE_ACTIONS)
        return f"相模原市{theme}条例の{wording}について", change
    plan = rng.choice(PLANS)
    prefix = "（仮称）" if rng.random() < 0.1 else ""
    return f"{prefix}相模原市{theme}{plan}の{rng.choice(ACTIONS)}について", None


def item_rows(plan: Plan, world: World, seed: int) -> Iterator[tuple[Table, dict[str, Any]]]:
    """The item, its 様式２ parts and its history rows, as (table, row) pairs."""
    rng = random.Random(seed * 1_000_003 + plan.item_id)  # noqa: S311
    theme = rng.choice(THEMES)
    title, change = _title(rng, theme, plan.ordinance)
    sid, sname, bureau, division = plan.section
    filed = jst_date(plan.filed_at)
    last = plan.events[-1][0] if plan.events else plan.filed_at
    council = rng.choice(
        (
            CouncilChannel.NONE,
            CouncilChannel.NONE,
            CouncilChannel.COMMITTEE,
            CouncilChannel.ALL_MEMBERS,
        )
    )
    yield (
        Item.__table__,
        {
            "id": plan.item_id,
            "title": title,
            "applied_on": filed,
            "target_kind": plan.route[-1],
            "section_id": sid,
            "bureau": bureau,
            "division": division,
            "contact": rng.choice(("企画班", "計画班", "総務班", "推進班", "管理班")),
            "extension": str(rng.randint(2000, 5999)),
            "policy_ref": f"総合計画 基本目標{rng.choice('ⅠⅡⅢⅣ')} 施策{rng.randint(1, 30)}",
            "in_implementation_plan": rng.random() < 0.4,
            "summary": f"{rng.choice(REASONS)}、{title.removesuffix('について')}を行うもの。",
            "public_comment_planned": plan.public_comment,
            "public_comment_period_text": (
                f"{_wareki_month(filed + timedelta(days=90))}～" if plan.public_comment else ""
            ),
            "press_release": rng.choice(tuple(PressRelease)),
            "council_channel": council,
            "council_timing": (
                _wareki_month(filed + timedelta(days=60)) if council != CouncilChannel.NONE else ""
            ),
            "ordinance_kind": OrdinanceKind.ORDINANCE if plan.ordinance else OrdinanceKind.NONE,
            "ordinance_change": change,
            "ordinance_council_submission": (
                _wareki_month(filed + timedelta(days=120)) + "議会" if plan.ordinance else ""
            ),
            "advisory_body": rng.random() < 0.3,
            "personal_info_use": rng.random() < 0.1,
            "schedule_notes": "",
            "remarks": "",
            "status": plan.status,
            "level_kind": plan.level_kind,
            "version": 1 + len(plan.events),
            "created_by_id": plan.author_id,
            "created_at": plan.filed_at,
            "updated_at": last,
        },
    )
    points = rng.sample(POINTS, rng.randint(1, 3))
    for position, point in enumerate(points):
        yield (
            ItemDiscussionPoint.__table__,
            {"item_id": plan.item_id, "position": position, "text": point.format(t=theme)},
        )
    for position in range(rng.randint(1, 3)):
        when = filed - timedelta(days=rng.randint(20, 200))
        yield (
            ItemHistoryRow.__table__,
            {
                "item_id": plan.item_id,
                "position": position,
                "when": to_wareki_short(when),
                "meeting": rng.choice(PRIOR_MEETINGS),
                "content": f"{theme}の方向性について",
            },
        )
    others = rng.sample(world.sections, 2)
    for position, other in enumerate(others[: rng.randint(0, 2)]):
        yield (
            ItemCoordination.__table__,
            {
                "item_id": plan.item_id,
                "position": position,
                "department": other[1],
                "content": rng.choice(("事業費の見込み", "所管事務との整合", "関連計画との整合")),
                "status": rng.choice(tuple(CoordinationStatus)),
            },
        )
    for position, heading in enumerate(STANDARD_DETAIL_HEADINGS[: rng.randint(3, 6)]):
        yield (
            ItemDetail.__table__,
            {
                "item_id": plan.item_id,
                "position": position,
                "heading": heading,
                "body": f"○{heading}\n{theme}に関し、{rng.choice(REASONS)}取り組む。",
            },
        )
    for position, kind in enumerate(plan.route):
        yield ItemRouteStep.__table__, {"item_id": plan.item_id, "position": position, "kind": kind}

    for entry in plan.entries:
        decided = entry.outcome is not None
        yield (
            AgendaEntry.__table__,
            {
                "id": entry.id,
                "meeting_id": entry.meeting.id,
                "item_id": plan.item_id,
                "position": entry.position,
                "presenter": f"{sname}長",
                "special_notes": "なし" if decided else "",
                "outcome": entry.outcome,
                "forward_to": entry.forward_to,
                "outcome_recorded_at": entry.recorded_at,
            },
        )
        if not decided:
            continue
        for position, (opinion, response) in enumerate(
            rng.sample(OPINIONS, rng.choice((0, 1, 2, 2, 3, 4)))
        ):
            yield (
                Opinion.__table__,
                {
                    "entry_id": entry.id,
                    "position": position,
                    "opinion": opinion.format(t=theme),
                    "response": response if rng.random() < 0.85 else None,
                    "follow_up": rng.choice(FOLLOW_UPS) if rng.random() < 0.15 else None,
                },
            )
        if entry.meeting.kind == "section_managers":
            for position, other in enumerate(rng.sample(world.sections, rng.randint(2, 5))):
                yield (
                    Attendance.__table__,
                    {
                        "entry_id": entry.id,
                        "position": position,
                        "section_name": other[1],
                        "deputy": rng.random() < 0.2,
                    },
                )

    if plan.comment is not None:
        comment = plan.comment
        yield (
            PublicComment.__table__,
            {
                "id": comment["id"],
                "item_id": plan.item_id,
                "status": comment["status"],
                "published_on": comment["published_on"],
                "closes_on": comment["closes_on"],
                "how_to_submit": comment["how_to_submit"],
                "shortened_reason": "",
                "closed_on": comment["closed_on"],
                "results_published_on": comment["results_published_on"],
                "changes_made": comment["changes_made"],
                "abandoned_reason": "",
                "version": comment["version"],
            },
        )
        for number, (kind, summary) in enumerate(comment["opinions"], start=1):
            handling, view = rng.choice(CITY_VIEWS) if comment["answered"] else (None, "")
            yield (
                PublicCommentOpinion.__table__,
                {
                    "public_comment_id": comment["id"],
                    "number": number,
                    "submitter_no": number,
                    "submitter_kind": kind,
                    "summary": summary,
                    "city_view": view,
                    "handling": handling,
                },
            )

    for moment, event, before, after, params, reason, actor in plan.events:
        if "meeting_id" in params:
            params = {**params, "meeting_id": params["meeting_id"].id}
        yield (
            HistoryEvent.__table__,
            {
                "item_id": plan.item_id,
                "meeting_id": None,
                "actor_id": actor,
                "occurred_at": moment,
                "event": event,
                "from_state": before.value,
                "to_state": after.value,
                "params": params,
                "reason": reason,
            },
        )


def meeting_rows(
    meeting: PlannedMeeting, secretariat_id: int, rng: random.Random
) -> Iterator[tuple[Table, dict[str, Any]]]:
    """A sitting and the history of its hold / confirm / publish."""
    events = []
    held = datetime.combine(meeting.day, meeting.start, JST).astimezone(UTC)
    status = MeetingStatus.PLANNED
    if meeting.day <= AS_OF:
        steps = (
            ("hold", MeetingStatus.HELD, held + timedelta(hours=1, minutes=30)),
            (
                "confirm",
                MeetingStatus.CONFIRMED,
                working_moment(meeting.day + timedelta(days=rng.randint(5, 12)), rng),
            ),
            (
                "publish",
                MeetingStatus.PUBLISHED,
                working_moment(meeting.day + timedelta(days=rng.randint(14, 25)), rng),
            ),
        )
        for event, to, moment in steps:
            if jst_date(moment) > AS_OF:
                break
            events.append((event, status, to, moment))
            status = to
    created = working_moment(meeting.day - timedelta(days=rng.randint(20, 40)), rng)
    yield (
        Meeting.__table__,
        {
            "id": meeting.id,
            "kind": meeting.kind,
            "joint_name": "",
            "number": meeting.number,
            "fiscal_year": fiscal_year(meeting.day),
            "date": meeting.day,
            "start_time": meeting.start,
            "end_time": (datetime.combine(meeting.day, meeting.start) + timedelta(hours=1)).time(),
            "venue": rng.choice(("本庁舎 第１特別会議室", "本庁舎 第２特別会議室", "市長応接室")),
            "chair": {"section_managers": "企画部長", "affairs_coordination": "企画財政局長"}.get(
                meeting.kind, "市長"
            ),
            "status": status,
            "version": 1 + meeting.touches + len(events),
            "created_at": created,
            "updated_at": events[-1][3] if events else max(created, held - timedelta(days=7)),
        },
    )
    for event, before, after, moment in events:
        yield (
            HistoryEvent.__table__,
            {
                "item_id": None,
                "meeting_id": meeting.id,
                "actor_id": secretariat_id,
                "occurred_at": moment,
                "event": event,
                "from_state": before.value,
                "to_state": after.value,
                "params": {},
                "reason": "",
            },
        )
