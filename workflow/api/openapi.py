"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API (a test holds it complete).

The schemas are the pydantic declarations of :mod:`workflow.schemas` (bodies as they are
validated, answers as the serializers type them); this module adds only the table of paths.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from workflow.api.common import bp
from workflow.api.meetings import MEETING_EVENTS
from workflow.api.notices import openapi_paths as notice_paths
from workflow.schemas import (
    admin,
    attachments,
    comments,
    errors,
    events,
    items,
    me,
    meetings,
    notices,
    open_data,
    packet,
    user_imports,
)
from workflow.schemas.limits import ID_MAX, NAME_MAX, NUMBER_MAX, QUERY_MAX
from workflow.schemas.types import enum_schema
from workflow.states.states import ItemStatus

Schema = dict[str, Any]
REF = "#/components/schemas/{model}"

# Every named schema of the document: request bodies and answers.
COMPONENTS: dict[str, Any] = {
    "Error": errors.Error,
    "PacketPending": packet.PacketPending,
    "ItemInput": items.ItemInput,
    "ItemPatch": items.ItemPatch,
    "Item": items.Item,
    "ItemSummary": items.ItemSummary,
    "ItemList": items.ItemList,
    "VersionList": items.VersionList,
    "ItemFields": items.ItemFields,
    "HistoryEvent": items.HistoryEvent,
    "PublicCommentProcess": comments.PublicCommentProcess,
    "CommentOpinion": comments.CommentOpinion,
    "CommentOpinionList": comments.CommentOpinionList,
    "OpinionCreate": comments.OpinionCreate,
    "OpinionUpdate": comments.OpinionUpdate,
    "MeetingSummary": meetings.MeetingSummary,
    "Meeting": meetings.Meeting,
    "MeetingList": meetings.MeetingList,
    "MeetingCreate": meetings.MeetingCreate,
    "MeetingPatch": meetings.MeetingPatch,
    "EntryCreate": meetings.EntryCreate,
    "Deliberation": meetings.Deliberation,
    "OutcomeBody": meetings.OutcomeBody,
    "SearchResults": open_data.SearchResults,
    "Attachment": attachments.Attachment,
    "AttachmentList": attachments.AttachmentList,
    "AttachmentPatch": attachments.AttachmentPatch,
    "MinutesRow": open_data.MinutesRow,
    "MinutesDocument": open_data.MinutesDocument,
    **{
        name: getattr(admin, name)
        for name in (
            "UserCreate",
            "UserPatch",
            "DisableBody",
            "PasswordBody",
            "TokenCreate",
            "SectionCreate",
            "SectionPatch",
            "MergeBody",
            "MeetingKindCreate",
            "MeetingKindPatch",
            "AdminUser",
            "AdminUserList",
            "PasswordResult",
            "SessionsEnded",
            "AdminToken",
            "AdminTokenList",
            "IssuedToken",
            "AdminSection",
            "AdminSectionList",
            "AdminMeetingKind",
            "AdminMeetingKindList",
            "ClosedDayCreate",
            "MeetingDeadlineBody",
            "AdminClosedDay",
            "AdminClosedDayList",
            "AdminMeetingDeadline",
        )
    },
    "ItemTask": me.ItemTask,
    "MeetingTask": me.MeetingTask,
    "TaskList": me.TaskList,
    "Notice": notices.Notice,
    "NoticeList": notices.NoticeList,
    "UserImport": user_imports.UserImport,
    "UserImportChange": user_imports.UserImportChange,
    "UserImportProblem": user_imports.UserImportProblem,
    **{body.__name__: body for body in events.ITEM_EVENT_BODIES.values()},
    **{body.__name__: body for body in events.MEETING_EVENT_BODIES.values()},
}


class _Generator(GenerateJsonSchema):
    """No property titles ("Applied On" says nothing the name does not) and no defaults (an absent
    key is left alone, which a default would misstate)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> Schema:
        return self.generate_inner(schema["schema"])


def _schemas() -> dict[str, Schema]:
    inputs = [(name, "validation", TypeAdapter(type_)) for name, type_ in COMPONENTS.items()]
    top, defs = TypeAdapter.json_schemas(
        inputs, ref_template=REF, schema_generator=_Generator, union_format="primitive_type_array"
    )
    schemas = dict(defs.get("$defs", {}))
    for (name, _mode), schema in top.items():
        if "$ref" in schema:  # a model or TypedDict: its schema is among the definitions
            defined = schema["$ref"].rsplit("/", 1)[1]
            if defined != name:
                schemas[name] = schemas.pop(defined)
        else:
            schemas[name] = schema
    return schemas


def _event_body(schemas: dict[str, Schema]) -> Schema:
    """Every item event's keys in one object; each event takes only its own."""
    properties: Schema = {}
    for body in events.ITEM_EVENT_BODIES.values():
        properties.update(schemas[body.__name__]["properties"])
    return {
        "type": "object",
        "properties": properties,
        "description": "イベントごとに使える項目だけを送る（ほかは 422）。",
    }


