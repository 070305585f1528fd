"""Items (案件): the department's list and 様式２ form, the item page, the secretariat's intake."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import NamedTuple

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from workflow import deadlines
from workflow.errors import NotFound, ValidationFailed, WorkflowError
from workflow.extensions import db
from workflow.forms._choices import options
from workflow.forms.items import (
    BLANK_ROWS,
    ROW_LISTS,
    ActionForm,
    ItemFilterForm,
    ItemForm,
    ReasonForm,
)
from workflow.forms.rows import apply_row_action, form_data, row_action
from workflow.models import DEFAULT_ROUTE, Item, MeetingKind, Section
from workflow.permissions import (
    can_edit_item,
    can_file_item,
    can_manage_public_comment,
    can_read_item,
    is_secretariat,
    owns,
)
from workflow.queries import item_status
from workflow.queries.item_view import item_view
from workflow.queries.items import ItemFilter, list_query
from workflow.queries.versions import form_fields, latest_number, printed_fields
from workflow.services import events, items, public_comment, transaction
from workflow.states import diagram
from workflow.states.machine import EVENT_LABELS
from workflow.states.states import ItemStatus, Role, because
from workflow.views import attachments, confirmations, jst_short
from workflow.views.common import (
    PER_PAGE,
    Page,
    confirmation_page,
    confirmed,
    flash_workflow_error,
    kinds,
    meeting_arg,
    require,
    send_pdf,
    version_from,
)

bp = Blueprint("items", __name__, url_prefix="/items")

# Events a button on the item page fires directly; the others live on their own screens.
SIMPLE_EVENTS = ("submit", "accept", "submit_amendment", "confirm_amendment", "conclude")
REASON_EVENTS = ("return", "return_amendment", "withdraw")
# What the buttons of the events that take a reason say: a verb, as a button does.
REASON_BUTTONS = {
    "return": "差し戻す",
    "return_amendment": "修正版を差し戻す",
    "withdraw": "取り下げる",
}

STATUS_OPTIONS = options([("", "すべて")] + [(s.value, s.label) for s in ItemStatus])


def _kind_names() -> dict[str, str]:
    """The meeting kinds' names by code, in their configured order (read per request: admins
    manage them)."""
    rows = db.session.execute(
        select(MeetingKind.code, MeetingKind.name).order_by(MeetingKind.sort_order)
    )
    return dict(rows.all())


def next_step(item: Item) -> str:
    """The item's 「次のステップ」 as the signed-in reader reads it."""
    return item_status.next_step(item, current_user)


class ListRow(NamedTuple):
    """One row of the item list with its texts made in Python, not by calls from the template."""

    url: str
    title: str
    section_name: str
    status: str  # the state's value (the badge's class)
    status_label: str
    next_step: str
    updated: str  # 「R1.10.11」


def _list_rows(rows) -> list[ListRow]:
    """Rows of :data:`workflow.queries.items.LIST_COLUMNS` as the list page shows them.

    Each row's link is the list's own path and the item's id, which is the item page's route
    (``/items/<id>``; test_item_list_pages holds the two equal): url_for per row would cost
    the page its share of the floor (benchmarks/RESULTS.md, session 13). Rows are unpacked by
    position, which costs a fraction of reading a Row's attributes by name.
    """
    prefix = url_for("items.index")
    # 「次のステップ」 is said to the reader: the section's own items in the second person.
    own = getattr(current_user, "section", None) if current_user.role == Role.DEPARTMENT else None
    own_name = own.name if own is not None else None
    reader_kind = item_status.SECRETARIAT if is_secretariat(current_user) else item_status.OTHER
    out = []
    for item_id, title, section, _applied, _target, status, _level, awaited, _v, updated, _ in rows:
        out.append(
            ListRow(
                f"{prefix}{item_id}",
                title,
                section,
                status.value,
                status.label,
                item_status.next_step_text(
                    status, awaited, item_status.OWNER if section == own_name else reader_kind
                ),
                jst_short(updated),
            )
        )
    return out


def _load(item_id: int) -> Item:
    item = db.get_or_404(Item, item_id)
    require(can_read_item(current_user, item))
    return item


def item_list_url() -> str:
    """The item list as its reader starts from it: a department from its own section's items,
    with that filter in the URL where it can be changed."""
    if current_user.is_authenticated and current_user.role == Role.DEPARTMENT:
        return url_for("items.index", mine=1)
    return url_for("items.index")


# The filter's option lists (meeting kinds, section names) are read at most once a minute per
# server process: admins change them seldom, and a change shows within the minute without a
# restart. Every check of a value (ItemFilter, the forms, the services) reads the database.
CHOICES_SECONDS = 60.0


