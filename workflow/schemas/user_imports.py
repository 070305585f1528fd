"""The April reshuffle in the API (``/api/v1/admin/user-imports``): its answers. The upload is
multipart (``file``), described in workflow.api.openapi."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from workflow.schemas.types import Id, IsoDateTime, as_string


class UserImportFieldChange(TypedDict):
    field: Annotated[str, Field(description="display_name / email / role / section / active")]
    before: Annotated[
        str | bool | None, Field(description="変更前（作成では null）。role は値、section は課名")
    ]
    after: str | bool | None


class UserImportChange(TypedDict):
    line: Annotated[int, Field(ge=2, description="ファイルの行番号（1行目は見出し）")]
    login: str
    action: Annotated[str, Field(description="create / update / disable")]
    changes: list[UserImportFieldChange]
    noop: Annotated[bool, Field(description="true: 変更なし（同じ値、または既に無効）")]


class UserImportProblem(TypedDict):
    line: Annotated[int, Field(ge=1, description="ファイルの行番号")]
    message: Annotated[str, Field(description="日本語の説明")]


class UserImport(TypedDict):
    id: Id
    filename: str
    sha256: Annotated[
        str, Field(pattern="^[0-9a-f]{64}$", description="アップロードしたバイト列の")
    ]
    created_at: IsoDateTime
    created_by: Annotated[str | None, Field(description="アップロードした管理者のログインID")]
    applied_at: as_string(format="date-time", nullable=True)
    applied_by: Annotated[
        str | None, Field(description="適用した管理者（コマンドラインでは null）")
    ]
    summary: Annotated[str, Field(description="「作成 3件・更新 5件・無効化 2件」")]
    plan: Annotated[list[UserImportChange], Field(description="行ごとの変更（プレビュー）")]
    problems: Annotated[list[UserImportProblem], Field(description="問題（保存されたものは空）")]