def _meeting_event_bodies() -> list[str]:
    """The names of the meeting events' bodies, each once, in the events' order."""
    return list(dict.fromkeys(body.__name__ for body in events.MEETING_EVENT_BODIES.values()))


CANCEL = (
    "cancel（中止、庁議事務局のみ）: 予定の会議を中止にする。reason（理由）が必須で、なければ 422。"
    "予定でない会議は 409、結果を登録した議題があれば 409。議題の案件は付議待ちに戻り"
    "（案件ごとに unschedule の履歴）、その所管課に理由とともに通知する。中止の会議は回数を保ち、"
    "一覧に「中止」と理由を示す。"
)
MEETING_PATCH = (
    "予定の会議だけ（ほかは 409）。渡した項目だけを変える。number を渡すとその回数に固定し"
    "（同じ年度・種類で開催済・中止・手で決めた会議がその回数なら 422）、null なら日付順の"
    "自動の回数に戻す。開催日を変えると、その種類の予定の会議の回数を日付順に振り直す"
    "（年度が変われば両方の年度）。開催日が変わると、議題の案件の所管課に新旧の日付を通知する。"
)

# What the PUT of an agenda entry says of disclosure (DOMAIN §10).
DELIBERATION = (
    "議事録の確定前は、渡した項目をすべて置き換える。確定後（公開前）に変えられるのは公開範囲だけ："
    "disclosure（public=公開・partial=一部非公開・closed=非公開）、disclosure_reason"
    "（partial・closed では必須の情報公開条例の条項。空なら 422。public にすると空になる）、"
    "意見ごとの public。"
    "意見の public を変えるときは opinions を記録どおりの文のまま送る（文が違えば 409。"
    "文が同じなら意見の id は変わらない）。"
    "公開後は 409（先に POST …/events/unpublish で公開取消）。公開範囲を変えると会議の履歴に"
    "set_disclosure が残る。一般（トークンなし）には非公開の議題と公開しない意見を返さない。"
)
UNPUBLISH = (
    "unpublish（公開取消、庁議事務局のみ）: 公開済みの会議を議事録確定に戻す。reason（理由）が"
    "必須で、なければ 422。履歴に理由が残る。その後、一般にはこの会議とこの会議でだけ公開されていた"
    "案件が 404 になり、検索・オープンデータからも消える。案件の状態は変わらない。"
)


