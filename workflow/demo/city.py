"""The city ``flask demo generate`` writes: its calendar, its sections and meetings, and the words
its items are written in. The planner (plan.py) and the row writers (rows.py) both read it.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflow.states.states import Handling, OrdinanceChange, Outcome

JST = ZoneInfo("Asia/Tokyo")
FIRST_FY, LAST_FY = 2016, 2025
# The day the data set describes: the last weeks before it hold the unfinished items.
AS_OF = date(2026, 3, 13)
RECENT_DAYS = 60

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


def pick(rng: random.Random, weighted: tuple[tuple[int, Any], ...]) -> Any:
    """One value of *weighted* ((weight, value) pairs), drawn by weight."""
    return rng.choices([v for _, v in weighted], weights=[w for w, _ in weighted])[0]


def working_moment(day: date, rng: random.Random, start: int = 9, end: int = 17) -> datetime:
    """A moment of the working day *day* (JST), as an aware UTC datetime."""
    minute = rng.randrange(start * 60, end * 60)
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=JST).astimezone(
        UTC
    )


def weekday_from(day: date) -> date:
    """*day*, or the Monday after it if it falls on a weekend."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def jst_date(moment: datetime) -> date:
    """The calendar day of *moment* in Japan."""
    return moment.astimezone(JST).date()
