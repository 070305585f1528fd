"""資料 on the pages (DOMAIN §10): the forms of the item and meeting pages' 「資料」 sections, and
the downloads (staff under /items and /meetings, the public's under /public).

Each change goes back to the page it came from with a message; a refused file says why there.
A body past ``ATTACHMENT_MAX_MB`` is refused before the view runs (the 413 page says the limit).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from workflow.errors import NotFound, WorkflowError
from workflow.extensions import db
from workflow.files import accepts_upload, check_upload, download
from workflow.forms.attachments import (
    AddAttachmentForm,
    EditAttachmentForm,
    MoveAttachmentForm,
    RemoveAttachmentForm,
    ReplaceAttachmentForm,
)
from workflow.models import Item, Meeting
from workflow.permissions import (
    can_change_attachments,
    can_read_item,
    can_read_meeting,
    is_secretariat,
    owns,
)
from workflow.queries import attachments as read
from workflow.services import attachments as service
from workflow.services import transaction
from workflow.states.states import ItemStatus, MeetingStatus
from workflow.views.common import flash_workflow_error, meeting_arg
from workflow.wareki import to_fullwidth_digits

bp = Blueprint("attachments", __name__)

Owner = Item | Meeting


# -- what the pages show ------------------------------------------------------------------------


def section_context(owner: Owner) -> dict[str, Any]:
    """The 「資料」 section of an item's or a meeting's staff page."""
    rows = (
        read.item_attachments(current_user, owner)
        if isinstance(owner, Item)
        else read.meeting_attachments(current_user, owner)
    )
    frozen = read.frozen_by_entry(current_user, owner) if isinstance(owner, Item) else {}
    return {
        "attachments": rows,
        "attachment_owner": "item" if isinstance(owner, Item) else "meeting",
        # A cancelled meeting's 資料 stay as they were (the service refuses changes too).
        "can_change_attachments": can_change_attachments(current_user, owner)
        and not (isinstance(owner, Meeting) and owner.status == MeetingStatus.CANCELLED),
        # 差替え: the secretariat's changes reach the list frozen for the coming meeting too.
        "attachments_reach_frozen": isinstance(owner, Item)
        and owner.status == ItemStatus.SCHEDULED
        and is_secretariat(current_user)
        and service.open_entry(owner) is not None,
        "add_attachment_form": AddAttachmentForm(formdata=None),
        "attachment_forms": {
            "edit": EditAttachmentForm,
            "move": MoveAttachmentForm(formdata=None),
            "replace": ReplaceAttachmentForm(formdata=None),
            "remove": RemoveAttachmentForm(formdata=None),
        },
        "frozen_attachments": lambda entry: frozen.get(entry.id, []),
    }


def public_item_context(item: Item) -> dict[str, Any]:
    """The public item page: the 公開 資料 of the version deliberated at a published meeting."""
    return {"attachments": read.item_attachments(None, item)}


def public_meeting_context(meeting: Meeting) -> dict[str, Any]:
    return {"attachments": read.meeting_attachments(None, meeting)}


# -- loading ------------------------------------------------------------------------------------


def _item(item_id: int) -> Item:
    item = db.get_or_404(Item, item_id)
    if not can_read_item(current_user, item):
        abort(403 if current_user.is_authenticated else 404)
    return item


def _meeting(meeting_id: int) -> Meeting:
    meeting = db.get_or_404(Meeting, meeting_id)
    if not can_read_meeting(current_user, meeting):
        abort(404)
    return meeting


def _page(owner: Owner) -> str:
    if isinstance(owner, Item):
        return url_for("items.show", item_id=owner.id, _anchor="attachments")
    return url_for("meetings.show", meeting_id=owner.id, _anchor="attachments")


def _refused(form: FlaskForm) -> None:
    for messages in form.errors.values():
        for message in messages:
            flash(message, "error")


def _change(owner: Owner, form: FlaskForm, work: Callable[[], str]) -> Response:
    """Check the form, do *work* (which returns the message) and go back to the page."""
    if not can_change_attachments(current_user, owner):
        if not (isinstance(owner, Item) and owns(current_user, owner)):
            abort(403)
        # The owning section on a page left open while the item moved on: say why, stay there.
        try:
            service.authorize(current_user, owner)
        except WorkflowError as error:
            flash_workflow_error(error)
        return redirect(_page(owner))
    if not form.validate():
        _refused(form)
        return redirect(_page(owner))
    try:
        message = work()
        transaction.commit()
    except WorkflowError as error:
        flash_workflow_error(error)
        return redirect(_page(owner))
    finally:
        if getattr(form, "file", None) is not None and form.file.data is not None:
            form.file.data.close()  # its spooled temporary file, at once
    flash(message, "success")
    return redirect(_page(owner))


def _add(owner: Owner) -> Response:
    form = AddAttachmentForm()

    def work() -> str:
        attachment = service.add(
            current_user,
            owner,
            check_upload(form.file.data),
            title=form.title.data or "",
            public=form.public.data,
        )
        return f"{_label(attachment)}「{attachment.title}」を追加しました。"

    return _change(owner, form, work)


def _edit(owner: Owner, attachment_id: int) -> Response:
    form = EditAttachmentForm()

    def work() -> str:
        attachment = service.get_live(owner, attachment_id)
        service.update(
            current_user, owner, attachment, title=form.title.data, public=form.public.data
        )
        return f"{_label(attachment)}「{attachment.title}」を変更しました。"

    return _change(owner, form, work)


def _move(owner: Owner, attachment_id: int) -> Response:
    form = MoveAttachmentForm()

    def work() -> str:
        attachment = service.get_live(owner, attachment_id)
        step = -1 if form.direction.data == "up" else 1
        last = len(service.live(owner)) - 1
        position = min(max(attachment.position + step, 0), last)
        service.update(current_user, owner, attachment, position=position)
        return f"「{attachment.title}」を{_label(attachment)}にしました。"

    return _change(owner, form, work)


def _replace(owner: Owner, attachment_id: int) -> Response:
    form = ReplaceAttachmentForm()

    def work() -> str:
        attachment = service.get_live(owner, attachment_id)
        service.replace(current_user, owner, attachment, check_upload(form.file.data))
        return f"{_label(attachment)}「{attachment.title}」のファイルを差し替えました。"

    return _change(owner, form, work)


def _remove(owner: Owner, attachment_id: int) -> Response:
    form = RemoveAttachmentForm()

    def work() -> str:
        attachment = service.get_live(owner, attachment_id)
        service.remove(current_user, owner, attachment)
        return f"資料「{attachment.title}」を外しました。"

    return _change(owner, form, work)


def _label(attachment) -> str:
    """「資料３」, with full-width digits as the list prints it."""
    return f"資料{to_fullwidth_digits(str(attachment.position + 1))}"


def _send(rows: list[read.Shown], attachment_id: int) -> Response:
    try:
        row = read.find(rows, attachment_id)
    except NotFound:
        abort(404)
    return download(row.file, row.filename)


# -- an item's 資料 ----------------------------------------------------------------------------


@bp.post("/items/<int:item_id>/attachments")
@login_required
@accepts_upload
def add_to_item(item_id: int) -> Response:
    return _add(_item(item_id))


@bp.post("/items/<int:item_id>/attachments/<int:attachment_id>/edit")
@login_required
def edit_item_attachment(item_id: int, attachment_id: int) -> Response:
    return _edit(_item(item_id), attachment_id)


@bp.post("/items/<int:item_id>/attachments/<int:attachment_id>/move")
@login_required
def move_item_attachment(item_id: int, attachment_id: int) -> Response:
    return _move(_item(item_id), attachment_id)


@bp.post("/items/<int:item_id>/attachments/<int:attachment_id>/file")
@login_required
@accepts_upload
def replace_item_attachment(item_id: int, attachment_id: int) -> Response:
    return _replace(_item(item_id), attachment_id)


@bp.post("/items/<int:item_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_item_attachment(item_id: int, attachment_id: int) -> Response:
    return _remove(_item(item_id), attachment_id)


@bp.get("/items/<int:item_id>/attachments/<int:attachment_id>")
@login_required
def item_file(item_id: int, attachment_id: int) -> Response:
    """The file, as the reader sees the list (``?meeting=ID``: the one frozen for it)."""
    item = _item(item_id)
    try:
        rows = read.item_attachments(current_user, item, meeting_arg(current_user))
    except NotFound:
        abort(404)
    return _send(rows, attachment_id)


# -- a meeting's 資料 --------------------------------------------------------------------------


@bp.post("/meetings/<int:meeting_id>/attachments")
@login_required
@accepts_upload
def add_to_meeting(meeting_id: int) -> Response:
    return _add(_meeting(meeting_id))


@bp.post("/meetings/<int:meeting_id>/attachments/<int:attachment_id>/edit")
@login_required
def edit_meeting_attachment(meeting_id: int, attachment_id: int) -> Response:
    return _edit(_meeting(meeting_id), attachment_id)


@bp.post("/meetings/<int:meeting_id>/attachments/<int:attachment_id>/move")
@login_required
def move_meeting_attachment(meeting_id: int, attachment_id: int) -> Response:
    return _move(_meeting(meeting_id), attachment_id)


@bp.post("/meetings/<int:meeting_id>/attachments/<int:attachment_id>/file")
@login_required
@accepts_upload
def replace_meeting_attachment(meeting_id: int, attachment_id: int) -> Response:
    return _replace(_meeting(meeting_id), attachment_id)


@bp.post("/meetings/<int:meeting_id>/attachments/<int:attachment_id>/remove")
@login_required
def remove_meeting_attachment(meeting_id: int, attachment_id: int) -> Response:
    return _remove(_meeting(meeting_id), attachment_id)


@bp.get("/meetings/<int:meeting_id>/attachments/<int:attachment_id>")
@login_required
def meeting_file(meeting_id: int, attachment_id: int) -> Response:
    meeting = _meeting(meeting_id)
    return _send(read.meeting_attachments(current_user, meeting), attachment_id)


# -- the public's downloads ----------------------------------------------------------------------


@bp.get("/public/items/<int:item_id>/attachments/<int:attachment_id>")
def public_item_file(item_id: int, attachment_id: int) -> Response:
    """A 公開 資料 of the version deliberated at the newest published meeting (else 404)."""
    item = db.get_or_404(Item, item_id)
    if not can_read_item(None, item):
        abort(404)
    return _send(read.item_attachments(None, item), attachment_id)


@bp.get("/public/meetings/<int:meeting_id>/attachments/<int:attachment_id>")
def public_meeting_file(meeting_id: int, attachment_id: int) -> Response:
    meeting = db.get_or_404(Meeting, meeting_id)
    if not can_read_meeting(None, meeting):
        abort(404)
    return _send(read.meeting_attachments(None, meeting), attachment_id)