def _ref(name: str) -> Schema:
    return {"$ref": REF.format(model=name)}


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
# Every write takes an Idempotency-Key (workflow.api.idempotency); its answers say so.
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    "description": (
        "再送しても二重に処理されないためのキー（UUID など、要求ごとに新しく）。"
        "同じ利用者が同じキーと同じ内容で24時間以内に送り直すと、最初の応答（2xx）を処理せずに返す"
        "（応答ヘッダー Idempotent-Replayed: true）。同じキーで別の内容は 422 "
        "idempotency_key_reused、最初の要求の処理中は 409 idempotency_key_in_use（Retry-After）。"
        "保存するのは 2xx の応答だけで、変更と同じトランザクションで保存する。"
        "4xx・5xx の応答は保存しないので、同じキーで送り直すと改めて処理する。"
        'IETF の案の形（"…" で囲む）も受け付ける。形式が正しくなければ 400 invalid_idempotency_key。'
    ),
}
WRITE_ERRORS = {
    "409": ERRORS["409"] + "。idempotency_key_in_use: 同じ Idempotency-Key の要求を処理中",
    "422": ERRORS["422"] + "。idempotency_key_reused: 同じ Idempotency-Key で別の内容",
    "503": (
        "database_unavailable: データベースに接続できず、何も保存していない（再送してよい）。"
        "outcome_unknown: 保存の途中で接続が切れ、保存されたか分からない（確かめてから、"
        "または同じ Idempotency-Key を付けて再送する）。"
        "saved_not_shown: 保存したが応答を作れなかった（再送しない）"
    ),
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "true: Idempotency-Key で保存した最初の応答を返した（処理はしていない）",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
READ = ("401", "403", "404", "422")
WRITE = ("400", "401", "403", "404", "409", "413", "422")
CREATE = ("400", "401", "403", "413", "422")
PDF = "application/pdf"


def _op(
    summary: str,
    ok: str,
    answer: str | Schema | None,
    errors_: tuple[str, ...],
    body: str | Schema | None = None,
    params: tuple[Schema, ...] = (),
    media: str = "application/json",
    description: str = "",
) -> dict[str, Any]:
    """One operation; *answer* and *body* name a component (or are a schema)."""
    as_schema = lambda s: _ref(s) if isinstance(s, str) else s  # noqa: E731
    responses: dict[str, Any] = {}
    if media == "application/json":
        responses[ok] = {"description": "OK", **_json(as_schema(answer))}
    else:
        binary = {"schema": {"type": "string", "format": "binary"}}
        responses[ok] = {"description": "OK", "content": {media: binary}}
    if media == PDF:
        responses["304"] = {"description": "If-None-Match の ETag と同じ"}
    for code in errors_:
        responses[code] = {"description": ERRORS[code], **_json(_ref("Error"))}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = {"required": False, **_json(as_schema(body))}
    return op


def _packet_op() -> dict[str, Any]:
    """会議資料一式: the PDF, or 202 while a 資料 is still being converted."""
    op = _op(
        "会議資料一式（次第・会議資料・議題ごとの様式２と資料、しおりと通し頁番号「－ N －」）",
        "200",
        None,
        READ,
        media=PDF,
        description="職員だけ（公開版はない。公開・非公開にかかわらず読める内容をすべて載せる）。"
        "資料のPDF変換が終わっていなければ 202（Retry-After 秒後に取り直す）",
    )
    op["responses"]["202"] = {
        "description": "資料をPDFに変換中。Retry-After 秒後に取り直す",
        "headers": {"Retry-After": {"description": "秒数", "schema": {"type": "integer"}}},
        **_json(_ref("PacketPending")),
    }
    return op


def _path(name: str, description: str = "", schema: Schema | None = None) -> Schema:
    parameter = {"name": name, "in": "path", "required": True, "schema": schema or ID}
    return {**parameter, **({"description": description} if description else {})}


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _integer(maximum: int) -> Schema:
    return {"type": "integer", "minimum": 1, "maximum": maximum}


ID = _integer(ID_MAX)
ITEM_ID = _path("item_id", "案件のID")
MEETING_ID = _path("meeting_id", "会議のID")
FISCAL_YEAR = "この年度（4月～翌年3月）の会議だけ。省略するとすべての年度"
MINUTES = (
    "公開された会議の意見を、会議の日付順・議題順・意見順に1行ずつ。"
    "作りながら送る（chunked）ので、大きくても最初のバイトはすぐ届く。"
)
MINUTES_CSV = (
    MINUTES + "表計算ソフトが数式と読む値（=、+、-、@、タブ、CR、LF で始まるもの。空白の後や"
    "全角の＝＋－＠も）は、先頭に ' を"
    "付けて数式にならないようにする（CSV インジェクション対策。JSON は入力のまま）。"
)
ITEM_EVENTS = (
    "submit, return, accept, withdraw, submit_amendment, confirm_amendment, return_amendment, "
    "conclude, "
    "open_public_comment, close_public_comment, publish_comment_results"
    "（ほかは 404 unknown_event。schedule 等は会議の議題の操作で）"
)


# 資料 (workflow.api.attachments): multipart uploads and streamed files.
FILE_TYPES = (
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "image/png",
    "image/jpeg",
)
ATTACHMENT_ID = _path("attachment_id", "資料のID")
UPLOAD_DOC = (
    "multipart/form-data。種類はファイルの内容から判定する（名前や Content-Type ではない）: "
    "PDF・Word・Excel・PowerPoint・PNG・JPEG で、拡張子と内容が合うもの。"
    "暗号化・破損したPDF、展開すると極端に大きくなるOffice文書、0バイト、"
    "「/」「\\」や制御文字を含む名前は 422（details.fields.file）。"
    "上限（ATTACHMENT_MAX_MB、既定 50MB）を超えると 413。"
    "PDFはすぐ pdf_status=ready、ほかは pending（flask worker がPDFに変換する）。"
)
WHO_WRITES = (
    "案件の資料: 所管課は様式２を編集できる間、庁議事務局はいつでも。会議の資料: 庁議事務局。"
    "予定の会議の議題にある案件の資料を庁議事務局が変えると、その会議に凍結した資料も変わる（差替え）。"
    "変更はすべて履歴（attach, update_attachment, replace_attachment, remove_attachment）に残る。"
)
READ_DOC = (
    "職員: 現在の資料（?meeting=ID でその会議に凍結した資料）。トークンなし: 公開された会議で審議された版の"
    "公開の資料だけ（非公開の議題・公開しない資料は 404）。"
)


def _upload_body() -> dict[str, Any]:
    """multipart/form-data: ``file`` and, on POST, ``title`` and ``public``."""
    properties = {
        "file": {"type": "string", "format": "binary"},
        "title": {
            "type": "string",
            "maxLength": 200,
            "description": "資料名（省略時はファイル名）",
        },
        "public": {"type": "string", "enum": ["true", "false"], "description": "公開（既定 true）"},
    }
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": properties}
            }
        },
    }


