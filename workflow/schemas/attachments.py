"""資料 (DOMAIN §10) in the API: the PATCH body and the answers (the upload itself is multipart,
described in workflow.api.openapi)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from workflow.schemas.limits import LINE_MAX
from workflow.schemas.types import Body, Id, enum_value, flag, integer, text
from workflow.states.states import PdfStatus

POSITION_MAX = 9999


class AttachmentPatch(Body):
    """PATCH …/attachments/{aid}: the keys given change."""

    failure_message = "資料の入力に誤りがあります。"

    title: text(LINE_MAX, required=True) = Field(None, description="資料名")
    public: flag() = Field(None, description="公開（一部非公開の案件で、公開しない資料は false）")
    position: integer(0, POSITION_MAX, message="位置は0（資料１）以上の整数です。") = Field(
        None, description="並び（0 が資料１）。ほかの資料は順に詰める"
    )


class Attachment(TypedDict):
    id: Id
    position: Annotated[int, Field(ge=0, description="0 が資料１")]
    title: str
    filename: Annotated[str, Field(description="添付したときのファイル名")]
    media_type: Annotated[str, Field(description="内容から判定した種類")]
    size: Annotated[int, Field(ge=1, description="バイト数")]
    sha256: Annotated[str, Field(pattern="^[0-9a-f]{64}$")]
    public: bool
    pdf_status: enum_value(
        PdfStatus, "PDF版: none なし / pending 変換中 / ready / failed 変換できなかった"
    )
    pages: Annotated[int | None, Field(description="PDF版のページ数")]
    url: Annotated[str, Field(description="ファイルのURL")]


class AttachmentList(TypedDict):
    attachments: list[Attachment]
