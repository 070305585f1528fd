"""パブリックコメント (DOMAIN §5): opening the period, its opinions, publishing the results.

The API takes these bodies and the services check their keyword arguments with the same models,
so a page and the API refuse the same input in the same words."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict

from workflow.schemas.limits import NUMBER_MAX, REASON_MAX, SUBMITTER_KIND_MAX, TEXT_MAX
from workflow.schemas.meetings import Versioned
from workflow.schemas.types import (
    Body,
    Id,
    IsoDate,
    as_string,
    choice,
    day,
    enum_value,
    integer,
    text,
)
from workflow.states.states import Handling, PublicCommentStatus


class OpenPublicComment(Versioned):
    failure_message = "意見募集の入力に誤りがあります。"

    published_on: day(required="日付を入力してください。") = Field(
        None, description="open_public_comment: 公示日"
    )
    closes_on: day(required="日付を入力してください。") = Field(
        None, description="open_public_comment: 締切日"
    )
    how_to_submit: text(REASON_MAX) = Field("", description="open_public_comment: 提出方法")
    shortened_reason: text(REASON_MAX) = Field(
        "", description="open_public_comment: 30日未満とする理由"
    )


class PublishResults(Versioned):
    changes_made: text(TEXT_MAX) = Field(
        "", description="publish_comment_results: 案の修正内容とその理由（任意）"
    )


SubmitterKind = text(SUBMITTER_KIND_MAX)


class OpinionCreate(Body):
    """POST …/public-comment/opinions: an opinion received."""

    failure_message = "意見の入力に誤りがあります。"

    summary: text(TEXT_MAX, required=True)
    submitter_kind: SubmitterKind = Field("", description="個人 / 団体 / 事業者")
    submitter_no: integer(
        1, NUMBER_MAX, nullable=True, message="提出者番号は1以上9999以下の整数です。"
    ) = Field(None, description="同じ提出者の意見は同じ番号（省略時は新しい提出者）")


class OpinionUpdate(Body):
    """PUT …/public-comment/opinions/{number}: the keys given change."""

    failure_message = "意見の入力に誤りがあります。"

    summary: text(TEXT_MAX, required=True) = None
    submitter_kind: SubmitterKind = ""
    city_view: text(TEXT_MAX) = Field("", description="市の考え方（意見募集の終了後）")
    handling: choice(Handling, nullable=True, message="対応区分は次のいずれかです: {allowed}") = (
        None
    )


# -- answers -----------------------------------------------------------------------------------


class PublicCommentProcess(TypedDict):
    """The running (or finished) パブリックコメント of an item."""

    status: enum_value(PublicCommentStatus)
    status_label: str
    published_on: IsoDate
    closes_on: IsoDate
    how_to_submit: str
    shortened_reason: str
    closed_on: as_string(nullable=True, format="date")
    results_published_on: as_string(nullable=True, format="date")
    changes_made: str
    abandoned_reason: str
    opinion_count: Annotated[int, Field(ge=0)]
    submitter_count: Annotated[int, Field(ge=0)]
    version: Id


class CommentOpinion(TypedDict):
    number: Id
    submitter_no: Id
    submitter_kind: str
    summary: str
    city_view: Annotated[str, Field(description="市の考え方")]
    handling: enum_value(Handling, nullable=True)
    handling_label: str | None


class CommentOpinionList(TypedDict):
    opinions: list[CommentOpinion]