def _file_op(summary: str) -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    op = _op(
        summary,
        "200",
        None,
        READ,
        description=(
            "少しずつ送る（大きくてもメモリは一定）。ETag は SHA-256、X-Content-Type-Options: nosniff。"
            "PDFと画像は inline、ほかは attachment（Content-Disposition の filename* に日本語名）。"
        ),
        media="application/pdf",
    )
    op["responses"]["200"]["content"] = {media: binary for media in FILE_TYPES}
    return op


PATCH_FROZEN_DOC = (
    " ?meeting=ID: その会議に付議した版（凍結した資料）の public だけを変える。庁議事務局のみ、"
    "会議の公開まで（公開後は 409: 先に公開取消）。"
)
MEETING_LOCK_DOC = (
    " 会議の資料は会議が「予定」の間だけ追加・変更・差替え・削除できる。開催後は public だけ、"
    "公開まで変えられる（それ以外は 409）。"
)


def _attachment_paths(base: str, owner: Schema, meeting_query: bool) -> dict[str, Any]:
    params = (
        (_query("meeting", ID, "この会議の議題に凍結した資料（職員）。公開の会議なら誰でも"),)
        if meeting_query
        else ()
    )
    listing = _op("資料の一覧", "200", "AttachmentList", READ, description=READ_DOC, params=params)
    add = _op(
        "資料を追加（最後に）", "201", "Attachment", WRITE, description=UPLOAD_DOC + WHO_WRITES
    )
    add["requestBody"] = _upload_body()
    replace = _op(
        "資料のファイルを差し替え", "200", "Attachment", WRITE, description=UPLOAD_DOC + WHO_WRITES
    )
    replace["requestBody"] = _upload_body()
    replace["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"] = {
        "file": {"type": "string", "format": "binary"}
    }
    file_op = _file_op("資料のファイル")
    if params:
        file_op["parameters"] = list(params)
    removed = {"type": "object", "properties": {"removed": ID}, "required": ["removed"]}
    return {
        f"{base}/attachments": {"parameters": [owner], "get": listing, "post": add},
        f"{base}/attachments/{{attachment_id}}": {
            "parameters": [owner, ATTACHMENT_ID],
            "get": file_op,
            "patch": _op(
                "資料名・公開・並びを変更",
                "200",
                "Attachment",
                WRITE,
                "AttachmentPatch",
                description=WHO_WRITES + (PATCH_FROZEN_DOC if meeting_query else MEETING_LOCK_DOC),
                params=(
                    (_query("meeting", ID, "この会議に凍結した版の資料の public だけを変える"),)
                    if meeting_query
                    else ()
                ),
            ),
            "delete": _op(
                "資料を外す（凍結した版には残る）", "200", removed, WRITE, description=WHO_WRITES
            ),
        },
        f"{base}/attachments/{{attachment_id}}/file": {
            "parameters": [owner, ATTACHMENT_ID],
            "put": replace,
        },
    }


ADMIN_DOC = (
    "システム管理者のトークンだけ（ほかの役割は 403、トークンなしは 401）。"
    "変更はすべて履歴（admin.*、監査証跡の鎖）に残る。"
)
LOGIN = _path("login", "利用者のログインID", {"type": "string", "minLength": 1, "maxLength": 64})
SECTION_ID = _path("section_id", "課のID")
ADMIN_READ = ("401", "403", "404")
ADMIN_WRITE = ("400", "401", "403", "404", "409", "413", "422")


def _admin_op(summary: str, ok: str, answer: str, errors_=ADMIN_WRITE, body=None, doc=""):
    return _op(summary, ok, answer, errors_, body, description=ADMIN_DOC + doc)