@dataclass(frozen=True)
class FilterChoices:
    kinds: list  # SelectChoice: 「すべて」 and each meeting kind, in the configured order
    sections: list[str]  # every section's name, for the 所管課 field's datalist
    read_at: float  # time.monotonic() when read


def _filter_choices() -> FilterChoices:
    choices = current_app.extensions.get("chogi.item_filter_choices")
    if choices is None or time.monotonic() - choices.read_at > CHOICES_SECONDS:
        kinds = _kind_names().items()
        sections = db.session.scalars(select(Section.name).order_by(Section.name)).all()
        choices = FilterChoices(options([("", "すべて"), *kinds]), list(sections), time.monotonic())
        current_app.extensions["chogi.item_filter_choices"] = choices
    return choices


def _filter_page(form: ItemFilterForm, **context) -> str:
    choices = _filter_choices()
    form.status.choices = STATUS_OPTIONS
    form.kind.choices = choices.kinds
    return render_template("items/index.html", form=form, sections=choices.sections, **context)


@bp.get("/")
@login_required
def index() -> str | Response | tuple[str, int]:
    """The items the reader may read, filtered as ``GET /api/v1/items`` filters them."""
    if not request.args and current_user.role == Role.DEPARTMENT:
        return redirect(item_list_url())  # a department starts from its own items
    form = ItemFilterForm(request.args)
    page = Page.requested()
    try:
        item_filter = ItemFilter.from_args(request.args)
    except ValidationFailed as error:
        for name, messages in error.fields.items():
            getattr(form, name).errors = messages
        return _filter_page(form, items=[], error=error), 422
    # No total: a count would read every readable row; one row more than a page says whether a
    # next page exists.
    rows = db.session.execute(page.cut(list_query(current_user, item_filter))).all()
    args = item_filter.args()
    return _filter_page(
        form,
        items=_list_rows(rows[:PER_PAGE]),
        **page.context(rows, lambda n: url_for("items.index", **args, page=n)),
    )


@bp.get("/intake")
@login_required
def intake() -> str:
    """The secretariat's queue: requests submitted and waiting to be taken in or returned."""
    require(is_secretariat(current_user))
    # Oldest request first, a page at a time, each card's route loaded with the page (not one
    # query per card); a card names its target and route kinds from one read of the kinds.
    page = Page.requested()
    rows = db.session.scalars(
        page.cut(
            select(Item)
            .where(Item.status == ItemStatus.SUBMITTED)
            .order_by(Item.updated_at, Item.id)
            .options(selectinload(Item.route_steps))
        )
    ).all()
    return render_template(
        "items/intake.html",
        items=rows[:PER_PAGE],
        action_form=ActionForm(),
        reason_form=ReasonForm(),
        kind_names=_kind_names(),
        **page.context(rows, lambda n: url_for("items.intake", page=n)),
    )


def _section_names(item: Item | None) -> list[str]:
    # A retired (廃止) section files nothing new; an item it already has keeps its name below.
    if is_secretariat(current_user):
        names = list(
            db.session.scalars(
                select(Section.name).where(Section.retired_at.is_(None)).order_by(Section.name)
            )
        )
    else:
        own = current_user.section
        names = [own.name] if own is not None and own.retired_at is None else []
    if item is not None and item.section.name not in names:
        names.insert(0, item.section.name)
    return names


def _prior_opinions(item: Item | None) -> list:
    """The earlier meetings' opinions the page offers notes under (DOMAIN §9): the decided
    meetings of a filed item whose minutes the reader may read, those with opinions."""
    if item is None or item.status == ItemStatus.DRAFT:
        return []  # the service takes no notes before the first submission
    return [g for g in item_view(current_user, item).prior_opinions() if g.opinions]


def _note_options(item: Item | None, prior: list) -> dict:
    """ItemForm's ``opinion_ids`` and ``kept_notes``: none when the page shows no section."""
    if not prior or item is None:
        return {}
    shown = [o.id for group in prior for o in group.opinions]
    offered = set(shown)
    kept = [
        {"opinion_id": n.opinion_id, "text": n.text}
        for n in item.opinion_notes
        if n.opinion_id not in offered
    ]
    return {"opinion_ids": shown, "kept_notes": kept}


