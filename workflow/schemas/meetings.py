"""Bodies of /api/v1/meetings: create a meeting, put an item on its agenda, record what was said
and the outcome, fire a meeting event. The services check the same fields with the same types."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import Field, model_validator
from typing_extensions import TypedDict

from workflow.schemas.limits import LINE_MAX, NAME_MAX, NUMBER_MAX, REASON_MAX, TEXT_MAX
from workflow.schemas.types import (
    ID,
    KIND_SCHEMA,
    Body,
    Id,
    IsoDate,
    as_string,
    choice,
    clock_time,
    code,
    day,
    enum_value,
    flag,
    integer,
    refuse_at,
    rows,
    text,
)
from workflow.states.states import Disclosure, ItemStatus, MeetingStatus, Outcome

Presenter = text(NAME_MAX)
Chair = text(NAME_MAX)
Venue = text(LINE_MAX)
JointName = text(NAME_MAX)
SpecialNotes = text(TEXT_MAX)
DisclosureReason = text(REASON_MAX)


class Versioned(Body):
    """本文は version だけ（任意）。"""

    version: integer(nullable=True) = Field(
        None, description="読み込んだときの version（任意。古ければ 409）"
    )


class MeetingCreate(Body):
    """POST /api/v1/meetings: a planned meeting."""

    field_messages = {
        "kind": "会議の種類をコードで指定してください。",
        "date": "開催日を入力してください。",
    }

    kind: code("会議の種類をコードで指定してください。")
    date: day(required="開催日を入力してください。")
    number: integer(1, NUMBER_MAX, nullable=True) = Field(
        None, description="第N回（省略時は年度ごとの連番）"
    )
    chair: Chair = ""
    venue: Venue = ""
    start_time: clock_time() = None
    joint_name: JointName = Field(
        "", description="兼ねて開く庁議以外の会議の名前（「ＩＣＴ戦略調整会議」）"
    )
    second_kind: code("兼ねる会議の種類をコードで指定してください。", nullable=True) = Field(
        None,
        description="兼ねて開く庁議の種類（関係課長会議兼事務事業調整会議なら affairs_coordination）。"
        "回数は kind の数え方で、議題の案件は両方の会議を経たものとなる",
    )


class MeetingPatch(Versioned):
    """PATCH /api/v1/meetings/{id}: a planned meeting's date, time, venue, chair, number; only
    the keys given change."""

    field_messages = {"date": "開催日を入力してください。"}

    date: day(required="開催日を入力してください。") = Field(
        None, description="開催日（変えると、その種類の予定の会議の回数を日付順に振り直す）"
    )
    number: integer(1, NUMBER_MAX, nullable=True) = Field(
        None, description="第N回を手で決める。null なら日付順の自動の回数に戻す"
    )
    chair: Chair = ""
    venue: Venue = ""
    start_time: clock_time() = None
    joint_name: JointName = ""


class EntryCreate(Body):
    """POST /api/v1/meetings/{id}/entries: schedule an item."""

    field_messages = {"item_id": "議題にする案件を指定してください。"}

    item_id: ID
    presenter: Presenter = Field("", description="説明者（職名）")
    version: integer(nullable=True) = Field(None, description="案件の version（任意）")


class AttendanceRow(Body):
    section: text(NAME_MAX, required=True)
    deputy: flag("代理出席は true か false で指定してください。") = False
    present: flag("出席は true か false で指定してください。") = Field(
        True, description="false: 案内したが欠席（様式２では □）"
    )


class OpinionRow(Body):
    opinion: text(TEXT_MAX, required=True)
    response: text(TEXT_MAX, nullable=True) = None
    follow_up: text(TEXT_MAX, nullable=True) = None
    public: flag("公開は true か false で指定してください。") = Field(
        True, description="false: 公開版の議事録・検索・オープンデータに出さない（一部非公開）"
    )


class Deliberation(Body):
    """PUT /api/v1/meetings/{id}/entries/{item_id}: each key given replaces what was recorded.

    Until the minutes are confirmed every key may change. Once confirmed, until published, only
    the disclosure may: ``disclosure``, ``disclosure_reason`` and the opinions' ``public`` (send
    ``opinions`` as recorded, each text unchanged, with the flags wanted; a changed text is 409).
    After publication nothing may change (409: 公開取消 first).
    """

    presenter: Presenter = ""
    attendance: rows(AttendanceRow) = []
    opinions: rows(OpinionRow) = Field(
        [],
        description="主な意見等。確定後（公開前）は記録どおりの文で public だけを変えられる",
    )
    special_notes: SpecialNotes = ""
    disclosure: choice(
        Disclosure,
        "公開範囲（情報公開条例）",
        message="公開範囲は次のいずれかです: {allowed}",
    ) = None
    disclosure_reason: DisclosureReason = Field(
        "", description="partial・closed のとき必須: 該当する情報公開条例の条項"
    )
    version: integer(nullable=True) = Field(None, description="会議の version（任意）")

    @model_validator(mode="after")
    def _each_section_attends_once(self) -> Deliberation:
        seen: set[str] = set()
        for n, row in enumerate(self.attendance):
            name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", row.section))
            if name in seen:
                message = f"出席課「{row.section}」が二度あります。一つにしてください。"
                raise refuse_at(("attendance", n, "section"), message)
            seen.add(name)
        return self


class OutcomeBody(Body):
    """POST /api/v1/meetings/{id}/entries/{item_id}/outcome: record_outcome."""

    field_messages = {"outcome": "結果（outcome）を指定してください。"}

    outcome: choice(Outcome, message="結果は次のいずれかです: {allowed}")
    forward_to: code("付議先は会議の種類のコードで指定してください。", nullable=True) = None
    version: integer(nullable=True) = Field(None, description="案件の version（任意）")


# -- answers -----------------------------------------------------------------------------------


class Attendance(TypedDict):
    section: str
    deputy: Annotated[bool, Field(description="（代）")]
    present: Annotated[bool, Field(description="false: 欠席（様式２では □）")]


class Opinion(TypedDict):
    id: Annotated[Id, Field(description="意見の id（所管課の追記 opinion_notes が指す）")]
    opinion: Annotated[str, Field(description="○ 意見")]
    response: Annotated[str | None, Field(description="→ 回答")]
    follow_up: Annotated[str | None, Field(description="（→ …）後日の補足")]
    public: Annotated[bool, Field(description="false: 公開しない意見（職員だけに見える）")]


class MinutesFields(TypedDict):
    """What was said about an item at a meeting: empty unless the caller may read the minutes."""

    attendance: list[Attendance]
    opinions: list[Opinion]
    outcome: enum_value(Outcome, "結果", nullable=True)
    outcome_text: Annotated[str | None, Field(description="印字される結果の文言")]
    forward_to: as_string(nullable=True, description=KIND_SCHEMA["description"])
    special_notes: Annotated[str, Field(description="特記事項")]


class Entry(MinutesFields):
    """議題の1件."""

    number: Id
    item_id: Id
    item_title: str
    item_status: enum_value(ItemStatus)
    presenter: Annotated[str, Field(description="説明者（職名）")]
    disclosure: enum_value(Disclosure, "公開範囲（非公開の議題は一般には返らない）")
    disclosure_reason: Annotated[str, Field(description="一部非公開・非公開の理由（条例の条項）")]


class MeetingSummary(TypedDict):
    id: Id
    title: Annotated[str, Field(description="「第５回 政策調整会議」")]
    kind: str
    kind_name: str
    number: Id
    fiscal_year: int
    date: IsoDate
    submission_deadline: as_string(
        format="date",
        description="申込締切: 開催日の N 開庁日前（N は会議の種類ごと、既定 5。土日・祝日・"
        "12月29日～1月3日・管理者が登録した閉庁日を除いて数える）。兼ねて開く会議は早いほう。"
        "管理者が会議ごとに設定していればその日",
    )
    status: enum_value(MeetingStatus)
    status_label: str
    cancel_reason: Annotated[str, Field(description="中止の理由（中止でなければ空）")]
    version: Id


class Meeting(MeetingSummary):
    number_fixed: Annotated[
        bool, Field(description="true: 第N回を手で決めた。false: 日付順の自動の回数")
    ]
    second_kind: Annotated[str | None, Field(description="兼ねて開く庁議の種類")]
    joint_name: Annotated[str, Field(description="兼ねて開く会議（「ＩＣＴ戦略調整会議」）")]
    start_time: as_string(nullable=True, description="HH:MM")
    end_time: as_string(nullable=True, description="HH:MM")
    venue: str
    chair: str
    minutes_readable: bool
    entries: list[Entry]
    allowed_events: list[str]


class MeetingList(TypedDict):
    meetings: list[MeetingSummary]
    total: int