def _admin_paths() -> dict[str, Any]:
    user = "/api/v1/admin/users/{login}"
    return {
        "/api/v1/admin/users": {
            "get": _admin_op("利用者の一覧", "200", "AdminUserList", ADMIN_READ),
            "post": _admin_op("利用者を作成", "201", "AdminUser", body="UserCreate"),
        },
        user: {
            "parameters": [LOGIN],
            "get": _admin_op("利用者", "200", "AdminUser", ADMIN_READ),
            "patch": _admin_op(
                "表示名・メールアドレス・役割・所属課を変更（送った項目だけ）",
                "200",
                "AdminUser",
                body="UserPatch",
                doc="最後の有効なシステム管理者の役割は変えられない（422）。",
            ),
        },
        f"{user}/disable": {
            "parameters": [LOGIN],
            "post": _admin_op(
                "無効にする",
                "200",
                "AdminUser",
                body="DisableBody",
                doc="セッションはすぐ終わり、APIトークンも使えなくなる。自分自身と最後の有効な"
                "システム管理者は無効にできない（422）。",
            ),
        },
        f"{user}/enable": {
            "parameters": [LOGIN],
            "post": _admin_op("有効に戻す", "200", "AdminUser"),
        },
        f"{user}/end-sessions": {
            "parameters": [LOGIN],
            "post": _admin_op("セッションをすべて終わらせる", "200", "SessionsEnded"),
        },
        f"{user}/unlock": {
            "parameters": [LOGIN],
            "post": _admin_op(
                "サインインの試行制限を解除", "200", "AdminUser", doc="これまでの失敗は数えない。"
            ),
        },
        f"{user}/password": {
            "parameters": [LOGIN],
            "post": _admin_op(
                "パスワードを設定・リセット",
                "200",
                "PasswordResult",
                body="PasswordBody",
                doc='{"password": …} は設定（変更は求めない）。空の本文はリセット: 一時パスワードを'
                "temporary_password で一度だけ返し、次のサインインで変更させる。どちらも"
                "セッションは終わる。",
            ),
        },
        f"{user}/tokens": {
            "parameters": [LOGIN],
            "get": _admin_op("APIトークンの一覧", "200", "AdminTokenList", ADMIN_READ),
            "post": _admin_op(
                "APIトークンを発行",
                "201",
                "IssuedToken",
                body="TokenCreate",
                doc="token はこの応答でだけ返す。",
            ),
        },
        "/api/v1/admin/tokens/{token_id}": {
            "parameters": [_path("token_id", "APIトークンのID")],
            "delete": _admin_op("APIトークンを失効させる", "200", "AdminToken"),
        },
        "/api/v1/admin/sections": {
            "get": _admin_op("課の一覧（廃止した課も）", "200", "AdminSectionList", ADMIN_READ),
            "post": _admin_op("課を登録", "201", "AdminSection", body="SectionCreate"),
        },
        "/api/v1/admin/sections/{section_id}": {
            "parameters": [SECTION_ID],
            "patch": _admin_op(
                "課の名前を変更・局・区／部を移動",
                "200",
                "AdminSection",
                body="SectionPatch",
                doc="名前を変えても、前に作られた様式２・次第・会議録は旧名のまま。",
            ),
        },
        "/api/v1/admin/sections/{section_id}/merge": {
            "parameters": [SECTION_ID],
            "post": _admin_op(
                "ほかの課に統合",
                "200",
                "AdminSection",
                body="MergeBody",
                doc="案件と利用者は統合先へ移り、この課は廃止になる。",
            ),
        },
        "/api/v1/admin/sections/{section_id}/retire": {
            "parameters": [SECTION_ID],
            "post": _admin_op(
                "課を廃止",
                "200",
                "AdminSection",
                doc="案件は残る。新しい案件の登録と利用者の所属はできなくなる。",
            ),
        },
        "/api/v1/admin/meeting-kinds": {
            "get": _admin_op("会議の種類の一覧", "200", "AdminMeetingKindList", ADMIN_READ),
            "post": _admin_op(
                "会議の種類を追加", "201", "AdminMeetingKind", body="MeetingKindCreate"
            ),
        },
        "/api/v1/admin/meeting-kinds/{code}": {
            "parameters": [_path("code", "会議の種類のコード", {"type": "string"})],
            "patch": _admin_op(
                "会議の種類を変更（送った項目だけ）",
                "200",
                "AdminMeetingKind",
                body="MeetingKindPatch",
            ),
        },
        # -- issue 19: 閉庁日 and a meeting's own 申込締切 --
        "/api/v1/admin/closed-days": {
            "get": _admin_op("閉庁日の一覧", "200", "AdminClosedDayList", ADMIN_READ),
            "post": _admin_op(
                "閉庁日を登録",
                "201",
                "AdminClosedDay",
                body="ClosedDayCreate",
                doc="土日・祝日・年末年始（12月29日～1月3日）のほかに市が閉庁する日。申込締切を数える"
                "ときに除く。既に登録した日や、土日・祝日・年末年始は 422。",
            ),
        },
        "/api/v1/admin/closed-days/{closed_day_id}": {
            "parameters": [_path("closed_day_id", "閉庁日のID")],
            "delete": _admin_op(
                "閉庁日を削除", "200", "AdminClosedDay", doc="削除した閉庁日を返す。"
            ),
        },
        "/api/v1/admin/meetings/{meeting_id}/deadline": {
            "parameters": [MEETING_ID],
            "put": _admin_op(
                "会議の申込締切を設定",
                "200",
                "AdminMeetingDeadline",
                body="MeetingDeadlineBody",
                doc='{"submission_deadline": "YYYY-MM-DD"} でこの会議だけの申込締切、null で会議の'
                "種類の決まり（N 開庁日前）に戻す。開催日より後の日は 422。",
            ),
        },
    }


