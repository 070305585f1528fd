"""``flask demo generate --items N``: ten years of 庁議 for benchmarks, written in bulk.

The data is what the services would have written had the city used the system from FY2016 to
FY2025: every item is filed, taken in (sometimes after a 差戻し), carried up its route from meeting
to meeting (forwarded, now and then continued or remanded), approved or noted, amended, put to
public comment and concluded — or withdrawn — each step with its history row, the item's version
counting its updates, and every meeting held, confirmed and published behind it. Items filed in
the last weeks before the reference day (``AS_OF``) are still on their way: drafts, requests in
the intake queue, items awaiting or scheduled for a planned meeting, in public comment …

Going through the services would take hours for 100 000 items, so the workflow is simulated here
in plain Python and the rows go in with Core ``insert()`` executemany, in batches. A test
generates a small set and checks it against the rules the services keep (tests/test_generate.py).

Everything derives from ``--seed``: one random stream plans the calendar, and each item's text
comes from a stream of its own, so the same seed gives the same rows.
"""

from __future__ import annotations

import bisect
import math
import random
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, func, select, text
from werkzeug.security import generate_password_hash

from workflow.extensions import db
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
    Section,
    User,
)
from workflow.services.item_fields import STANDARD_DETAIL_HEADINGS
from workflow.states.states import (
    CoordinationStatus,
    CouncilChannel,
    Handling,
    ItemStatus,
    MeetingStatus,
    OrdinanceChange,
    OrdinanceKind,
    Outcome,
    PressRelease,
    PublicCommentStatus,
    Role,
)
from workflow.wareki import era_year, fiscal_year, to_fullwidth_digits, to_wareki_short

JST = ZoneInfo("Asia/Tokyo")
FIRST_FY, LAST_FY = 2016, 2025
# The day the data set describes: the last weeks before it hold the unfinished items.
AS_OF = date(2026, 3, 13)
RECENT_DAYS = 60
BATCH_ITEMS = 2000  # items whose rows go to the database together

# Sittings per 年度 when items are few; with many items, more sittings keep agendas short.
CADENCE = {
    "section_managers": 48,
    "affairs_coordination": 12,
    "bureau_policy": 12,
    "policy_coordination": 24,
    "policy_decision": 12,
}
AGENDA_SIZE = 8  # typical entries per sitting when the cadence would make agendas long
AGENDA_MAX = 14  # a longer agenda waits for the next sitting

ROUTES = (  # (weight, route): always upwards, as forwarding requires
    (50, ("section_managers", "policy_coordination")),
    (14, ("section_managers", "policy_coordination", "policy_decision")),
    (10, ("affairs_coordination", "policy_coordination")),
    (10, ("bureau_policy",)),
    (10, ("section_managers",)),
    (6, ("policy_coordination", "policy_decision")),
)
FINAL_OUTCOMES = (
    (66, Outcome.APPROVED),
    (20, Outcome.NOTED),
    (10, Outcome.APPROVED_WITH_AMENDMENTS),
    (1, Outcome.REMANDED),
)

SECTIONS = (
    ("総務局", "総務部", ("総務課", "職員課", "人事・給与課", "文書法制課", "契約課")),
    ("総務局", "危機管理部", ("危機管理課", "緊急対策課")),
    ("企画財政局", "企画部", ("情報政策課", "企画政策課", "経営監理課", "広域行政課")),
    ("企画財政局", "財務部", ("財政課", "資産経営課", "市民税課")),
    ("市民局", "市民協働推進部", ("地域政策課", "市民協働推進課", "人権・男女共同参画課")),
    ("市民局", "文化・スポーツ部", ("文化振興課", "スポーツ課")),
    ("健康福祉局", "地域包括ケア推進部", ("地域福祉課", "高齢・障害者福祉課")),
    ("健康福祉局", "保健衛生部", ("健康増進課", "疾病対策課")),
    ("こども・若者未来局", "こども・若者政策部", ("こども・若者政策課", "保育課", "こども家庭課")),
    ("環境経済局", "環境共生部", ("環境政策課", "廃棄物政策課", "水みどり環境課")),
    ("環境経済局", "経済部", ("産業政策課", "観光・シティプロモーション課", "農政課")),
    ("都市建設局", "まちづくり計画部", ("都市計画課", "交通政策課", "住宅政策課")),
    ("都市建設局", "土木部", ("道路計画課", "河川課")),
    ("教育局", "教育環境部", ("教育総務室", "学校施設課", "生涯学習課")),
)

