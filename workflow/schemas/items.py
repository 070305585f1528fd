"""様式２ as input (DOMAIN §3): the body of POST and PATCH /api/v1/items, and what the item form
sends to :func:`workflow.services.items.file_item` / ``update_item``. Keys that are absent are
left alone; only the keys given (``model_fields_set``) are applied."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    model_validator,
)
from sqlalchemy import select
from typing_extensions import TypedDict

from workflow.extensions import db
from workflow.models import Section
from workflow.schemas.comments import PublicCommentProcess
from workflow.schemas.limits import (
    CODE_MAX,
    LINE_MAX,
    NAME_MAX,
    POLICY_REF_MAX,
    ROUTE_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from workflow.schemas.meetings import Attendance, MinutesFields, Opinion
from workflow.schemas.types import (
    ID,
    KIND_SCHEMA,
    NOT_TEXT,
    Body,
    Id,
    IsoDate,
    IsoDateTime,
    as_string,
    check_text,
    choice,
    day,
    enum_value,
    flag,
    meeting_kind,
    refuse,
    refuse_at,
    rows,
    text,
)
from workflow.states.states import (
    CoordinationStatus,
    CouncilChannel,
    ItemStatus,
    MeetingStatus,
    OrdinanceChange,
    OrdinanceKind,
    PressRelease,
    SubmissionLabel,
)

HISTORY_ROWS_DOC = (
    "検討経過等（DOMAIN §3 の `history`）。リクエストでは `history` または `history_rows`"
    "（同じ意味。両方あれば `history_rows` を使い、`history` は読み取り専用のイベント履歴とみなして無視）。"
)


def _section(value: Any) -> Section:
    if not isinstance(value, str | None):
        raise refuse(NOT_TEXT)
    name = check_text(value or "", NAME_MAX, required=True)
    section = db.session.scalar(select(Section).where(Section.name == name))
    if section is None:
        raise refuse(f"課「{name}」は登録されていません。")
    return section


SectionName = Annotated[
    Section,
    PlainValidator(_section),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": NAME_MAX}),
]


def _each_kind_once(kinds: list[str]) -> list[str]:
    if len(set(kinds)) != len(kinds):
        raise refuse("同じ会議を二度指定することはできません。")
    return kinds


class HistoryRow(Body):
    """検討経過等 (打合せ・会議の経過) の1行."""

    when: text(NAME_MAX) = Field("", description="「R1.7.5・7.29」など自由記述")
    meeting: text(LINE_MAX) = ""
    content: text(TEXT_MAX) = ""
    remarks: text(TEXT_MAX) = Field("", description="備考")


class CoordinationRow(Body):
    """関係部局との調整の1行."""

    department: text(NAME_MAX, required=True)
    content: text(TEXT_MAX) = ""
    status: choice(CoordinationStatus) = CoordinationStatus.NOT_STARTED


class DetailRow(Body):
    """事案の具体的な内容（裏面）の1節."""

    heading: text(LINE_MAX, required=True)
    body: text(TEXT_MAX) = ""


class PublicCommentPlan(Body):
    planned: flag() = False
    period_text: text(LINE_MAX) = ""


class CouncilReport(Body):
    channel: choice(CouncilChannel) = CouncilChannel.NONE
    timing: text(LINE_MAX) = ""
    regular_session: flag() = Field(False, description="定例会議（「〈timing〉定例会議」と印刷）")


class Ordinance(Body):
    kind: choice(OrdinanceKind) = OrdinanceKind.NONE
    change: choice(OrdinanceChange, nullable=True) = None
    council_submission: text(LINE_MAX) = ""
    submission_label: choice(SubmissionLabel, "時期の見出し") = SubmissionLabel.PROPOSAL

    @model_validator(mode="after")
    def _no_change_without_kind(self) -> Ordinance:
        if self.kind == OrdinanceKind.NONE and self.change is not None:
            message = "条例等の種類が「なし」のときは、制定・改正等は指定できません。"
            raise refuse_at("change", message)
        return self


class OpinionNote(Body):
    """所管課の追記: これまでの庁議での意見の下に「（→…）」と印刷する（DOMAIN §9）."""

    opinion_id: ID = Field(description="これまでの会議の意見の id（GET の prior_opinions）")
    text: text(TEXT_MAX, required=True)


def _history_rows_schema(schema: dict[str, Any]) -> None:
    """``history_rows`` is the same list as ``history`` (see :data:`HISTORY_ROWS_DOC`)."""
    props = schema["properties"]
    schema["properties"] = {
        **{k: v for k, v in props.items() if k != "route"},
        "history_rows": props["history"],
        "route": props["route"],
    }


class ItemInput(Body):
    """新しい案件の様式２の項目。作成に必須なのは title と section。申込（submit）には、ほかに
    applied_on, target_kind（route にある、途中で経由する会議でない種類）, route, bureau, summary,
    discussion_points（一つ以上）が必要で、足りない項目はすべて 422 の details.fields に並ぶ。
    送らなかった項目に既定値は入らない（局・区や部も課から補わない）。"""

    model_config = ConfigDict(json_schema_extra=_history_rows_schema)

    title: text(TITLE_MAX, required=True, one_line=True) = Field(description="案件名")
    applied_on: day() = Field(None, description="申込日 YYYY-MM-DD（和暦も可）")
    target_kind: meeting_kind(nullable=True) = None
    section: SectionName = Field(description="所管課の名前（登録済みの課）")
    bureau: text(NAME_MAX) = Field("", description="局/区")
    division: text(NAME_MAX) = Field("", description="部")
    contact: text(NAME_MAX) = Field("", description="担当者")
    extension: text(CODE_MAX) = Field("", description="内線")
    policy_ref: text(POLICY_REF_MAX) = Field("", description="施策番号及び実施計画事業名")
    in_implementation_plan: flag() = False
    summary: text(TEXT_MAX) = Field("", description="概要")
    discussion_points: rows(text(TEXT_MAX, required=True)) = []
    history: rows(HistoryRow, description=HISTORY_ROWS_DOC) = []
    public_comment: PublicCommentPlan = PublicCommentPlan()
    press_release: choice(PressRelease, "報道への情報提供") = PressRelease.NONE
    council_report: CouncilReport = CouncilReport()
    ordinance: Ordinance = Ordinance()
    advisory_body: flag() = False
    personal_info_use: flag() = False
    coordination: rows(CoordinationRow) = []
    schedule_notes: text(TEXT_MAX) = Field("", description="日程等調整事項")
    remarks: text(TEXT_MAX) = Field("", description="備考")
    details: rows(DetailRow, description="事案の具体的な内容（裏面）") = []
    opinion_notes: rows(
        OpinionNote, description="これまでの庁議での意見への所管課の追記（意見ごとに1つ）"
    ) = []
    route: Annotated[
        rows(meeting_kind(), max_rows=ROUTE_MAX),
        AfterValidator(_each_kind_once),
    ] = Field(
        None,
        description="審議の経路: 審議する会議の種類の順（申込には一つ以上必要。既定値はない）",
    )

    @model_validator(mode="before")
    @classmethod
    def _history_rows_is_history(cls, data: Any) -> Any:
        # GET gives the event history as ``history``: with ``history_rows`` present, that is it.
        if isinstance(data, dict) and "history_rows" in data:
            data = {k: v for k, v in data.items() if k != "history"}
            data["history"] = data.pop("history_rows")
        return data

    def given(self) -> dict[str, Any]:
        """The keys sent, as plain values (rows as dicts) for :func:`apply_item_fields`."""
        clean: dict[str, Any] = {}
        for key in self.model_fields_set:
            value = getattr(self, key)
            if isinstance(value, Body):
                value = value.model_dump()
            elif isinstance(value, list):
                value = [v.model_dump() if isinstance(v, Body) else v for v in value]
            clean[key] = value
        return clean


def _patch_schema(schema: dict[str, Any]) -> None:
    _history_rows_schema(schema)
    # A client may send back the document it read: the read-only keys are ignored, not refused.
    schema.pop("additionalProperties", None)


class ItemChanges(ItemInput):
    """An existing item's changes, as the services take them: nothing is required."""

    title: text(TITLE_MAX, required=True, one_line=True) = Field(None, description="案件名")
    section: SectionName = Field(None, description="所管課の名前（登録済みの課）")