def _form_page(item: Item | None) -> str | Response | tuple[str, int]:
    """New and edit share one flow: row buttons re-render; save (and maybe submit) otherwise."""
    ks, sections = kinds(), _section_names(item)
    template = "items/form.html"
    prior = _prior_opinions(item)
    extra = {"kinds": ks, "sections": sections, **_note_options(item, prior)}

    def page(form: ItemForm, shown: Item | None = item, **context) -> str:
        return render_template(
            template,
            form=form,
            item=shown,
            prior=prior,
            deadline_rows=_deadline_rows(shown, form),
            **context,
        )

    if request.method == "GET":
        data = (
            ItemForm.data_from_item(item, ks)
            if item is not None
            else ItemForm.blank_data(sections[0] if sections else "")
        )
        return page(ItemForm(formdata=None, data=data, **extra))

    form = ItemForm(**extra)
    action = row_action(request.form, ROW_LISTS)
    if action is not None:
        data = form_data(form)
        focus = apply_row_action(data, action, copy.deepcopy(BLANK_ROWS[action.list_name]))
        form = ItemForm(formdata=None, data=data, **extra)
        return page(form, focus=f"{action.list_name}-{focus}")
    if not form.validate():
        flash("入力内容に誤りがあります。赤字の項目を確認してください。", "error")
        return page(form), 422

    then_submit = "save_and_submit" in request.form
    had = latest_number(item) if item is not None else 0
    try:
        data = form.to_service_data()
        if item is None:
            item = items.file_item(current_user, data)
        else:
            items.update_item(current_user, item, data, version=version_from(form.version.data))
        if then_submit:
            submit = "submit_amendment" if item.status == ItemStatus.AMENDING else "submit"
            events.fire_item_event(current_user, item, submit)
        transaction.commit()
    except ValidationFailed as error:
        db.session.rollback()
        form.add_service_errors(error.fields)
        flash(error.message, "error")
        return page(form, _reloaded(item)), 422
    except WorkflowError as error:
        flash_workflow_error(error)
        return page(form, _reloaded(item)), error.http_status
    if then_submit:
        flash(
            "修正版を提出しました。庁議事務局の確認をお待ちください。"
            if item.status == ItemStatus.AMENDMENT_SUBMITTED
            else "申し込みました。庁議事務局の受付をお待ちください。",
            "success",
        )
    elif (saved := latest_number(item)) > max(had, 1):
        flash(f"保存しました。様式２の第{saved}版になりました。", "success")
    elif item.status == ItemStatus.DRAFT:
        flash("保存しました。", "success")
    else:
        flash("保存しました（変更した項目はありません）。", "success")
    return redirect(url_for("items.show", item_id=item.id))


def _deadline_rows(item: Item | None, form: ItemForm) -> list[deadlines.NextDeadline]:
    """The 申込締切 a request sent now must meet (DOMAIN §11): the next planned meeting of the
    kind it awaits, or of each kind of the route on the form (the first decides 締切後). Only
    while the form can still be submitted."""
    if item is not None and item.status not in (ItemStatus.DRAFT, ItemStatus.RETURNED):
        return []
    if item is not None and item.level_kind:
        wanted = [item.level_kind]
    else:
        chosen = set(form.route.data or DEFAULT_ROUTE)  # a new form's route: the default
        wanted = [c.value for c in form.route.choices if c.value in chosen]
    return deadlines.next_deadlines(wanted, public_comment.today())


def _reloaded(item: Item | None) -> Item | None:
    """After a rollback: the stored item, or None when it was being created."""
    if item is None or item.id is None:
        return None
    return db.session.get(Item, item.id)