THEMES = (
    "ＤＸ推進",
    "地域福祉",
    "公共施設マネジメント",
    "環境基本",
    "都市計画マスタープラン",
    "子ども・子育て支援",
    "高齢者保健福祉",
    "障害者支援",
    "防災・減災",
    "男女共同参画",
    "観光振興",
    "産業振興",
    "農業振興",
    "水みどり環境",
    "総合都市交通",
    "教育振興",
    "生涯学習",
    "スポーツ推進",
    "文化振興",
    "シティプロモーション",
    "行財政構造改革",
    "人材育成",
    "多文化共生",
    "地球温暖化対策",
    "一般廃棄物処理",
    "空家等対策",
    "住生活",
    "健康増進",
    "自殺対策",
    "食育推進",
)
PLANS = ("計画", "基本方針", "推進プラン", "ビジョン", "実施計画", "アクションプラン")
ACTIONS = ("策定", "改定", "見直し", "中間評価")
ORDINANCE_ACTIONS = (
    ("制定", OrdinanceChange.ENACT),
    ("一部改正", OrdinanceChange.AMEND),
    ("廃止", OrdinanceChange.ABOLISH),
)
REASONS = (
    "社会情勢の変化や国の制度改正を踏まえ",
    "現行計画の計画期間が満了することから",
    "市民ニーズの多様化に対応し、施策を総合的に推進する",
    "上位計画である総合計画との整合を図る",
    "これまでの取組の成果と課題を検証し",
)
POINTS = (
    "{t}の基本的な考え方について",
    "事業費と財源の確保について",
    "市民への周知と合意形成について",
    "推進体制と進行管理について",
    "関係機関との役割分担について",
    "成果指標（ＫＰＩ）の設定について",
    "今後のスケジュールについて",
)
PRIOR_MEETINGS = (
    "庁内検討委員会",
    "関係課打合せ",
    "附属機関（審議会）",
    "部長会議",
    "ワーキンググループ",
)
OPINIONS = (
    (
        "{t}の目標について、市民にわかりやすく示すべきではないか。",
        "成果指標を設定し、概要版で図表を用いて説明する。",
    ),
    (
        "財源の見通しが示されていない。後年度負担を明らかにすべき。",
        "中期財政見通しとの整合を図り、資料に追記する。",
    ),
    (
        "関係部局との調整状況を確認したい。",
        "関係課長会議で調整済みであり、残る課題は個別に協議する。",
    ),
    (
        "他市の先進事例を参考にしているか。",
        "政令指定都市の事例を調査し、反映している。",
    ),
    (
        "パブリックコメントの周知方法を工夫すべき。",
        "広報紙、ホームページ及びＳＮＳで周知する。",
    ),
    (
        "デジタル技術の活用を検討すべきではないか。",
        "オンライン手続の導入を含めて検討する。",
    ),
)
FOLLOW_UPS = ("資料２に追記済み。", "次回会議で報告する。", "所管課で対応済み。")
CITIZEN_OPINIONS = (
    ("個人", "計画の内容をもっとわかりやすく説明してほしい。"),
    ("個人", "子育て世代への支援を充実してほしい。"),
    ("団体", "地域団体との連携を計画に明記すべきである。"),
    ("事業者", "事業者の負担に配慮した制度としてほしい。"),
    ("個人", "高齢者にも使いやすい手続としてほしい。"),
)
CITY_VIEWS = (
    (Handling.ALREADY_INCLUDED, "御意見の趣旨は、計画案の第３章に記載しております。"),
    (Handling.FUTURE_REFERENCE, "今後の事業実施の参考とさせていただきます。"),
    (Handling.REVISE, "御意見を踏まえ、案の記載を修正しました。"),
    (Handling.NOT_REFLECTED, "国の制度に基づくものであり、原案のとおりとします。"),
)


