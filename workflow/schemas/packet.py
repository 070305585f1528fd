"""The answer of the 会議資料一式 while a 資料 is still being converted (202)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict


class PacketPending(TypedDict):
    status: Literal["pending"]
    message: Annotated[str, Field(description="利用者向けの日本語のメッセージ")]
    pending: Annotated[list[str], Field(description="PDFに変換中の資料の表題")]
    retry_after: Annotated[int, Field(description="開き直すまでの秒数（Retry-After と同じ）")]