# The April reshuffle (workflow.api.user_imports): admin tokens only.
USER_IMPORT_ID = _path("import_id", "取込のID")
USER_IMPORT_DOC = (
    "システム管理者のトークンだけ（ほかは 403）。CSV の1行目は見出し login,name,email,role,section,"
    "action（action: create・update・disable）。UTF-8（BOM 可）または Shift_JIS（cp932）。"
)


def _user_import_paths() -> dict[str, Any]:
    upload = _op(
        "人事異動のCSVを確認して保存（プレビュー）",
        "201",
        "UserImport",
        CREATE,
        description=USER_IMPORT_DOC
        + "問題があれば 422 で details.problems に全部（line, message）を返し、何も保存しない。",
    )
    upload["requestBody"] = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
    return {
        "/api/v1/admin/user-imports": {"post": upload},
        "/api/v1/admin/user-imports/{import_id}": {
            "parameters": [USER_IMPORT_ID],
            "get": _op(
                "取込とそのプレビュー", "200", "UserImport", READ, description=USER_IMPORT_DOC
            ),
        },
        "/api/v1/admin/user-imports/{import_id}/apply": {
            "parameters": [USER_IMPORT_ID],
            "post": _op(
                "取込を適用（全行を1トランザクションで）",
                "200",
                "UserImport",
                WRITE,
                description=USER_IMPORT_DOC
                + "今の利用者と課でファイルを確認し直し、プレビューと違えば 409 conflict"
                "（details.plan に新しいプレビュー、details.problems に問題）で何も変えない。"
                "問題がなければ新しいプレビューが適用の対象になる（確かめてから再度 apply）。"
                "適用済みも 409。",
            ),
        },
    }