class ItemPatch(ItemChanges):
    """渡した項目だけを変更。GET の読み取り専用の項目（id, status …）は無視する。"""

    model_config = ConfigDict(json_schema_extra=_patch_schema)

    version: ID = Field(description="読み込んだときの version（必須。古ければ 409）")


# -- answers -----------------------------------------------------------------------------------


class ItemSummary(TypedDict):
    """An item in a list."""

    id: Id
    title: str
    section: str
    applied_on: as_string(nullable=True, format="date")
    target_kind: str | None
    status: enum_value(ItemStatus)
    status_label: str
    level_kind: str | None
    late: Annotated[bool, Field(description="締切後（最後の申込が申込締切より後）")]
    version: Id
    updated_at: IsoDateTime


HistoryEvent = TypedDict(
    "HistoryEvent",
    {
        "event": str,
        "event_label": str,
        "from": str,
        "to": str,
        "actor": str | None,
        "at": IsoDateTime,
        "reason": str,
        "params": dict[str, Any],
    },
)


class ItemFields(TypedDict):
    """The 様式２ fields as typed (``history_rows`` are DOMAIN's ``history``: 検討経過)."""

    title: Annotated[str, Field(description="案件名")]
    applied_on: as_string(nullable=True, format="date")
    target_kind: as_string(nullable=True, description=KIND_SCHEMA["description"])
    bureau: Annotated[str, Field(description="局/区")]
    division: Annotated[str, Field(description="部")]
    section: Annotated[str, Field(description="所管課")]
    contact: Annotated[str, Field(description="担当者")]
    extension: Annotated[str, Field(description="内線")]
    policy_ref: Annotated[str, Field(description="施策番号及び実施計画事業名")]
    in_implementation_plan: bool
    summary: Annotated[str, Field(description="概要")]
    discussion_points: list[str]
    history_rows: Annotated[
        list[HistoryRow], Field(description="検討経過等（DOMAIN §3 の history）")
    ]
    public_comment: PublicCommentPlan
    press_release: enum_value(PressRelease, "報道への情報提供")
    council_report: CouncilReport
    ordinance: Ordinance
    advisory_body: bool
    personal_info_use: bool
    coordination: list[CoordinationRow]
    schedule_notes: Annotated[str, Field(description="日程等調整事項")]
    remarks: Annotated[str, Field(description="備考")]
    details: Annotated[list[DetailRow], Field(description="事案の具体的な内容（裏面）")]
    opinion_notes: Annotated[
        list[OpinionNote], Field(description="これまでの庁議での意見への所管課の追記")
    ]
    route: Annotated[
        list[as_string(**KIND_SCHEMA)],
        Field(description="審議の経路: 審議する会議の種類の順"),
    ]


