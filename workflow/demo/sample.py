"""The real sample item (../shared/samples), played through the workflow the way it happened.

Used by ``flask demo load`` and by the tests: the sample's 様式２ is filed, taken through
関係課長会議 (forwarded) → 事務事業調整会議 (forwarded) → 第５回 政策調整会議
(approved_with_amendments) → amendment → public comment (50 days) → results → concluded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from workflow.models import Item, Meeting, User, review_kinds
from workflow.services import items, meetings, public_comment
from workflow.states.routing import forward_targets

SAMPLES = Path(__file__).parent / "samples"

# Stages of the real path, in order; ``play_sample(until=...)`` stops after the named one.
STAGES = (
    "filed",
    "accepted",
    "section_managers",
    "affairs_coordination",
    "policy_coordination_scheduled",
    "policy_coordination",
    "amended",
    "public_comment_open",
    "public_comment_closed",
    "concluded",
)


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def sample_form() -> dict[str, Any]:
    """様式２ of the ICT総合戦略 item (a fresh copy)."""
    return json.loads(json.dumps(_load("form2_ict_strategy.json")))


def sample_minutes() -> dict[str, Any]:
    """The 第５回 政策調整会議 as recorded."""
    return json.loads(json.dumps(_load("minutes_policy_coordination_5.json")))


FORM_KEYS = [
    "title",
    "applied_on",
    "target_kind",
    "route",
    "bureau",
    "division",
    "section",
    "contact",
    "extension",
    "policy_ref",
    "in_implementation_plan",
    "summary",
    "discussion_points",
    "history",
    "public_comment",
    "press_release",
    "council_report",
    "ordinance",
    "advisory_body",
    "personal_info_use",
    "coordination",
    "schedule_notes",
    "remarks",
    "details",
]


@dataclass
class SamplePath:
    item: Item
    meetings: dict[str, Meeting] = field(default_factory=dict)


def _decide(
    secretariat: User,
    meeting: Meeting,
    item: Item,
    record: dict[str, Any],
    *,
    finish: bool = True,
) -> None:
    """Record what a meeting said and decided, then hold, confirm and publish it."""
    meetings.record_deliberation(
        secretariat,
        meeting,
        item,
        {
            "attendance": [{"section": s, "deputy": False} for s in record.get("attendance", [])],
            "opinions": [
                {
                    "opinion": o["opinion"],
                    "response": o.get("response"),
                    "follow_up": o.get("follow_up"),
                }
                for o in record["opinions"]
            ],
            "special_notes": record.get("special_notes") or "なし",
        },
    )
    forward_to = record.get("forward_to")
    if forward_to is not None and forward_to in review_kinds():
        # The transcription names the review the item passed next (事務事業調整会議); the real
        # form's result names the 上部庁議 （政策調整会議）, and the review comes on the way
        # (DOMAIN §8): name the first ladder kind further on the route.
        forward_to = forward_targets(item.route, meeting.kinds, review_kinds())[0]
    meetings.record_outcome(secretariat, meeting, item, record["outcome"], forward_to)
    if finish:
        meetings.hold(secretariat, meeting)
        meetings.confirm(secretariat, meeting)
        meetings.publish(secretariat, meeting)


def play_sample(department: User, secretariat: User, *, until: str = "concluded") -> SamplePath:
    """File the sample item as *department* and take it along its real path up to *until*."""
    if until not in STAGES:
        raise ValueError(f"unknown stage {until!r}; one of {STAGES}")
    stop = STAGES.index(until)
    form = sample_form()
    item = items.file_item(department, {k: form[k] for k in FORM_KEYS if k in form})
    path = SamplePath(item)
    steps = iter(range(stop + 1))

    def reached() -> bool:
        return next(steps, None) is None

    next(steps)  # filed
    if reached():
        return path
    items.submit(department, item)
    items.accept(secretariat, item)
    if reached():
        return path

    record = form["section_managers_meeting"]
    sm = meetings.create_meeting(
        secretariat,
        kind="section_managers",
        date_=date.fromisoformat(record["date"]),
        number=2,
        joint_name="ＩＣＴ戦略調整会議",
    )
    meetings.schedule(secretariat, sm, item, record["presenter"])
    _decide(secretariat, sm, item, record)
    path.meetings["section_managers"] = sm
    if reached():
        return path

    record = form["affairs_coordination_meeting"]
    ac = meetings.create_meeting(
        secretariat, kind="affairs_coordination", date_=date.fromisoformat(record["date"])
    )
    meetings.schedule(secretariat, ac, item, record["presenter"])
    _decide(secretariat, ac, item, record)
    path.meetings["affairs_coordination"] = ac
    if reached():
        return path

    minutes = sample_minutes()
    entry = minutes["entries"][0]
    pc = meetings.create_meeting(
        secretariat,
        kind=minutes["kind"],
        date_=date.fromisoformat(minutes["date"]),
        number=minutes["number"],
    )
    meetings.schedule(secretariat, pc, item, entry["presenter"])
    path.meetings["policy_coordination"] = pc
    if reached():
        return path
    _decide(secretariat, pc, item, entry)
    if reached():
        return path

    items.submit_amendment(department, item)
    items.confirm_amendment(secretariat, item)
    if reached():
        return path

    published = date(2019, 12, 2)
    public_comment.open_public_comment(
        secretariat,
        item,
        published_on=published,
        closes_on=published + timedelta(days=49),  # 50 days, the publication day included
        how_to_submit="情報政策課へ持参、郵送、ファクス又は電子メールで提出",
    )
    public_comment.add_opinion(
        secretariat,
        item,
        submitter_kind="個人",
        summary="行政手続のオンライン化を早期に進めてほしい。",
    )
    public_comment.add_opinion(
        secretariat,
        item,
        submitter_kind="団体",
        summary="高齢者などデジタル機器に不慣れな市民への支援を盛り込むべきである。",
    )
    if reached():
        return path
    public_comment.close(secretariat, item, on=published + timedelta(days=50))
    if reached():
        return path
    public_comment.update_opinion(
        secretariat,
        item,
        1,
        {
            "city_view": "電子申請の拡充を基本目標１に掲げ、順次進めます。",
            "handling": "already_included",
        },
    )
    public_comment.update_opinion(
        secretariat,
        item,
        2,
        {
            "city_view": "情報リテラシーの育成に、デジタル機器に不慣れな方への支援を追記します。",
            "handling": "revise",
        },
    )
    public_comment.publish_results(
        secretariat,
        item,
        changes_made="施策１－３にデジタル機器に不慣れな方への支援を追記した。",
        on=published + timedelta(days=60),
    )
    return path