def _own_section_retired(section: Section) -> str:
    """Why a department user whose own section was retired files nothing: say so up front
    rather than offer a form with an empty 課 select."""
    into = items.merged_into(section)
    joined = f"（「{into.name}」に統合）" if into is not None else ""
    return (
        f"所属の課「{section.name}」は廃止されています{joined}。"
        "管理者に所属の変更を依頼してください。"
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    own = current_user.section
    require(is_secretariat(current_user) or (own is not None and can_file_item(current_user, own)))
    if not is_secretariat(current_user) and own is not None and own.retired_at is not None:
        page = render_template("items/section_retired.html", message=_own_section_retired(own))
        return (page, 422) if request.method == "POST" else page
    return _form_page(None)


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@login_required
def edit(item_id: int):
    item = _load(item_id)
    if not can_edit_item(current_user, item):
        if is_secretariat(current_user) or owns(current_user, item):
            flash(f"この案件は{because(item.status)}、編集できません。", "error")
            return redirect(url_for("items.show", item_id=item.id))
        abort(403)
    return _form_page(item)


@bp.get("/<int:item_id>")
@login_required
def show(item_id: int) -> str:
    item = _load(item_id)
    allowed = items.allowed_events(current_user, item)
    view = item_view(current_user, item)  # as the API's item_json and 様式２ show it
    return render_template(
        "items/show.html",
        item=item,
        deliberations=view.deliberations,
        notes={note.opinion_id: note.text for note in item.opinion_notes},
        form=printed_fields(form_fields(item)),
        history=view.history,
        allowed=allowed,
        simple_events=[e for e in SIMPLE_EVENTS if e in allowed],
        reason_events=[e for e in REASON_EVENTS if e in allowed],
        event_labels=EVENT_LABELS,
        reason_buttons=REASON_BUTTONS,
        can_edit=can_edit_item(current_user, item),
        attention=item_status.attention(item, current_user, view.history, view.seen, view.said),
        action_form=ActionForm(data={"version": item.version}),
        reason_form=ReasonForm(formdata=None, data={"version": item.version}),
        path=_path(item, view.history),
        state_label=_state_label,
        comments_url=_comments_url(item, allowed),
        **attachments.section_context(item),  # 資料 (templates/attachments/_section.html)
    )


@bp.get("/flow")
@login_required
def flow() -> str:
    """手続の流れ全体: every state and every event of the item machine, drawn and listed."""
    return render_template(
        "items/flow.html",
        diagram=_diagram(),
        main_path=diagram.MAIN_PATH,
        moves=diagram.moves(),
    )


def _comments_url(item: Item, allowed) -> str | None:
    """Where the item page's 「パブリックコメント」 leads: the secretariat's page of the procedure
    (to open one, or to run it); for anyone else the procedure's public page, once there is one.
    """
    if can_manage_public_comment(current_user):
        if "open_public_comment" in allowed or item.comment_process:
            return url_for("comments.show", item_id=item.id)
        return None
    return url_for("public.comment", item_id=item.id) if item.comment_process else None


def _state_label(value: str) -> str:
    try:
        return ItemStatus(value).label
    except ValueError:
        return value


def _diagram() -> str | None:
    """The whole workflow as a diagram (generated, trusted SVG); None without Graphviz."""
    try:
        return diagram.item_diagram_svg()
    except (OSError, RuntimeError):  # the dot program is missing or failed: the list remains
        current_app.logger.exception("the workflow diagram could not be drawn")
        return None


def _path(item: Item, history) -> list[diagram.Step]:
    """The item's own path (done, now, to come), from its history and route."""
    changes = []
    kind = None  # the meeting kind the item waited for or sat at after each change
    for row in history:
        if row.from_state == row.to_state:
            continue
        if row.event == "accept":
            kind = item.route[0] if item.route else kind
        elif row.event == "record_outcome" and (row.params or {}).get("forward_to"):
            kind = row.params["forward_to"]
        changes.append((row.from_state, row.to_state, kind))
    return diagram.item_path(
        ItemStatus(item.status),
        changes,
        item.route,
        item.level_kind,
        item.public_comment_planned,
        _kind_names(),
    )


@bp.route("/<int:item_id>/events/<event>", methods=["GET", "POST"])
@login_required
def fire(item_id: int, event: str) -> Response | tuple[str, int]:
    """申込・受付・差戻し・修正版の提出・完了・取下げ from the item page or the intake queue.

    申込 and 受付 cannot be undone by their user: their button (or a GET of this URL) shows the
    confirmation page first, and only its own POST (``confirmed=1``) fires the event.
    """
    item = _load(item_id)
    if event not in SIMPLE_EVENTS + REASON_EVENTS:
        abort(404)
    asks = event in confirmations.ITEM_CONFIRMED
    if request.method == "GET" and not asks:
        abort(405)
    back = _back_url(item)
    form = ReasonForm() if event in REASON_EVENTS else ActionForm()
    if request.method == "POST" and not form.validate():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(back)
    if asks and not confirmed():
        try:  # who may, and whether the state allows it: said now, not after the page
            items.authorize(current_user, item, event)
        except WorkflowError as error:
            flash_workflow_error(error)
            return redirect(back)
        version = form.version.data if request.method == "POST" else item.version
        return confirmation_page(
            confirmations.item_confirmation(item, event),
            subject=item.title,
            back_url=back,
            version=version,
            hidden={"from": "intake"} if back == url_for("items.intake") else None,
        )
    params = {"reason": form.reason.data.strip()} if event in REASON_EVENTS else {}
    try:
        events.fire_item_event(
            current_user, item, event, version=version_from(form.version.data), **params
        )
        transaction.commit()
    except WorkflowError as error:
        flash_workflow_error(error)
        return redirect(back)
    flash(confirmations.item_done(item, event), "success")
    return redirect(back)


def _back_url(item: Item) -> str:
    if (request.form.get("from") or request.args.get("from")) == "intake":
        return url_for("items.intake")
    return url_for("items.show", item_id=item.id)


@bp.get("/<int:item_id>/form.pdf")
@login_required
def form_pdf(item_id: int):
    """様式２ as PDF: the current form, or with ``?meeting=ID`` the one frozen for that meeting."""
    from workflow.pdf.documents import request_form_pdf

    item = _load(item_id)
    meeting = meeting_arg(current_user)
    try:
        return send_pdf(request_form_pdf(item, reader=current_user, meeting=meeting))
    except NotFound:
        abort(404)
