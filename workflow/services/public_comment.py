"""パブリックコメント (DOMAIN §5): open, record opinions, close, answer, publish the results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from workflow.errors import Conflict, Forbidden, NotFound, ValidationFailed
from workflow.extensions import db
from workflow.models import Item, PublicComment, PublicCommentOpinion, User
from workflow.permissions import can_manage_public_comment
from workflow.schemas.comments import (
    OpenPublicComment,
    OpinionCreate,
    OpinionUpdate,
    PublishResults,
)
from workflow.schemas.types import validate
from workflow.services.items import authorize, fire_item
from workflow.states.machine import fire
from workflow.states.states import PublicCommentStatus, because


def city_zone() -> ZoneInfo:
    """The city's time zone: Asia/Tokyo unless CHOGI_TIMEZONE says otherwise."""
    zone = current_app.config.get("CHOGI_TIMEZONE") if has_app_context() else None
    return ZoneInfo(zone or "Asia/Tokyo")


def today() -> date:
    """The city's calendar day."""
    return datetime.now(city_zone()).date()


def process_of(item: Item) -> PublicComment:
    process = item.comment_process
    if process is None:
        raise ValidationFailed.field("public_comment", "この案件の意見募集はまだ始まっていません。")
    return process


def _require(actor: User | None) -> None:
    if not can_manage_public_comment(actor):
        raise Forbidden("パブリックコメントの操作は庁議事務局だけが行えます。")


def open_public_comment(
    actor: User,
    item: Item,
    *,
    published_on: Any,
    closes_on: Any,
    how_to_submit: Any,
    shortened_reason: Any = "",
    version: int | None = None,
) -> PublicComment:
    """Start the comment period (≥ 30 days from the publication day unless a reason is given)."""
    authorize(actor, item, "open_public_comment", version)
    body = validate(
        OpenPublicComment,
        {
            "published_on": published_on,
            "closes_on": closes_on,
            "how_to_submit": how_to_submit,
            "shortened_reason": shortened_reason,
        },
    )
    published, closes = body.published_on, body.closes_on
    how, reason = body.how_to_submit, body.shortened_reason
    process = PublicComment(
        published_on=published, closes_on=closes, how_to_submit=how, shortened_reason=reason
    )

    def start() -> None:
        process.item = item
        db.session.add(process)

    fire_item(
        actor,
        item,
        "open_public_comment",
        published_on=published,
        closes_on=closes,
        how_to_submit=how,
        shortened_reason=reason,
        effect=start,
    )
    return process


def add_opinion(
    actor: User,
    item: Item,
    *,
    summary: Any,
    submitter_kind: Any = "",
    submitter_no: Any = None,
) -> PublicCommentOpinion:
    """Record a received opinion while the period is open (or just closed, for late post)."""
    _require(actor)
    process = process_of(item)
    if process.status not in (PublicCommentStatus.OPEN, PublicCommentStatus.CLOSED):
        raise Conflict(f"{because(process.status)}、意見を追加できません。")
    body = validate(
        OpinionCreate,
        {"summary": summary, "submitter_kind": submitter_kind, "submitter_no": submitter_no},
    )
    number = max((o.number for o in process.opinions), default=0) + 1
    submitters = max((o.submitter_no for o in process.opinions), default=0)
    opinion = PublicCommentOpinion(
        number=number,
        summary=body.summary,
        submitter_kind=body.submitter_kind,
        submitter_no=body.submitter_no or submitters + 1,
    )
    process.opinions.append(opinion)
    db.session.flush()
    return opinion


def update_opinion(
    actor: User, item: Item, number: int, data: dict[str, Any]
) -> PublicCommentOpinion:
    """Edit an opinion's summary/kind (while open) or give the city's view and handling (closed)."""
    _require(actor)
    process = process_of(item)
    opinion = next((o for o in process.opinions if o.number == number), None)
    if opinion is None:
        raise NotFound(f"意見 No.{number} はありません。")
    answering = {"city_view", "handling"} & data.keys()
    if answering and process.status != PublicCommentStatus.CLOSED:
        raise Conflict(
            "市の考え方と対応区分は、意見募集を終了してから入力してください。"
            if process.status == PublicCommentStatus.OPEN
            else f"{because(process.status)}、変更できません。",
            {"status": process.status.value},
        )
    if process.status in (PublicCommentStatus.RESULTS_PUBLISHED, PublicCommentStatus.ABANDONED):
        raise Conflict(f"{because(process.status)}、変更できません。")
    body = validate(OpinionUpdate, data)
    for key in body.model_fields_set:
        setattr(opinion, key, getattr(body, key))
    db.session.flush()
    return opinion


def close(actor: User, item: Item, *, on: date | None = None, version: int | None = None) -> Item:
    """End the period, on or after its closing day (*on* is injectable for tests)."""
    authorize(actor, item, "close_public_comment", version)
    process = item.comment_process  # present whenever the event is allowed
    day = on or today()

    def mark_closed() -> None:
        fire(process, "close", actor=actor, record_history=False)
        process.closed_on = day

    return fire_item(
        actor,
        item,
        "close_public_comment",
        public_comment=process,
        today=day,
        effect=mark_closed,
    )


def publish_results(
    actor: User,
    item: Item,
    *,
    changes_made: Any = "",
    on: date | None = None,
    version: int | None = None,
) -> Item:
    """Publish the result (§43): every opinion answered, or 「意見なし」; the item is concluded."""
    authorize(actor, item, "publish_comment_results", version)
    process = item.comment_process  # present whenever the event is allowed
    changes = validate(
        PublishResults, {"changes_made": changes_made}, message="入力内容に誤りがあります。"
    ).changes_made

    def mark_published() -> None:
        fire(process, "publish_results", actor=actor, record_history=False)
        process.results_published_on = on or today()
        process.changes_made = changes

    return fire_item(
        actor,
        item,
        "publish_comment_results",
        public_comment=process,
        effect=mark_published,
    )


def abandon(actor: User, item: Item, reason: str) -> None:
    """Record that the draft was abandoned (§43④); called when the item is withdrawn."""
    process = process_of(item)
    fire(process, "abandon", actor=actor, record_history=False)
    process.abandoned_reason = reason