def _paths(event_body: Schema) -> dict[str, Any]:
    history = items.HISTORY_ROWS_DOC
    text = {"type": "string"}
    return {
        **_admin_paths(),
        **_user_import_paths(),
        **notice_paths(_op, _query, _path, _integer),
        **_attachment_paths("/api/v1/items/{item_id}", ITEM_ID, True),
        **_attachment_paths("/api/v1/meetings/{meeting_id}", MEETING_ID, False),
        "/api/v1/me/tasks": {
            "get": _op(
                "対応が必要なもの（トークンの利用者に）",
                "200",
                "TaskList",
                ("401",),
                description=(
                    "所管課職員: 自課の作成中・差戻し中・修正対応中（一部修正、修正の差戻し）・"
                    "上部庁議へ付議された後で様式２を見直していない案件。"
                    "庁議事務局: 受付待ちの申込（締切後は title が「締切後：」で始まる）・修正確認中・"
                    "7日以内に開く議題のない会議・議事録を確定していない開催済の会議・"
                    "締切まで3日以内（締切後を含む）の意見募集・結果を公表していない終了した意見募集。"
                    "職員・システム管理者: なし（空の一覧）。"
                    "案件の作業は item_id、会議の作業は meeting_id だけを持つ。"
                    "並びは差し戻されたもの（returned・amendment_returned）が先、あとは since の古い順。"
                    "message は読み手がすること（差戻しは1行目から理由の全文、申し込むものは次の会議の"
                    "申込締切）。画面のホームの「対応が必要なもの」と同じ一覧。"
                ),
            ),
        },
        "/api/v1/items": {
            "post": _op(
                "案件を作成（作成中）",
                "201",
                "Item",
                CREATE,
                "ItemInput",
                description="所管課職員は自分の課の案件だけ作成できる。" + history,
            ),
            "get": _op(
                "案件の一覧",
                "200",
                "ItemList",
                ("401", "422"),
                description=(
                    "画面の案件一覧（/items）と同じ絞り込み・同じ並び（更新の新しい順）。"
                    "読めない案件は含まれない。"
                ),
                params=(
                    _query("status", enum_schema(ItemStatus), "状態"),
                    _query(
                        "kind",
                        text,
                        "案件が待っている、または議題に載っている会議の種類（level_kind）",
                    ),
                    _query(
                        "q",
                        {**text, "maxLength": QUERY_MAX},
                        "案件名・概要の部分一致（NFKC・大文字小文字を区別しない: ＩＣＴ と ict は同じ）",
                    ),
                    _query("section", {**text, "maxLength": NAME_MAX}, "所管課の名前"),
                    _query("fiscal_year", _integer(NUMBER_MAX), "申込日の年度（西暦、例: 2019）"),
                    _query(
                        "mine", {**text, "enum": ["1", "0"]}, "1: 自分の課の案件だけ（所管課職員）"
                    ),
                    _query("page", _integer(100000)),
                    _query("per_page", _integer(200)),
                ),
            ),
        },
        "/api/v1/items/{item_id}": {
            "parameters": [ITEM_ID],
            "get": _op("案件（全項目）", "200", "Item", READ),
            "patch": _op(
                "案件を編集（作成中・差戻し中・付議待ち・修正対応中。審議予定の間はできない）",
                "200",
                "Item",
                WRITE,
                "ItemPatch",
                description=history
                + " 申込後の保存は、項目が変わるたびに新しい版になる（GET …/versions）。"
                "経路は、審議を終えた会議より後だけ変更できる。",
            ),
        },
        "/api/v1/items/{item_id}/versions": {
            "parameters": [ITEM_ID],
            "get": _op(
                "様式２の版の一覧（職員のみ）",
                "200",
                "VersionList",
                READ,
                description="第1版は最初に申し込んだ様式。会議の議題にしたときの版は、その会議のために凍結される（meeting_ids）。",
            ),
        },
        "/api/v1/items/{item_id}/versions/{number}": {
            "parameters": [ITEM_ID, _path("number", "版の番号（第N版）")],
            "get": _op(
                "様式２の版（GET /items/{id} と同じキーの様式２の項目）",
                "200",
                "ItemFields",
                READ,
            ),
        },
        "/api/v1/items/{item_id}/events/{event}": {
            "parameters": [
                ITEM_ID,
                _path("event", ITEM_EVENTS, {**text, "enum": list(events.ITEM_EVENT_BODIES)}),
            ],
            "post": _op("案件の操作", "200", "Item", WRITE, event_body),
        },
        "/api/v1/items/{item_id}/public-comment/opinions": {
            "parameters": [ITEM_ID],
            "get": _op("パブリックコメントの意見", "200", "CommentOpinionList", READ),
            "post": _op("意見を登録", "201", "CommentOpinion", WRITE, "OpinionCreate"),
        },
        "/api/v1/items/{item_id}/public-comment/opinions/{number}": {
            "parameters": [ITEM_ID, _path("number", "意見の番号")],
            "put": _op(
                "意見を編集・市の考え方と対応区分を入力",
                "200",
                "CommentOpinion",
                WRITE,
                "OpinionUpdate",
            ),
        },
        "/api/v1/items/{item_id}/form.pdf": {
            "parameters": [ITEM_ID],
            "get": _op(
                "様式２（案件申込書）",
                "200",
                None,
                READ,
                media=PDF,
                params=(
                    _query(
                        "meeting",
                        ID,
                        "この会議に付議したときに凍結された版（後の修正で変わらない）。"
                        "省略すると現在の様式",
                    ),
                ),
            ),
        },
        "/api/v1/items/{item_id}/public-comment/results.pdf": {
            "parameters": [ITEM_ID],
            "get": _op("意見募集の結果", "200", None, READ, media=PDF),
        },
        "/api/v1/meetings": {
            "post": _op("会議を作成（予定）", "201", "Meeting", CREATE, "MeetingCreate"),
            "get": _op(
                "会議の一覧",
                "200",
                "MeetingList",
                ("401", "422"),
                params=(_query("kind", text), _query("fiscal_year", _integer(NUMBER_MAX), "年度")),
            ),
        },
        "/api/v1/meetings/{meeting_id}": {
            "parameters": [MEETING_ID],
            "get": _op("会議と議題", "200", "Meeting", READ),
            "patch": _op(
                "予定の会議を変更（開催日・時刻・会場・議長・第N回）",
                "200",
                "Meeting",
                WRITE,
                "MeetingPatch",
                description=MEETING_PATCH,
            ),
        },
        "/api/v1/meetings/{meeting_id}/entries": {
            "parameters": [MEETING_ID],
            "post": _op("案件を議題にする（schedule）", "201", "Meeting", WRITE, "EntryCreate"),
        },
        "/api/v1/meetings/{meeting_id}/entries/{item_id}": {
            "parameters": [MEETING_ID, ITEM_ID],
            "put": _op(
                "審議の記録と公開範囲（渡した項目ごとに置き換え）",
                "200",
                "Meeting",
                WRITE,
                "Deliberation",
                description=DELIBERATION,
            ),
            "delete": _op("議題から外す（unschedule）", "200", "Meeting", WRITE),
        },
        "/api/v1/meetings/{meeting_id}/entries/{item_id}/outcome": {
            "parameters": [MEETING_ID, ITEM_ID],
            "post": _op("結果を登録（record_outcome）", "200", "Meeting", WRITE, "OutcomeBody"),
        },
        "/api/v1/meetings/{meeting_id}/events/{event}": {
            "parameters": [
                MEETING_ID,
                _path(
                    "event",
                    "hold, confirm, publish, unpublish, cancel",
                    {**text, "enum": list(MEETING_EVENTS)},
                ),
            ],
            "post": _op(
                "開催済にする・議事録の確定・公開・公開取消・中止",
                "200",
                "Meeting",
                WRITE,
                {
                    "oneOf": [_ref(name) for name in _meeting_event_bodies()],
                    "description": "hold・confirm・publish は version だけ（"
                    + events.MEETING_EVENT_BODY.__name__
                    + "）、unpublish は reason が必須（UnpublishBody）、"
                    "cancel も reason が必須（CancelBody）。",
                },
                description=UNPUBLISH + CANCEL,
            ),
        },
        "/api/v1/meetings/{meeting_id}/minutes.pdf": {
            "parameters": [MEETING_ID],
            "get": _op("様式６ 議事録（確定前は「案」）", "200", None, READ, media=PDF),
        },
        "/api/v1/meetings/{meeting_id}/agenda.pdf": {
            "parameters": [MEETING_ID],
            "get": _op("次第", "200", None, READ, media=PDF),
        },
        "/api/v1/meetings/{meeting_id}/packet.pdf": {
            "parameters": [MEETING_ID],
            "get": _packet_op(),
        },
        "/api/v1/search": {
            "get": _op(
                "案件の検索（案件名・概要・論点・裏面・意見と回答・特記事項などの部分一致）",
                "200",
                "SearchResults",
                ("401", "422", "503"),
                params=(
                    _query("q", {**text, "maxLength": QUERY_MAX}),
                    _query("limit", _integer(200)),
                ),
            )
        },
        "/api/v1/minutes.json": {
            "get": _op(
                "公開された議事録（オープンデータ、意見ごとに1行）",
                "200",
                "MinutesDocument",
                ("401", "422"),
                params=(_query("fiscal_year", _integer(NUMBER_MAX), FISCAL_YEAR),),
                description=MINUTES,
            )
        },
        "/api/v1/minutes.csv": {
            "get": _op(
                "公開された議事録（CSV、UTF-8 BOM付き）",
                "200",
                None,
                ("401", "422"),
                params=(_query("fiscal_year", _integer(NUMBER_MAX), FISCAL_YEAR),),
                description=MINUTES_CSV,
                media="text/csv",
            )
        },
        "/api/v1/openapi.json": {
            "get": _op("この文書", "200", {"type": "object"}, ("401",)),
        },
    }


def _writes_take_an_idempotency_key(paths: dict[str, Any]) -> dict[str, Any]:
    """Add the Idempotency-Key header, its answers and the write's 503s to every write."""
    for path in paths.values():
        for method in ("post", "put", "patch", "delete"):
            if (op := path.get(method)) is None:
                continue
            op.setdefault("parameters", []).append(
                {"$ref": "#/components/parameters/IdempotencyKey"}
            )
            responses = op["responses"]
            ok = next(code for code in responses if code.startswith("2"))
            responses[ok]["headers"] = REPLAYED
            for code, description in WRITE_ERRORS.items():
                responses[code] = {"description": description, **_json(_ref("Error"))}
    return paths


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    schemas = _schemas()
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
            "parameters": {"IdempotencyKey": IDEMPOTENCY_KEY},
            "schemas": schemas,
        },
        "paths": _writes_take_an_idempotency_key(_paths(_event_body(schemas))),
    }


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return jsonify(openapi_document())
