"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API (a test holds it complete)."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from workflow.api.common import MAX_ID, bp
from workflow.api.meetings import MEETING_EVENTS
from workflow.api.open_data import MINUTES_COLUMNS
from workflow.schemas.events import ITEM_EVENT_BODIES as EVENT_PARAMS
from workflow.services.search import SEARCH_FIELDS
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
)

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _str(description: str = "", **kw: Any) -> Schema:
    return {"type": "string", **({"description": description} if description else {}), **kw}


def _nullable(schema: Schema) -> Schema:
    return {**schema, "type": [schema["type"], "null"]}


def _enum(enum_cls, description: str = "") -> Schema:
    labels = "、".join(f"{m.value}={m.label}" for m in enum_cls)
    return _str(f"{description} ({labels})".strip(), enum=[m.value for m in enum_cls])


def _obj(properties: dict[str, Schema], required: list[str] | None = None, **kw: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, **kw}
    if required is not None:
        schema["required"] = required
    return schema


def _closed(properties: dict[str, Schema], **kw: Any) -> Schema:
    """An object whose every property is always present (a response)."""
    return _obj(properties, list(properties), **kw)


def _array(items: Schema, **kw: Any) -> Schema:
    return {"type": "array", "items": items, **kw}


DATE = _str(format="date")
DATETIME = _str(format="date-time")
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
KIND = _str(
    "会議の種類のコード (section_managers, affairs_coordination, bureau_policy, policy_coordination, policy_decision …)"
)

HISTORY_ROW = _obj(
    {"when": _str("「R1.7.5・7.29」など自由記述"), "meeting": _str(), "content": _str()},
    additionalProperties=False,
)
HISTORY_ROWS_DOC = (
    "検討経過等（DOMAIN §3 の `history`）。リクエストでは `history` または `history_rows`"
    "（同じ意味。両方あれば `history_rows` を使い、`history` は読み取り専用のイベント履歴とみなして無視）。"
)


def _item_input(patch: bool) -> Schema:
    props: dict[str, Schema] = {
        "title": _str("案件名", minLength=1, maxLength=200),
        "applied_on": _str("申込日 YYYY-MM-DD（和暦も可）", format="date"),
        "target_kind": _nullable(KIND),
        "section": _str("所管課の名前（登録済みの課）", minLength=1, maxLength=100),
        "bureau": _str("局/区", maxLength=100),
        "division": _str("部", maxLength=100),
        "contact": _str("担当者", maxLength=100),
        "extension": _str("内線", maxLength=40),
        "policy_ref": _str("施策番号及び実施計画事業名", maxLength=400),
        "in_implementation_plan": {"type": "boolean"},
        "summary": _str("概要", maxLength=20000),
        "discussion_points": _array(_str(minLength=1), maxItems=100),
        "history": _array(HISTORY_ROW, maxItems=100, description=HISTORY_ROWS_DOC),
        "history_rows": _array(HISTORY_ROW, maxItems=100, description=HISTORY_ROWS_DOC),
        "public_comment": _obj(
            {"planned": {"type": "boolean"}, "period_text": _str(maxLength=200)},
            additionalProperties=False,
        ),
        "press_release": _enum(PressRelease, "報道への情報提供"),
        "council_report": _obj(
            {"channel": _enum(CouncilChannel), "timing": _str(maxLength=200)},
            additionalProperties=False,
        ),
        "ordinance": _obj(
            {
                "kind": _enum(OrdinanceKind),
                "change": {**_enum(OrdinanceChange), "type": ["string", "null"]},
                "council_submission": _str(maxLength=200),
            },
            additionalProperties=False,
        ),
        "advisory_body": {"type": "boolean"},
        "personal_info_use": {"type": "boolean"},
        "coordination": _array(
            _obj(
                {
                    "department": _str(minLength=1, maxLength=100),
                    "content": _str(),
                    "status": _enum(CoordinationStatus),
                },
                ["department"],
                additionalProperties=False,
            ),
            maxItems=100,
        ),
        "schedule_notes": _str("日程等調整事項"),
        "remarks": _str("備考"),
        "details": _array(
            _obj(
                {"heading": _str(minLength=1, maxLength=200), "body": _str()},
                ["heading"],
                additionalProperties=False,
            ),
            maxItems=100,
            description="事案の具体的な内容（裏面）",
        ),
        "route": _array(
            KIND,
            maxItems=10,
            description='付議する会議の順。既定 ["section_managers", "policy_coordination"]',
        ),
    }
    if patch:
        props["version"] = {**ID, "description": "読み込んだときの version（必須。古ければ 409）"}
        return _obj(
            props,
            ["version"],
            description="渡した項目だけを変更。GET の読み取り専用の項目（id, status …）は無視する。",
        )
    return _obj(props, ["title", "section"], additionalProperties=False)


