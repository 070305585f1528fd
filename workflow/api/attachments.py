"""/api/v1/items/{id}/attachments and /api/v1/meetings/{id}/attachments: 資料 (DOMAIN §10).

Uploads are multipart (``file``, ``title``, ``public`` true|false) with their own size limit
(workflow.files); everything else is JSON as in the rest of the API. Downloads stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from workflow.api.common import (
    bp,
    current_api_user,
    json_body,
    query_int,
    readable_item,
    readable_meeting,
    require_user,
    written,
)
from workflow.errors import ValidationFailed
from workflow.files import accepts_upload, check_upload, download
from workflow.models import Item, Meeting, User
from workflow.queries import attachments as read
from workflow.schemas.attachments import Attachment as AttachmentAnswer
from workflow.schemas.attachments import AttachmentList, AttachmentPatch
from workflow.schemas.types import validate
from workflow.services import attachments as service


def attachment_json(
    row: read.Shown, owner: Item | Meeting, meeting_id: int | None = None
) -> AttachmentAnswer:
    """One 資料 as the API answers it (live, or frozen for *meeting_id*)."""
    stored = row.file
    if isinstance(owner, Meeting):
        url = url_for("api.meeting_attachment_file", meeting_id=owner.id, attachment_id=row.id)
    else:
        url = url_for(
            "api.item_attachment_file",
            item_id=owner.id,
            attachment_id=row.id,
            **({"meeting": meeting_id} if meeting_id else {}),
        )
    return {
        "id": row.id,
        "position": row.position,
        "title": row.title,
        "filename": row.filename,
        "media_type": stored.media_type,
        "size": stored.size,
        "sha256": stored.sha256,
        "public": row.public,
        "pdf_status": stored.pdf_status.value,
        "pages": stored.pages,
        "url": url,
    }


def _public_flag(raw: str | None) -> bool:
    """The multipart ``public`` field: true (the default) or false."""
    if raw is None or raw == "":
        return True
    if raw in ("true", "false"):
        return raw == "true"
    raise ValidationFailed.field("public", "public は true か false で指定してください。")


@contextmanager
def _uploaded() -> Iterator[FileStorage | None]:
    """The request's ``file``, closed (its spooled temporary file deleted) once stored."""
    file = request.files.get("file")
    try:
        yield file
    finally:
        if file is not None:
            file.close()


def _add(owner: Item | Meeting) -> ResponseReturnValue:
    user = require_user()  # (the views asked first: 401 before 404)
    service.authorize(user, owner)  # a refusal before reading the file
    public = _public_flag(request.form.get("public"))
    with _uploaded() as file:
        attachment = service.add(
            user, owner, check_upload(file), title=request.form.get("title", ""), public=public
        )
    return written(lambda: attachment_json(read.Shown.of(attachment), owner), 201)


def _patch(owner: Item | Meeting, attachment_id: int) -> ResponseReturnValue:
    user = require_user()
    meeting_id = query_int("meeting", 0) if isinstance(owner, Item) else 0
    if meeting_id:
        return _patch_frozen(user, owner, readable_meeting(meeting_id), attachment_id)
    service.authorize(user, owner)
    attachment = service.get_live(owner, attachment_id)
    body = validate(AttachmentPatch, json_body())
    service.update(
        user, owner, attachment, title=body.title, public=body.public, position=body.position
    )
    return written(lambda: attachment_json(read.Shown.of(attachment), owner))


def _patch_frozen(
    user: User, item: Item, meeting: Meeting, attachment_id: int
) -> ResponseReturnValue:
    """``?meeting=ID``: only ``public`` of the 資料 frozen for that meeting (until published)."""
    body = validate(AttachmentPatch, json_body())
    if body.title is not None or body.position is not None or body.public is None:
        raise ValidationFailed.field(
            "public", "会議に付議した版の資料は、公開するかどうか（public）だけ変更できます。"
        )
    row = service.set_frozen_public(user, item, meeting, attachment_id, body.public)
    return written(lambda: attachment_json(read.Shown.of(row), item, meeting.id))


def _replace(owner: Item | Meeting, attachment_id: int) -> ResponseReturnValue:
    user = require_user()
    service.authorize(user, owner)
    attachment = service.get_live(owner, attachment_id)
    with _uploaded() as file:
        service.replace(user, owner, attachment, check_upload(file))
    return written(lambda: attachment_json(read.Shown.of(attachment), owner))