class ItemDeliberation(MinutesFields):
    """The item at one meeting; what was said only for those who may read the minutes."""

    meeting_id: Id
    meeting_title: str
    kind: str
    date: IsoDate
    meeting_status: enum_value(MeetingStatus)
    presenter: str
    minutes_readable: Annotated[bool, Field(description="false なら意見・出席・結果は伏せてある")]


class PriorOpinions(TypedDict):
    """これまでの庁議での主な意見: one meeting's opinions."""

    meeting_id: Id
    meeting_title: str
    name: Annotated[str, Field(description="【会議名】")]
    date: IsoDate
    opinions: list[Opinion]
    outcome_text: str | None


class Item(ItemFields):
    """Every field of the item, what the system derived, and what the caller may do with it."""

    id: Id
    status: enum_value(ItemStatus)
    status_label: str
    level_kind: Annotated[str | None, Field(description="待っている／予定されている会議の種類")]
    late: Annotated[
        bool,
        Field(
            description="締切後: 最後の申込が、待っている会議の種類（初めての申込では経路の最初の"
            "種類）の次の予定の会議の申込締切より後だった"
        ),
    ]
    version: Id
    created_at: IsoDateTime
    updated_at: IsoDateTime
    review_dates: Annotated[dict[str, IsoDate], Field(description="審議日: 会議の種類 → 日付")]
    section_managers_attendance: list[Attendance]
    section_managers_result: Annotated[str | None, Field(description="関係課長会議の結果等")]
    prior_opinions: Annotated[
        list[PriorOpinions],
        Field(description="これまでの庁議での主な意見（議事録を読める会議のみ）"),
    ]
    deliberations: list[ItemDeliberation]
    public_comment_process: PublicCommentProcess | None
    history: Annotated[
        list[HistoryEvent],
        Field(
            description="イベント履歴（ログイン不要の公開閲覧では空）。様式２の検討経過は history_rows。"
        ),
    ]
    allowed_events: Annotated[list[str], Field(description="呼び出した人がいま行える操作")]


class VersionSummary(TypedDict):
    """One saved version of the 様式２ (DOMAIN §9)."""

    number: Annotated[
        int, Field(description="第N版（1 が最初に申し込んだ様式）。案件の version とは別")
    ]
    created_at: IsoDateTime
    created_by: Annotated[str | None, Field(description="保存した人のログイン名")]
    meeting_ids: Annotated[
        list[int], Field(description="この版が付議された（凍結された）会議の id")
    ]


class VersionList(TypedDict):
    versions: list[VersionSummary]


class ItemList(TypedDict):
    items: list[ItemSummary]
    total: int