OPINION = _closed(
    {
        "opinion": _str("○ 意見"),
        "response": _nullable(_str("→ 回答")),
        "follow_up": _nullable(_str("（→ …）後日の補足")),
    }
)
ATTENDANCE = _closed({"section": _str(), "deputy": {"type": "boolean", "description": "（代）"}})
MINUTES_FIELDS = {
    "attendance": _array(ATTENDANCE),
    "opinions": _array(OPINION),
    "outcome": {**_enum(Outcome, "結果"), "type": ["string", "null"], "enum": [*Outcome, None]},
    "outcome_text": _nullable(_str("印字される結果の文言")),
    "forward_to": _nullable(KIND),
    "special_notes": _str("特記事項"),
}


def _item_schema() -> Schema:
    fields = _item_input(patch=False)["properties"]
    fields = {k: v for k, v in fields.items() if k != "history"}
    fields["history_rows"] = _array(HISTORY_ROW, description="検討経過等（DOMAIN §3 の history）")
    fields["applied_on"] = _nullable(DATE)
    fields["title"] = _str("案件名")
    fields["section"] = _str("所管課")
    return _closed(
        {
            "id": ID,
            **fields,
            "status": _enum(ItemStatus),
            "status_label": _str(),
            "level_kind": _nullable(_str("待っている／予定されている会議の種類")),
            "version": ID,
            "created_at": DATETIME,
            "updated_at": DATETIME,
            "review_dates": _obj(
                {}, additionalProperties=DATE, description="審議日: 会議の種類 → 日付"
            ),
            "section_managers_attendance": _array(ATTENDANCE),
            "section_managers_result": _nullable(_str("関係課長会議の結果等")),
            "prior_opinions": _array(
                _closed(
                    {
                        "meeting_id": ID,
                        "meeting_title": _str(),
                        "name": _str("【会議名】"),
                        "date": DATE,
                        "opinions": _array(OPINION),
                        "outcome_text": _nullable(_str()),
                    }
                ),
                description="これまでの庁議での主な意見（議事録を読める会議のみ）",
            ),
            "deliberations": _array(
                _closed(
                    {
                        "meeting_id": ID,
                        "meeting_title": _str(),
                        "kind": _str(),
                        "date": DATE,
                        "meeting_status": _enum(MeetingStatus),
                        "presenter": _str(),
                        "minutes_readable": {
                            "type": "boolean",
                            "description": "false なら意見・出席・結果は伏せてある",
                        },
                        **MINUTES_FIELDS,
                    }
                )
            ),
            "public_comment_process": {
                "oneOf": [_ref("PublicCommentProcess"), {"type": "null"}],
            },
            "history": _array(
                _ref("HistoryEvent"),
                description="イベント履歴（ログイン不要の公開閲覧では空）。"
                "様式２の検討経過は history_rows。",
            ),
            "allowed_events": _array(_str(), description="呼び出した人がいま行える操作"),
        }
    )


ITEM_SUMMARY = _closed(
    {
        "id": ID,
        "title": _str(),
        "section": _str(),
        "applied_on": _nullable(DATE),
        "target_kind": _nullable(_str()),
        "status": _enum(ItemStatus),
        "status_label": _str(),
        "level_kind": _nullable(_str()),
        "version": ID,
        "updated_at": DATETIME,
    }
)
MEETING_SUMMARY_PROPS = {
    "id": ID,
    "title": _str("「第５回 政策調整会議」"),
    "kind": _str(),
    "kind_name": _str(),
    "number": ID,
    "fiscal_year": {"type": "integer"},
    "date": DATE,
    "status": _enum(MeetingStatus),
    "status_label": _str(),
    "version": ID,
}
ENTRY = _closed(
    {
        "number": ID,
        "item_id": ID,
        "item_title": _str(),
        "item_status": _enum(ItemStatus),
        "presenter": _str("説明者（職名）"),
        **MINUTES_FIELDS,
    }
)


