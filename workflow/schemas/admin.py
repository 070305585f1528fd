"""/api/v1/admin/…: the bodies an admin token sends and the answers it gets (issue 18).

The bodies check the JSON types and lengths; what a value may be (a login's characters, an
e-mail address, the last admin kept) is for :mod:`workflow.services.admin`, the one place shared
with the admin pages, the CLI and the reshuffle import.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, WithJsonSchema
from typing_extensions import TypedDict

from workflow.schemas.limits import EMAIL_MAX, NAME_MAX, REASON_MAX, TOKEN_NAME_MAX
from workflow.schemas.types import (
    ID,
    Body,
    Id,
    IsoDate,
    IsoDateTime,
    as_string,
    choice,
    day,
    enum_value,
    flag,
    integer,
    text,
)
from workflow.states.states import Role

TOKEN_DAYS_MAX = 3650
KIND_NAME_MAX = 100

RoleChoice = choice(Role, "役割")
# null and "" alike: none.
SectionName = text(NAME_MAX, nullable=True)
SECTION_DOC = "所属する課の名前（null: なし。department では必須。廃止された課は不可）"
Email = text(EMAIL_MAX, nullable=True)
EMAIL_DOC = "通知を送るメールアドレス（null または空: なし）"
MaybeDateTime = as_string(nullable=True, format="date-time")


# -- bodies --------------------------------------------------------------------------------------


class UserCreate(Body):
    """POST /api/v1/admin/users."""

    field_messages = {
        "login": "ログインIDを入力してください。",
        "role": "役割を指定してください。",
    }

    login: text(64, required=True) = Field(description="ログインID（英数字と . _ @ -、64文字以内）")
    display_name: text(NAME_MAX, required=True) = Field(description="表示名")
    role: RoleChoice
    section: SectionName = Field(None, description=SECTION_DOC)
    email: Email = Field(None, description=EMAIL_DOC)
    password: text(256, nullable=True) = Field(
        None,
        description="初期パスワード（12文字以上）。省略するとパスワードでは署名できない"
        "（ディレクトリの利用者、または後で POST …/password で設定）",
    )
    must_change_password: flag() = Field(False, description="次のサインインで変更させる")


class UserPatch(Body):
    """PATCH /api/v1/admin/users/{login}: only the keys sent change."""

    display_name: text(NAME_MAX, required=True) = Field(None, description="表示名")
    email: Email = Field(None, description=EMAIL_DOC)
    role: RoleChoice = Field(None, description="役割（最後の有効なシステム管理者は変えられない）")
    section: SectionName = Field(None, description=SECTION_DOC)


class DisableBody(Body):
    """POST …/disable."""

    reason: text(REASON_MAX) = Field("", description="理由（履歴に残る）")


class PasswordBody(Body):
    """POST …/password: ``password`` sets it; an empty body resets it."""

    password: text(256, nullable=True) = Field(
        None,
        description="新しいパスワード（12文字以上、次のサインインで変更は求めない）。"
        "省略（空の本文）: 一時パスワードを作って返し、次のサインインで変更させる",
    )


class TokenCreate(Body):
    """POST /api/v1/admin/users/{login}/tokens."""

    name: text(TOKEN_NAME_MAX) = Field("", description="トークンの名前（「議事録取込スクリプト」）")
    days: integer(1, TOKEN_DAYS_MAX, nullable=True) = Field(
        None, description="有効日数（省略: API_TOKEN_DAYS、既定365日）"
    )


class SectionCreate(Body):
    """POST /api/v1/admin/sections."""

    field_messages = {"name": "課名を入力してください。"}

    name: text(NAME_MAX, required=True) = Field(description="課名")
    bureau: text(NAME_MAX) = Field("", description="局・区")
    division: text(NAME_MAX) = Field("", description="部")


class SectionPatch(Body):
    """PATCH /api/v1/admin/sections/{id}: ``name`` renames, ``bureau``/``division`` move."""

    name: text(NAME_MAX, required=True) = Field(
        None, description="新しい課名（前に作られた様式２・次第・会議録は旧名のまま）"
    )
    bureau: text(NAME_MAX) = Field(None, description="移動先の局・区（省略: 今のまま）")
    division: text(NAME_MAX) = Field(None, description="移動先の部（省略: 今のまま）")


class MergeBody(Body):
    """POST /api/v1/admin/sections/{id}/merge."""

    field_messages = {"into": "統合先の課のIDを指定してください。"}

    into: ID = Field(description="統合先の課のID（案件と利用者はここへ移る）")


class MeetingKindCreate(Body):
    """POST /api/v1/admin/meeting-kinds."""

    field_messages = {
        "code": "コードを入力してください。",
        "name": "名称を入力してください。",
        "level": "レベルを整数で指定してください。",
        "sort_order": "表示順を整数で指定してください。",
    }

    code: text(40, required=True) = Field(
        description="コード（英小文字・数字・_、英小文字で始まる）"
    )
    name: text(KIND_NAME_MAX, required=True) = Field(description="名称")
    level: integer(1, 99) = Field(description="レベル（1: 関係課長会議 … 4: 政策決定会議）")
    sort_order: integer(1, 9999) = Field(description="表示順（ほかの種類と重ならない）")
    review: flag() = Field(False, description="事務事業調整会議のような経由の会議（審議日欄なし）")
    deadline_days: integer(0, 60) = Field(5, description="申込締切: 会議の何開庁日前か")


class MeetingKindPatch(Body):
    """PATCH /api/v1/admin/meeting-kinds/{code}: only the keys sent change."""

    name: text(KIND_NAME_MAX, required=True) = None
    level: integer(1, 99) = None
    sort_order: integer(1, 9999) = None
    review: flag() = None
    deadline_days: integer(0, 60) = None


# A date as YYYY-MM-DD or 和暦 (named here: the body's key ``day`` would hide the function).
ClosedDate = day(required="閉庁日の日付を入力してください。")
DeadlineDate = day()


class ClosedDayCreate(Body):
    """POST /api/v1/admin/closed-days: a 閉庁日 of the city's own."""

    field_messages = {
        "day": "閉庁日の日付を入力してください。",
        "name": "名称を入力してください。",
    }

    day: ClosedDate = Field(description="日付（YYYY-MM-DD、または 令和8年5月1日 のような和暦）")
    name: text(100, required=True) = Field(description="名称（「市制記念日」）")