def _pick(rng: random.Random, weighted: tuple[tuple[int, Any], ...]) -> Any:
    return rng.choices([v for _, v in weighted], weights=[w for w, _ in weighted])[0]


def _at(day: date, rng: random.Random, start: int = 9, end: int = 17) -> datetime:
    """A moment of the working day *day* (JST), as an aware UTC datetime."""
    minute = rng.randrange(start * 60, end * 60)
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=JST).astimezone(
        UTC
    )


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _jst_date(moment: datetime) -> date:
    return moment.astimezone(JST).date()


def _wareki_month(day: date) -> str:
    """「令和３年１２月」 (the way 様式２ writes a month)."""
    name, year = era_year(day)
    return to_fullwidth_digits(f"{name}{year}年{day.month}月")


# -- the plan: what happens to each item and when ---------------------------------------------


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


class _Ids:
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

    def __init__(self, world: World, n: int, seed: int, ids: dict[str, _Ids]) -> None:
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
            route = _pick(self.rng, ROUTES)
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
                day = _weekday(start + timedelta(days=int((j + 0.5) * length / sittings)))
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
        route = _pick(rng, ROUTES)
        plan = Plan(
            item_id=self.ids["items"](),
            section=section,
            author_id=world.authors[section[0]],
            filed_at=_at(filed, rng),
            route=route,
            public_comment=rng.random() < 0.15,
            ordinance=rng.random() < 0.12,
        )
        clock = [plan.filed_at]

        def happen(after_days: tuple[int, int], event: str, to: ItemStatus, actor: int, **kw):
            """The next event, *after_days* working days on; False once past AS_OF."""
            day = _weekday(_jst_date(clock[0]) + timedelta(days=rng.randint(*after_days)))
            return at(_at(day, rng), event, to, actor, **kw)

        def at(moment: datetime, event: str, to: ItemStatus, actor: int, **kw) -> bool:
            moment = max(moment, clock[0] + timedelta(minutes=1))
            if _jst_date(moment) > AS_OF:
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
            last_day = _jst_date(clock[0])
            meeting = self._next_meeting(kind, last_day, last_day + timedelta(days=10))
            if meeting is None:
                return plan  # awaiting a sitting not yet planned
            scheduled_at = datetime.combine(
                _weekday(meeting.day - timedelta(days=rng.randint(7, 12))), dtime(10), JST
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
                outcome = outcome or _pick(rng, FINAL_OUTCOMES)
            forward_to = route[step + 1] if outcome == Outcome.FORWARDED else None
            held_at = datetime.combine(meeting.day, meeting.start, JST).astimezone(UTC)
            entry.outcome, entry.forward_to = outcome, forward_to
            entry.recorded_at = held_at + timedelta(minutes=10 + 10 * entry.position)
            meeting.touches += 2  # the deliberation, then the outcome
            to = {
                Outcome.APPROVED: S.APPROVED,
                Outcome.APPROVED_WITH_AMENDMENTS: S.AMENDING,
                Outcome.FORWARDED: S.ACCEPTED,
                Outcome.CONTINUED: S.ACCEPTED,
                Outcome.REMANDED: S.RETURNED,
                Outcome.NOTED: S.CONCLUDED,
            }[outcome]
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
        if plan.status == S.AMENDING and not happen(
            (5, 20), "submit_amendment", S.APPROVED, author
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
        published = _weekday(_jst_date(clock[0]) + timedelta(days=rng.randint(14, 40)))
        closes = published + timedelta(days=rng.randint(29, 44))
        how = "所管課へ持参、郵送、ファクス又は電子メール"
        comment_id = self.ids["public_comments"]()
        opened = happen(
            ((published - _jst_date(clock[0])).days,) * 2,
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
        close_day = _weekday(closes + timedelta(days=rng.randint(1, 5)))
        closed = happen(
            ((close_day - _jst_date(clock[0])).days,) * 2,
            "close_public_comment",
            S.PUBLIC_COMMENT_CLOSED,
            sec,
            params={"public_comment_id": comment_id, "today": close_day.isoformat()},
        )
        if not closed:
            return
        comment.update(status=PublicCommentStatus.CLOSED, closed_on=close_day, version=2)
        results_day = _weekday(close_day + timedelta(days=rng.randint(20, 60)))
        if happen(
            ((results_day - _jst_date(clock[0])).days,) * 2,
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


# -- rows ------------------------------------------------------------------------------------


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
    filed = _jst_date(plan.filed_at)
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
                _at(meeting.day + timedelta(days=rng.randint(5, 12)), rng),
            ),
            (
                "publish",
                MeetingStatus.PUBLISHED,
                _at(meeting.day + timedelta(days=rng.randint(14, 25)), rng),
            ),
        )
        for event, to, moment in steps:
            if _jst_date(moment) > AS_OF:
                break
            events.append((event, status, to, moment))
            status = to
    created = _at(meeting.day - timedelta(days=rng.randint(20, 40)), rng)
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


# -- the command -----------------------------------------------------------------------------


class NotEmpty(RuntimeError):
    """The database already holds items or meetings."""


def _next_id(conn: Connection, table: Table) -> int:
    return (conn.scalar(select(func.max(table.c.id))) or 0) + 1


def _world(conn: Connection) -> World:
    """Sections and users: the demo accounts (see ``flask demo load``) plus one author per 課."""
    from workflow.demo.load import DEMO_PASSWORD, USERS

    existing = {name for name in conn.scalars(select(Section.name))}
    next_section = _next_id(conn, Section.__table__)
    rows = []
    for bureau, division, names in SECTIONS:
        for name in names:
            if name not in existing:
                rows.append(
                    {"id": next_section, "name": name, "bureau": bureau, "division": division}
                )
                next_section += 1
    if rows:
        conn.execute(Section.__table__.insert(), rows)
    sections = [
        (r.id, r.name, r.bureau, r.division)
        for r in conn.execute(select(Section.id, Section.name, Section.bureau, Section.division))
    ]
    by_name = {s[1]: s[0] for s in sections}

    logins = set(conn.scalars(select(User.login)))
    next_user = _next_id(conn, User.__table__)
    demo_hash = generate_password_hash(DEMO_PASSWORD)
    # Authors sign in with nobody's password: a random one, thrown away.
    author_hash = generate_password_hash(secrets.token_urlsafe(24))
    now = datetime.now(UTC)
    users = []
    for login, display, role, section in USERS:
        if login not in logins:
            users.append(
                {
                    "id": next_user,
                    "login": login,
                    "display_name": display,
                    "role": role,
                    "section_id": by_name.get(section) if section else None,
                    "password_hash": demo_hash,
                    "active": True,
                    "created_at": now,
                }
            )
            next_user += 1
    for n, (sid, name, _bureau, _division) in enumerate(sections, start=1):
        login = f"staff{n:03d}"
        if login not in logins:
            users.append(
                {
                    "id": next_user,
                    "login": login,
                    "display_name": f"{name} 担当",
                    "role": Role.DEPARTMENT,
                    "section_id": sid,
                    "password_hash": author_hash,
                    "active": True,
                    "created_at": now,
                }
            )
            next_user += 1
    if users:
        conn.execute(User.__table__.insert(), users)
    authors: dict[int, int] = {}
    for uid, sid in conn.execute(
        select(User.id, User.section_id)
        .where(User.role == Role.DEPARTMENT, User.login.like("staff%"))
        .order_by(User.id)
    ):
        authors.setdefault(sid, uid)
    secretariat_id = conn.scalar(select(User.id).where(User.login == "secretariat"))
    return World(sections, authors, secretariat_id)


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """PostgreSQL: the ids were given explicitly, so move each serial past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            )
        )


ORDER = [  # parents before children
    Meeting.__table__,
    Item.__table__,
    ItemDiscussionPoint.__table__,
    ItemHistoryRow.__table__,
    ItemCoordination.__table__,
    ItemDetail.__table__,
    ItemRouteStep.__table__,
    AgendaEntry.__table__,
    Opinion.__table__,
    Attendance.__table__,
    PublicComment.__table__,
    PublicCommentOpinion.__table__,
]
HISTORY = HistoryEvent.__table__


def _write_history(conn: Connection, history: list[dict]) -> int:
    """Insert the history rows in the order they happened, as the services would have.

    When history rows are hash-chained (``prev_hash``/``hash``), the new rows continue the
    chain from its current head, the way the model's before_flush hook links them.
    """
    history.sort(key=lambda row: row["occurred_at"])  # stable: ties keep their planned order
    chained = "hash" in HISTORY.c
    if chained:
        from workflow.models.history import chain_head, content_hash

        head = chain_head(conn)
    for start in range(0, len(history), 10_000):
        batch = history[start : start + 10_000]
        if chained:
            for row in batch:
                row["prev_hash"] = head
                row["hash"] = head = content_hash(row)
        conn.execute(HISTORY.insert(), batch)
    return len(history)


def generate(n: int, seed: int = 1, progress=None) -> Counter[str]:
    """Write *n* items and ten years of meetings into the (item-less) database; count the rows.

    Runs in the session's transaction; the caller commits.
    """
    conn = db.session.connection()
    for model in (Item, Meeting):
        if conn.scalar(select(func.count()).select_from(model)):
            raise NotEmpty
    world = _world(conn)
    ids = {
        name: _Ids(_next_id(conn, table))
        for name, table in (
            ("items", Item.__table__),
            ("agenda_entries", AgendaEntry.__table__),
            ("public_comments", PublicComment.__table__),
            ("meetings", Meeting.__table__),
        )
    }
    planner = Planner(world, n, seed, ids)
    plans = planner.plan_all()

    # Number the sittings that took place or are planned: per kind per 年度, in date order.
    # A past sitting no item reached did not take place (a held meeting needs an agenda).
    counts: Counter[str] = Counter()
    sittings = [m for ms in planner.meetings.values() for m in ms if m.entries or m.day > AS_OF]
    sittings.sort(key=lambda m: (m.day, m.start, m.kind))
    numbers: Counter[tuple[str, int]] = Counter()
    meeting_rng = random.Random(seed + 7)  # noqa: S311
    rows: dict[Table, list[dict]] = defaultdict(list)
    history = rows[HISTORY] = []

    def flush() -> None:
        for table in ORDER:
            batch = rows.pop(table, None)
            if batch:
                conn.execute(table.insert(), batch)
                counts[table.name] += len(batch)

    for meeting in sittings:
        numbers[meeting.kind, fiscal_year(meeting.day)] += 1
        meeting.number = numbers[meeting.kind, fiscal_year(meeting.day)]
        meeting.id = ids["meetings"]()
        for table, row in meeting_rows(meeting, world.secretariat_id, meeting_rng):
            rows[table].append(row)
    flush()
    for start in range(0, len(plans), BATCH_ITEMS):
        for plan in plans[start : start + BATCH_ITEMS]:
            for table, row in item_rows(plan, world, seed):
                rows[table].append(row)
        flush()
        if progress is not None:
            progress(min(start + BATCH_ITEMS, len(plans)), len(plans))
    counts[HISTORY.name] = _write_history(conn, history)
    _reset_sequences(conn, [*ORDER, HISTORY, Section.__table__, User.__table__])
    # Fresh statistics for the planner: right after a bulk load PostgreSQL has none yet and may
    # walk a whole table in primary-key order (an item's history: 860 000 rows at 100k items).
    conn.execute(text("ANALYZE"))
    return counts


def run(n: int, seed: int, echo) -> None:
    """The CLI's body: generate, commit, report in Japanese."""
    from workflow.services.transaction import unit_of_work

    started = time.perf_counter()
    from workflow.search_index import rebuild

    with unit_of_work():
        counts = generate(n, seed, progress=lambda done, total: echo(f"  {done}/{total} 件"))
        # Core inserts bypass the index's flush hook: build it once over everything.
        rebuild(db.session.connection())
    if db.engine.dialect.name == "postgresql":
        # A bulk load leaves the visibility map empty until autovacuum comes round, and counting
        # the items (every list's total) reads the table instead of an index: 20 ms against
        # 8 ms at 100 000 items. VACUUM cannot run inside a transaction.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    seconds = time.perf_counter() - started
    echo(
        f"{n}件の案件と{counts['meetings']}回の会議を作成しました"
        f"（{sum(counts.values())}行、{seconds:.1f}秒）。"
    )