def _schemas() -> dict[str, Schema]:
    return {
        "Error": _closed(
            {
                "error": _closed(
                    {
                        "code": _str(
                            "bad_request, unauthorized, forbidden, not_found, unknown_event, "
                            "not_allowed_in_state, conflict, validation_failed, payload_too_large …"
                        ),
                        "message": _str("利用者向けの日本語のメッセージ"),
                        "details": _obj(
                            {
                                "fields": _obj(
                                    {},
                                    additionalProperties=_array(_str()),
                                    description="422: 項目 → メッセージ",
                                ),
                                "status": _str("409: 現在の状態"),
                                "allowed_events": _array(_str()),
                            }
                        ),
                    }
                )
            }
        ),
        "ItemInput": _item_input(patch=False),
        "ItemPatch": _item_input(patch=True),
        "Item": _item_schema(),
        "ItemSummary": ITEM_SUMMARY,
        "HistoryEvent": _closed(
            {
                "event": _str(),
                "event_label": _str(),
                "from": _str(),
                "to": _str(),
                "actor": _nullable(_str()),
                "at": DATETIME,
                "reason": _str(),
                "params": {"type": "object"},
            }
        ),
        "PublicCommentProcess": _closed(
            {
                "status": _enum(PublicCommentStatus),
                "status_label": _str(),
                "published_on": DATE,
                "closes_on": DATE,
                "how_to_submit": _str(),
                "shortened_reason": _str(),
                "closed_on": _nullable(DATE),
                "results_published_on": _nullable(DATE),
                "changes_made": _str(),
                "abandoned_reason": _str(),
                "opinion_count": {"type": "integer", "minimum": 0},
                "submitter_count": {"type": "integer", "minimum": 0},
                "version": ID,
            }
        ),
        "CommentOpinion": _closed(
            {
                "number": ID,
                "submitter_no": ID,
                "submitter_kind": _str(),
                "summary": _str(),
                "city_view": _str("市の考え方"),
                "handling": {
                    **_enum(Handling),
                    "type": ["string", "null"],
                    "enum": [*Handling, None],
                },
                "handling_label": _nullable(_str()),
            }
        ),
        "MeetingSummary": _closed(MEETING_SUMMARY_PROPS),
        "Meeting": _closed(
            {
                **MEETING_SUMMARY_PROPS,
                "joint_name": _str("兼ねて開く会議（「ＩＣＴ戦略調整会議」）"),
                "start_time": _nullable(_str("HH:MM")),
                "end_time": _nullable(_str("HH:MM")),
                "venue": _str(),
                "chair": _str(),
                "minutes_readable": {"type": "boolean"},
                "entries": _array(ENTRY),
                "allowed_events": _array(_str()),
            }
        ),
        "MinutesRow": _closed({c: _str() if "_id" not in c else ID for c in MINUTES_COLUMNS}),
    }


def _json(schema: Schema) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": "JSON として読めない本文",
    "401": "トークンがない（必要な操作）か、正しくない",
    "403": "役割・所属課ではできない",
    "404": "ない、または公開されていない",
    "409": "現在の状態ではできない（details.status, details.allowed_events）か、version が古い",
    "413": "本文が大きすぎる",
    "422": "入力の誤り（details.fields）",
    "503": "時間がかかりすぎたため中止した（took_too_long: 語を長くして再検索）",
}