class MeetingDeadlineBody(Body):
    """PUT /api/v1/admin/meetings/{meeting_id}/deadline."""

    field_messages = {
        "submission_deadline": "申込締切を日付か null で指定してください。",
    }

    submission_deadline: DeadlineDate = Field(
        description="この会議の申込締切（YYYY-MM-DD または和暦）。null: 会議の種類の決まり"
        "（N 開庁日前）に戻す。開催日より後は 422"
    )


# -- answers -------------------------------------------------------------------------------------


class AdminUser(TypedDict):
    id: Id
    login: str
    display_name: str
    email: str | None
    role: enum_value(Role)
    section: Annotated[str | None, Field(description="所属する課の名前")]
    active: Annotated[bool, Field(description="false: 無効（サインインもトークンも使えない）")]
    must_change_password: bool
    directory: Annotated[bool, Field(description="ディレクトリ（LDAP）の利用者")]
    created_at: IsoDateTime


class AdminUserList(TypedDict):
    users: list[AdminUser]
    total: int


class PasswordResult(TypedDict):
    login: str
    must_change_password: bool
    temporary_password: Annotated[
        str | None, Field(description="リセットしたときの一時パスワード（一度だけ表示）")
    ]


class SessionsEnded(TypedDict):
    login: str
    sessions_ended: int


class AdminToken(TypedDict):
    id: Id
    user: Annotated[str, Field(description="トークンの利用者のログインID")]
    name: str
    created_at: IsoDateTime
    expires_at: MaybeDateTime
    last_used_at: MaybeDateTime
    revoked_at: MaybeDateTime
    state: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "enum": ["active", "expired", "revoked"],
                "description": "active=有効, expired=期限切れ, revoked=失効",
            }
        ),
    ]


class AdminTokenList(TypedDict):
    tokens: list[AdminToken]


class IssuedToken(TypedDict):
    id: Id
    name: str
    token: Annotated[str, Field(description="トークン（この応答でだけ返す。保存するのはハッシュ）")]
    expires_at: IsoDateTime


class AdminSection(TypedDict):
    id: Id
    name: str
    bureau: str
    division: str
    retired_at: Annotated[MaybeDateTime, Field(description="廃止した日時（null: 現役）")]
    merged_into: Annotated[str | None, Field(description="統合先の課の名前")]
    merged_into_id: Annotated[int | None, Field(description="統合先の課のID")]


class AdminSectionList(TypedDict):
    sections: list[AdminSection]


class AdminMeetingKind(TypedDict):
    code: str
    name: str
    level: int
    sort_order: int
    review: bool
    deadline_days: int


class AdminMeetingKindList(TypedDict):
    meeting_kinds: list[AdminMeetingKind]


class AdminClosedDay(TypedDict):
    id: Id
    day: IsoDate
    name: str
    created_at: IsoDateTime


class AdminClosedDayList(TypedDict):
    closed_days: Annotated[
        list[AdminClosedDay], Field(description="管理者が登録した閉庁日（日付順）")
    ]


class AdminMeetingDeadline(TypedDict):
    meeting_id: Id
    title: str
    date: IsoDate
    submission_deadline: as_string(format="date", description="いまの申込締切")
    deadline_override: as_string(
        nullable=True,
        format="date",
        description="管理者が設定した申込締切（null: 会議の種類の決まりによる）",
    )
