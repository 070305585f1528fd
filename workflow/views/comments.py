"""パブリックコメント (意見公募手続) for the secretariat."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from workflow.errors import ValidationFailed, WorkflowError
from workflow.extensions import db
from workflow.forms.comments import AnswerForm, BareForm, OpenForm, OpinionForm, ResultsForm
from workflow.models import Item, PublicComment
from workflow.permissions import can_manage_public_comment, can_read_item
from workflow.services import events, transaction
from workflow.services import items as item_service
from workflow.services import public_comment as pc
from workflow.states.states import ItemStatus, PublicCommentStatus
from workflow.views.common import (
    PER_PAGE,
    Page,
    errors_onto_form,
    flash_workflow_error,
    require,
    send_pdf,
    version_from,
)

bp = Blueprint("comments", __name__, url_prefix="/public-comments")


_ITEMS, _PC = Item.__table__.c, PublicComment.__table__.c
# Plain rows of what the list shows, the procedure joined: one query, not one per row, and no
# ORM objects for a list that only displays.
LIST_QUERY = (
    select(_ITEMS.id, _ITEMS.title, _ITEMS.status, _PC.published_on, _PC.closes_on)
    .select_from(Item.__table__.outerjoin(PublicComment.__table__, _PC.item_id == _ITEMS.id))
    .where(
        or_(
            (Item.status == ItemStatus.APPROVED) & Item.public_comment_planned,
            Item.status.in_((ItemStatus.PUBLIC_COMMENT, ItemStatus.PUBLIC_COMMENT_CLOSED)),
            _PC.id.is_not(None),
        )
    )
    .order_by(_ITEMS.updated_at.desc(), _ITEMS.id.desc())
)


@bp.get("/")
@login_required
def index() -> str:
    require(can_manage_public_comment(current_user))
    page = Page.requested()
    rows = db.session.execute(page.cut(LIST_QUERY)).all()
    return render_template(
        "comments/index.html",
        items=rows[:PER_PAGE],
        **page.context(rows, lambda n: url_for("comments.index", page=n)),
    )


def _load(item_id: int) -> Item:
    item = db.get_or_404(Item, item_id)
    require(can_read_item(current_user, item) and can_manage_public_comment(current_user))
    return item


def _page(item: Item, status: int = 200, **forms):
    process = item.comment_process
    allowed = item_service.allowed_events(current_user, item)
    defaults = {
        "open_form": OpenForm(formdata=None, data={"version": item.version}),
        "opinion_form": OpinionForm(formdata=None),
        "results_form": ResultsForm(formdata=None, data={"version": item.version}),
        "bare_form": BareForm(formdata=None, data={"version": item.version}),
    }
    defaults.update(forms)
    return render_template(
        "comments/show.html",
        item=item,
        process=process,
        allowed=allowed,
        statuses=PublicCommentStatus,
        # 意見募集を終了する waits for the closing day (guards.closing_day): disabled before it.
        before_closing=process is not None and pc.today() < process.closes_on,
        **defaults,
    ), status


@bp.get("/<int:item_id>")
@login_required
def show(item_id: int):
    return _page(_load(item_id))


def _fail(item: Item, error: WorkflowError, form_name: str, form) -> tuple[str, int]:
    db.session.rollback()
    if isinstance(error, ValidationFailed):
        errors_onto_form(form, error)  # listed in the page's error summary
    else:
        flash(error.message, "error")
    return _page(db.session.get(Item, item.id), error.http_status, **{form_name: form})


def _done(item: Item, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("comments.show", item_id=item.id))


@bp.post("/<int:item_id>/open")
@login_required
def open_(item_id: int):
    item = _load(item_id)
    form = OpenForm()
    if not form.validate():
        return _page(item, 422, open_form=form)
    try:
        events.fire_item_event(
            current_user,
            item,
            "open_public_comment",
            published_on=form.published_on.data,
            closes_on=form.closes_on.data,
            how_to_submit=form.how_to_submit.data,
            shortened_reason=form.shortened_reason.data or "",
            version=version_from(form.version.data),
        )
        transaction.commit()
    except WorkflowError as error:
        return _fail(item, error, "open_form", form)
    return _done(item, "意見募集を開始しました。")


@bp.post("/<int:item_id>/opinions")
@login_required
def add_opinion(item_id: int):
    item = _load(item_id)
    form = OpinionForm()
    if not form.validate():
        return _page(item, 422, opinion_form=form)
    try:
        pc.add_opinion(
            current_user, item, summary=form.summary.data, submitter_kind=form.submitter_kind.data
        )
        transaction.commit()
    except WorkflowError as error:
        return _fail(item, error, "opinion_form", form)
    return _done(item, "意見を記録しました。")


@bp.post("/<int:item_id>/opinions/<int:number>")
@login_required
def answer(item_id: int, number: int):
    item = _load(item_id)
    form = AnswerForm()
    # The opinion's own boxes (view-N, handling-N): the error summary links to them.
    form.city_view.id, form.handling.id = f"view-{number}", f"handling-{number}"
    if not form.validate():
        return _page(item, 422, answer_form=form, answer_number=number)
    try:
        pc.update_opinion(
            current_user,
            item,
            number,
            {"city_view": form.city_view.data or "", "handling": form.handling.data or None},
        )
        transaction.commit()
    except ValidationFailed as error:
        db.session.rollback()
        errors_onto_form(form, error)
        item = db.session.get(Item, item.id)
        return _page(item, 422, answer_form=form, answer_number=number)
    except WorkflowError as error:
        flash_workflow_error(error)
        return redirect(url_for("comments.show", item_id=item.id))
    return _done(item, f"意見 No.{number} の市の考え方を保存しました。")


@bp.post("/<int:item_id>/close")
@login_required
def close(item_id: int):
    item = _load(item_id)
    form = BareForm()
    if not form.validate():
        return redirect(url_for("comments.show", item_id=item.id))
    try:
        events.fire_item_event(
            current_user, item, "close_public_comment", version=version_from(form.version.data)
        )
        transaction.commit()
    except WorkflowError as error:
        flash_workflow_error(error)
        return redirect(url_for("comments.show", item_id=item.id))
    return _done(item, "意見募集を終了しました。")


@bp.post("/<int:item_id>/publish")
@login_required
def publish(item_id: int):
    item = _load(item_id)
    form = ResultsForm()
    if not form.validate():
        return _page(item, 422, results_form=form)
    try:
        events.fire_item_event(
            current_user,
            item,
            "publish_comment_results",
            changes_made=form.changes_made.data or "",
            version=version_from(form.version.data),
        )
        transaction.commit()
    except WorkflowError as error:
        return _fail(item, error, "results_form", form)
    return _done(item, "意見募集の結果を公表しました。")


@bp.get("/<int:item_id>/results.pdf")
@login_required
def results_pdf(item_id: int):
    from workflow.pdf.documents import comment_results_pdf

    item = _load(item_id)
    if item.comment_process is None:
        return redirect(url_for("comments.show", item_id=item.id))
    return send_pdf(comment_results_pdf(item.comment_process))
