"""The body each event takes (besides ``version``): item events under /items/{id}/events/{event},
meeting events under /meetings/{id}/events/{event}. Another key is refused (422)."""

from __future__ import annotations

from pydantic import Field

from workflow.schemas.comments import OpenPublicComment, PublishResults
from workflow.schemas.limits import REASON_MAX
from workflow.schemas.meetings import Versioned
from workflow.schemas.types import day, text


class ReasonBody(Versioned):
    field_messages = {"reason": "理由は文字列で入力してください。"}

    reason: text(REASON_MAX) = Field("", description="return, withdraw: 理由（必須）")


class SubmitBody(Versioned):
    """submit（申込）: a resubmission after a return may answer it in words."""

    field_messages = {"comment": "差戻しへの回答は文字列で入力してください。"}

    comment: text(REASON_MAX) = Field(
        "",
        description="submit: 差戻しへの回答。差し戻された案件を、申込書を変更せずにもう一度"
        "申し込むときは必須（変更したときは任意）。イベント履歴の reason に残る",
    )


class ClosePublicComment(Versioned):
    today: day() = Field(
        None, description="close_public_comment: 終了日（テスト環境だけ。通常は市の今日）"
    )


ITEM_EVENT_BODIES: dict[str, type[Versioned]] = {
    "submit": SubmitBody,
    "return": ReasonBody,
    "accept": Versioned,
    "withdraw": ReasonBody,
    "submit_amendment": Versioned,
    "confirm_amendment": Versioned,
    "return_amendment": ReasonBody,
    "conclude": Versioned,
    "open_public_comment": OpenPublicComment,
    "close_public_comment": ClosePublicComment,
    "publish_comment_results": PublishResults,
}


class UnpublishBody(Versioned):
    """unpublish（公開取消）: the reason is required (422 without)."""

    field_messages = {"reason": "理由は文字列で入力してください。"}

    reason: text(REASON_MAX) = Field("", description="unpublish: 公開取消の理由（必須）")


class CancelBody(Versioned):
    """cancel（中止）: the reason is required (422 without)."""

    field_messages = {"reason": "理由は文字列で入力してください。"}

    reason: text(REASON_MAX) = Field("", description="cancel: 中止の理由（必須）")


# The body of each meeting event: hold, confirm and publish take only ``version``.
MEETING_EVENT_BODIES: dict[str, type[Versioned]] = {
    "hold": Versioned,
    "confirm": Versioned,
    "publish": Versioned,
    "unpublish": UnpublishBody,
    "cancel": CancelBody,
}
MEETING_EVENT_BODY = Versioned  # hold, confirm, publish