def _op(
    summary: str,
    ok: str,
    schema: Schema | None,
    *,
    errors: tuple[str, ...],
    body: Schema | None = None,
    params: list[Schema] | None = None,
    media: str = "application/json",
    description: str = "",
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if media == "application/json":
        responses[ok] = {"description": "OK", **_json(schema)}
    else:
        responses[ok] = {
            "description": "OK",
            "content": {media: {"schema": {"type": "string", "format": "binary"}}},
        }
    if media == "application/pdf":
        responses["304"] = {"description": "If-None-Match の ETag と同じ"}
    for code in errors:
        responses[code] = {"description": ERRORS[code], **_json(_ref("Error"))}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": False, **_json(body)}
    return op


def _path(name: str, description: str = "", schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema or ID,
        **({"description": description} if description else {}),
    }


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


ITEM_ID = _path("item_id", "案件のID")
MEETING_ID = _path("meeting_id", "会議のID")
MINUTES_FISCAL_YEAR = _query(
    "fiscal_year",
    {"type": "integer", "minimum": 1, "maximum": 9999},
    "この年度（4月～翌年3月）の会議だけ。省略するとすべての年度",
)
MINUTES_DESCRIPTION = (
    "公開された会議の意見を、会議の日付順・議題順・意見順に1行ずつ。"
    "作りながら送る（chunked）ので、大きくても最初のバイトはすぐ届く。"
)
VERSION = {"version": {**ID, "description": "読み込んだときの version（任意。古ければ 409）"}}
READ = ("401", "403", "404", "422")
WRITE = ("400", "401", "403", "404", "409", "413", "422")


def _event_body() -> Schema:
    return _obj(
        {
            **VERSION,
            "reason": _str("return, withdraw: 理由（必須）"),
            "published_on": _str("open_public_comment: 公示日", format="date"),
            "closes_on": _str("open_public_comment: 締切日", format="date"),
            "how_to_submit": _str("open_public_comment: 提出方法"),
            "shortened_reason": _str("open_public_comment: 30日未満とする理由"),
            "changes_made": _str("publish_comment_results: 案の修正内容とその理由（任意）"),
            "today": _str(
                "close_public_comment: 終了日（テスト環境だけ。通常は市の今日）", format="date"
            ),
        },
        description="イベントごとに使える項目だけを送る（ほかは 422）。",
    )


def _paths() -> dict[str, Any]:
    item = _ref("Item")
    meeting = _ref("Meeting")
    pdf = "application/pdf"
    return {
        "/api/v1/items": {
            "post": _op(
                "案件を作成（作成中）",
                "201",
                item,
                errors=("400", "401", "403", "413", "422"),
                body=_ref("ItemInput"),
                description="所管課職員は自分の課の案件だけ作成できる。" + HISTORY_ROWS_DOC,
            ),
            "get": _op(
                "案件の一覧",
                "200",
                _closed({"items": _array(_ref("ItemSummary")), "total": {"type": "integer"}}),
                errors=("401", "422"),
                params=[
                    _query("status", _enum(ItemStatus)),
                    _query("kind", _str(), "level_kind（待っている／予定の会議の種類）で絞る"),
                    _query("q", _str(maxLength=200), "案件名・概要の部分一致"),
                    _query("page", {"type": "integer", "minimum": 1, "maximum": 100000}),
                    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200}),
                ],
            ),
        },
        "/api/v1/items/{item_id}": {
            "parameters": [ITEM_ID],
            "get": _op("案件（全項目）", "200", item, errors=READ),
            "patch": _op(
                "案件を編集（作成中・差戻し中・修正対応中）",
                "200",
                item,
                errors=WRITE,
                body=_ref("ItemPatch"),
                description=HISTORY_ROWS_DOC,
            ),
        },
        "/api/v1/items/{item_id}/events/{event}": {
            "parameters": [
                ITEM_ID,
                _path(
                    "event",
                    "submit, return, accept, withdraw, submit_amendment, conclude, "
                    "open_public_comment, close_public_comment, publish_comment_results"
                    "（ほかは 404 unknown_event。schedule 等は会議の議題の操作で）",
                    _str(enum=list(EVENT_PARAMS)),
                ),
            ],
            "post": _op("案件の操作", "200", item, errors=WRITE, body=_event_body()),
        },
        "/api/v1/items/{item_id}/public-comment/opinions": {
            "parameters": [ITEM_ID],
            "get": _op(
                "パブリックコメントの意見",
                "200",
                _closed({"opinions": _array(_ref("CommentOpinion"))}),
                errors=READ,
            ),
            "post": _op(
                "意見を登録",
                "201",
                _ref("CommentOpinion"),
                errors=WRITE,
                body=_obj(
                    {
                        "summary": _str(minLength=1),
                        "submitter_kind": _str("個人 / 団体 / 事業者", maxLength=50),
                        "submitter_no": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 9999,
                            "description": "同じ提出者の意見は同じ番号（省略時は新しい提出者）",
                        },
                    },
                    ["summary"],
                    additionalProperties=False,
                ),
            ),
        },
        "/api/v1/items/{item_id}/public-comment/opinions/{number}": {
            "parameters": [ITEM_ID, _path("number", "意見の番号")],
            "put": _op(
                "意見を編集・市の考え方と対応区分を入力",
                "200",
                _ref("CommentOpinion"),
                errors=WRITE,
                body=_obj(
                    {
                        "summary": _str(minLength=1),
                        "submitter_kind": _str(maxLength=50),
                        "city_view": _str("市の考え方（意見募集の終了後）"),
                        "handling": {
                            **_enum(Handling),
                            "type": ["string", "null"],
                            "enum": [*Handling, None],
                        },
                    },
                    additionalProperties=False,
                ),
            ),
        },
        "/api/v1/items/{item_id}/form.pdf": {
            "parameters": [ITEM_ID],
            "get": _op("様式２（案件申込書）", "200", None, errors=READ, media=pdf),
        },
        "/api/v1/items/{item_id}/public-comment/results.pdf": {
            "parameters": [ITEM_ID],
            "get": _op("意見募集の結果", "200", None, errors=READ, media=pdf),
        },
        "/api/v1/meetings": {
            "post": _op(
                "会議を作成（予定）",
                "201",
                meeting,
                errors=("400", "401", "403", "413", "422"),
                body=_obj(
                    {
                        "kind": KIND,
                        "date": DATE,
                        "number": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 9999,
                            "description": "第N回（省略時は年度ごとの連番）",
                        },
                        "chair": _str(maxLength=100),
                        "venue": _str(maxLength=200),
                        "start_time": _str("HH:MM"),
                        "joint_name": _str("兼ねて開く会議の名前", maxLength=100),
                    },
                    ["kind", "date"],
                    additionalProperties=False,
                ),
            ),
            "get": _op(
                "会議の一覧",
                "200",
                _closed({"meetings": _array(_ref("MeetingSummary")), "total": {"type": "integer"}}),
                errors=("401", "422"),
                params=[
                    _query("kind", _str()),
                    _query(
                        "fiscal_year", {"type": "integer", "minimum": 1, "maximum": 9999}, "年度"
                    ),
                ],
            ),
        },
        "/api/v1/meetings/{meeting_id}": {
            "parameters": [MEETING_ID],
            "get": _op("会議と議題", "200", meeting, errors=READ),
        },
        "/api/v1/meetings/{meeting_id}/entries": {
            "parameters": [MEETING_ID],
            "post": _op(
                "案件を議題にする（schedule）",
                "201",
                meeting,
                errors=WRITE,
                body=_obj(
                    {
                        "item_id": ID,
                        "presenter": _str("説明者（職名）", maxLength=100),
                        "version": {**ID, "description": "案件の version（任意）"},
                    },
                    ["item_id"],
                    additionalProperties=False,
                ),
            ),
        },
        "/api/v1/meetings/{meeting_id}/entries/{item_id}": {
            "parameters": [MEETING_ID, ITEM_ID],
            "put": _op(
                "審議の記録（渡した項目ごとに置き換え）",
                "200",
                meeting,
                errors=WRITE,
                body=_obj(
                    {
                        "presenter": _str(maxLength=100),
                        "attendance": _array(
                            _obj(
                                {
                                    "section": _str(minLength=1, maxLength=100),
                                    "deputy": {"type": "boolean"},
                                },
                                ["section"],
                                additionalProperties=False,
                            ),
                            maxItems=100,
                        ),
                        "opinions": _array(
                            _obj(
                                {
                                    "opinion": _str(minLength=1),
                                    "response": _nullable(_str()),
                                    "follow_up": _nullable(_str()),
                                },
                                ["opinion"],
                                additionalProperties=False,
                            ),
                            maxItems=100,
                        ),
                        "special_notes": _str(),
                        "version": {**ID, "description": "会議の version（任意）"},
                    },
                    additionalProperties=False,
                ),
            ),
            "delete": _op("議題から外す（unschedule）", "200", meeting, errors=WRITE),
        },
        "/api/v1/meetings/{meeting_id}/entries/{item_id}/outcome": {
            "parameters": [MEETING_ID, ITEM_ID],
            "post": _op(
                "結果を登録（record_outcome）",
                "200",
                meeting,
                errors=WRITE,
                body=_obj(
                    {
                        "outcome": _enum(Outcome),
                        "forward_to": _nullable(KIND),
                        "version": {**ID, "description": "案件の version（任意）"},
                    },
                    ["outcome"],
                    additionalProperties=False,
                ),
            ),
        },
        "/api/v1/meetings/{meeting_id}/events/{event}": {
            "parameters": [
                MEETING_ID,
                _path("event", "hold, confirm, publish", _str(enum=list(MEETING_EVENTS))),
            ],
            "post": _op(
                "開催済にする・議事録の確定・公開",
                "200",
                meeting,
                errors=WRITE,
                body=_obj({**VERSION}, additionalProperties=False),
            ),
        },
        "/api/v1/meetings/{meeting_id}/minutes.pdf": {
            "parameters": [MEETING_ID],
            "get": _op("様式６ 議事録（確定前は「案」）", "200", None, errors=READ, media=pdf),
        },
        "/api/v1/meetings/{meeting_id}/agenda.pdf": {
            "parameters": [MEETING_ID],
            "get": _op("次第", "200", None, errors=READ, media=pdf),
        },
        "/api/v1/search": {
            "get": _op(
                "案件の検索（案件名・概要・論点・裏面・意見と回答・特記事項などの部分一致）",
                "200",
                _closed(
                    {
                        "results": _array(
                            _closed(
                                {
                                    "item_id": ID,
                                    "title": _str(),
                                    "status": _enum(ItemStatus),
                                    "status_label": _str(),
                                    "field": _str(enum=list(SEARCH_FIELDS)),
                                    "snippet": _str(),
                                }
                            )
                        )
                    }
                ),
                errors=("401", "422", "503"),
                params=[
                    _query("q", _str(maxLength=200)),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
                ],
            )
        },
        "/api/v1/minutes.json": {
            "get": _op(
                "公開された議事録（オープンデータ、意見ごとに1行）",
                "200",
                _closed(
                    {
                        "columns": _array(_str()),
                        "rows": _array(_ref("MinutesRow")),
                    }
                ),
                errors=("401", "422"),
                params=[MINUTES_FISCAL_YEAR],
                description=MINUTES_DESCRIPTION,
            )
        },
        "/api/v1/minutes.csv": {
            "get": _op(
                "公開された議事録（CSV、UTF-8 BOM付き）",
                "200",
                None,
                errors=("401", "422"),
                params=[MINUTES_FISCAL_YEAR],
                description=MINUTES_DESCRIPTION,
                media="text/csv",
            )
        },
        "/api/v1/openapi.json": {
            "get": _op("この文書", "200", {"type": "object"}, errors=("401",)),
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "chogi 庁議ワークフロー API",
            "version": "1.0.0",
            "description": (
                "認証は `Authorization: Bearer <token>`（`flask --app wsgi user token LOGIN`）。"
                "トークンなしでは公開された会議・議事録とその案件だけを読める。"
                'エラーは常に `{"error": {"code", "message", "details"}}`。'
                "日付は YYYY-MM-DD、日時は UTC の ISO 8601。"
                "案件の応答の `history` はイベント履歴、様式２の検討経過は `history_rows`"
                "（リクエストでは `history` が検討経過、`history_rows` はその別名）。"
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{}, {"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": _paths(),
    }


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return jsonify(openapi_document())
