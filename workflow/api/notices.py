"""/api/v1/me/notices: the token's user's notices, newest first, and marking one read."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from workflow.api.common import bp, query_int, require_user, written
from workflow.api.serializers import iso
from workflow.errors import NotFound
from workflow.extensions import db
from workflow.models import Notice
from workflow.queries.notices import notices_query, own_notice, unread_count
from workflow.schemas import notices as schemas
from workflow.services import notices


def notice_json(notice: Notice) -> schemas.Notice:
    return {
        "id": notice.id,
        "kind": notice.kind,
        "item_id": notice.item_id,
        "meeting_id": notice.meeting_id,
        "title": notice.title,
        "body": notice.body,
        "url": notice.url,
        "created_at": iso(notice.created_at),
        "read_at": iso(notice.read_at),
    }


@bp.get("/me/notices")
def my_notices() -> ResponseReturnValue:
    """The same notices, in the same order, as the page /notices."""
    user = require_user()
    page = query_int("page", 1, maximum=100000)
    per_page = query_int("per_page", 50, maximum=200)
    rows = db.session.scalars(
        notices_query(user).offset((page - 1) * per_page).limit(per_page)
    ).all()
    total = db.session.scalar(
        select(func.count()).select_from(Notice).where(Notice.user_id == user.id)
    )
    answer: schemas.NoticeList = {
        "unread": unread_count(user),
        "notices": [notice_json(n) for n in rows],
        "total": total,
    }
    return jsonify(answer)


@bp.post("/me/notices/<int:notice_id>/read")
def read_my_notice(notice_id: int) -> ResponseReturnValue:
    user = require_user()
    notice = own_notice(user, notice_id)
    if notice is None:  # another user's notice is as if it did not exist
        raise NotFound("指定された通知はありません。", {"id": notice_id})
    notices.mark_read(notice)
    return written(lambda: notice_json(notice))


def openapi_paths(op: Any, query: Any, path: Any, integer: Any) -> dict[str, Any]:
    """The two paths for the OpenAPI document (workflow.api.openapi builds the operations)."""
    doc = "トークンの利用者あての通知だけ（ほかの利用者の通知は 404）。"
    return {
        "/api/v1/me/notices": {
            "get": op(
                "自分あての通知（新しい順）",
                "200",
                "NoticeList",
                ("401", "422"),
                params=(query("page", integer(100000)), query("per_page", integer(200))),
                description=doc
                + "unread は未読の件数、total は全件数。画面の /notices と同じ並び。",
            )
        },
        "/api/v1/me/notices/{notice_id}/read": {
            "parameters": [path("notice_id", "通知のID")],
            "post": op(
                "通知を既読にする",
                "200",
                "Notice",
                ("401", "404"),
                description=doc + "既読の通知はそのまま（read_at は最初に読んだ日時）。",
            ),
        },
    }
