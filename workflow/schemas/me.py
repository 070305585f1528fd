"""GET /api/v1/me/tasks: 「対応が必要なもの」 (workflow.queries.tasks), as the API answers it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field
from typing_extensions import TypedDict

from workflow.queries.tasks import ITEM_KINDS, MEETING_KINDS
from workflow.schemas.types import Id, IsoDateTime

ItemTaskKind = Literal[ITEM_KINDS]
MeetingTaskKind = Literal[MEETING_KINDS]

Title = Annotated[str, Field(description="案件名、または会議名（開催日を和暦で添える）")]
Message = Annotated[
    str,
    Field(
        description="すること（日本語）。差戻しでは1行目から理由を全文（改行を含む）、続けてすること"
    ),
]
Url = Annotated[str, Field(description="その作業をする画面のパス（/items/1 など）")]
Since = Annotated[
    IsoDateTime, Field(description="待ち始めた日時（UTC）。日で決まるものはその日の0時（日本時間）")
]


class ItemTask(TypedDict):
    """案件についての作業（meeting_id はない）。"""

    __pydantic_config__ = ConfigDict(extra="forbid")

    kind: ItemTaskKind
    item_id: Id
    title: Title
    message: Message
    url: Url
    since: Since


class MeetingTask(TypedDict):
    """会議についての作業（item_id はない）。"""

    __pydantic_config__ = ConfigDict(extra="forbid")

    kind: MeetingTaskKind
    meeting_id: Id
    title: Title
    message: Message
    url: Url
    since: Since


class TaskList(TypedDict):
    tasks: Annotated[
        list[ItemTask | MeetingTask],
        Field(
            description="差し戻されたもの（returned・amendment_returned）が先、あとは待ちの古い順"
        ),
    ]