def _remove(owner: Item | Meeting, attachment_id: int) -> ResponseReturnValue:
    user = require_user()
    service.authorize(user, owner)
    attachment = service.get_live(owner, attachment_id)
    service.remove(user, owner, attachment)
    return written(lambda: {"removed": attachment.id})


# -- an item's 資料 ----------------------------------------------------------------------------


def _item_rows(item_id: int) -> tuple[Item, list[read.Shown], int | None]:
    item = readable_item(item_id)
    meeting_id = query_int("meeting", 0)
    meeting = readable_meeting(meeting_id) if meeting_id else None
    return item, read.item_attachments(current_api_user(), item, meeting), meeting_id or None


@bp.get("/items/<int:item_id>/attachments")
def item_attachments(item_id: int) -> ResponseReturnValue:
    """Staff: the live list, or with ``?meeting=ID`` the one frozen for that meeting. The public:
    the 公開 資料 of the version deliberated at the newest published meeting it may see."""
    item, rows, meeting_id = _item_rows(item_id)
    answer: AttachmentList = {"attachments": [attachment_json(r, item, meeting_id) for r in rows]}
    return jsonify(answer)


@bp.get("/items/<int:item_id>/attachments/<int:attachment_id>")
def item_attachment_file(item_id: int, attachment_id: int) -> ResponseReturnValue:
    _item, rows, _meeting_id = _item_rows(item_id)
    row = read.find(rows, attachment_id)
    return download(row.file, row.filename)


@bp.post("/items/<int:item_id>/attachments")
@accepts_upload
def add_item_attachment(item_id: int) -> ResponseReturnValue:
    require_user()  # 401 before the owner is looked up
    return _add(readable_item(item_id))


@bp.patch("/items/<int:item_id>/attachments/<int:attachment_id>")
def update_item_attachment(item_id: int, attachment_id: int) -> ResponseReturnValue:
    require_user()  # 401 before the owner is looked up
    return _patch(readable_item(item_id), attachment_id)


@bp.put("/items/<int:item_id>/attachments/<int:attachment_id>/file")
@accepts_upload
def replace_item_attachment(item_id: int, attachment_id: int) -> ResponseReturnValue:
    require_user()  # 401 before the owner is looked up
    return _replace(readable_item(item_id), attachment_id)


@bp.delete("/items/<int:item_id>/attachments/<int:attachment_id>")
def remove_item_attachment(item_id: int, attachment_id: int) -> ResponseReturnValue:
    require_user()  # 401 before the owner is looked up
    return _remove(readable_item(item_id), attachment_id)


# -- a meeting's own 資料 ----------------------------------------------------------------------


@bp.get("/meetings/<int:meeting_id>/attachments")
def meeting_attachments(meeting_id: int) -> ResponseReturnValue:
    meeting = readable_meeting(meeting_id)
    rows = read.meeting_attachments(current_api_user(), meeting)
    answer: AttachmentList = {"attachments": [attachment_json(r, meeting) for r in rows]}
    return jsonify(answer)


@bp.get("/meetings/<int:meeting_id>/attachments/<int:attachment_id>")
def meeting_attachment_file(meeting_id: int, attachment_id: int) -> ResponseReturnValue:
    meeting = readable_meeting(meeting_id)
    row = read.find(read.meeting_attachments(current_api_user(), meeting), attachment_id)
    return download(row.file, row.filename)


@bp.post("/meetings/<int:meeting_id>/attachments")
@accepts_upload
def add_meeting_attachment(meeting_id: int) -> ResponseReturnValue:
    require_user()  # 401 before the owner is looked up
    return _add(readable_meeting(meeting_id))


@bp.patch("/meetings/<int:meeting_id>/attachments/<int:attachment_id>")
def update_meeting_attachment(meeting_id: int, attachment_id: int) -> ResponseReturnValue:
    require_user()  # 401 before the owner is looked up
    return _patch(readable_meeting(meeting_id), attachment_id)


@bp.put("/meetings/<int:meeting_id>/attachments/<int:attachment_id>/file")
@accepts_upload
def replace_meeting_attachment(meeting_id: int, attachment_id: int) -> ResponseReturnValue:
    require_user()  # 401 before the owner is looked up
    return _replace(readable_meeting(meeting_id), attachment_id)


@bp.delete("/meetings/<int:meeting_id>/attachments/<int:attachment_id>")
def remove_meeting_attachment(meeting_id: int, attachment_id: int) -> ResponseReturnValue:
    require_user()  # 401 before the owner is looked up
    return _remove(readable_meeting(meeting_id), attachment_id)
