"""GET /api/v1/me/tasks: 「対応が必要なもの」 (workflow.queries.tasks), as the API answers it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict

from workflow.schemas.types import Id, IsoDateTime

ItemTaskKind = Literal[
    "draft",
    "returned",
    "amend",
    "amendment_returned",
    "forwarded",
    "intake",
    "amendment_to_confirm",
    "public_comment_closing",
    "public_comment_results",
]
MeetingTaskKind = Literal["empty_agenda", "minutes"]

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
    """案件についての作業。"""

    kind: ItemTaskKind
    item_id: Id
    title: Title
    message: Message
    url: Url
    since: Since


class MeetingTask(TypedDict):
    """会議についての作業。"""

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
