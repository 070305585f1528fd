"""Items (案件): the department's list and 様式２ form, the item page, the secretariat's intake."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from types import SimpleNamespace
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
    SubmitForm,
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
from workflow.wareki import to_wareki_short

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
    applied: str  # 申込日 「R1.10.11」 (tells apart two items of one title), or 「未記入」
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
    for item_id, title, section, applied, _target, status, _level, awaited, _v, updated, _ in rows:
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
                to_wareki_short(applied) if applied else "未記入",
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


def _form_extra(item: Item | None) -> tuple[dict, list]:
    """What ItemForm takes besides its data, and the page besides the form."""
    ks, sections = kinds(), _section_names(item)
    prior = _prior_opinions(item)
    return {"kinds": ks, "sections": sections, **_note_options(item, prior)}, prior


def _render_form(item: Item | None, form: ItemForm, prior: list, **context) -> str:
    return render_template(
        "items/form.html",
        form=form,
        item=item,
        prior=prior,
        deadlines=_deadline_card(item, form),
        returned_because=_returned_reason(item),
        **context,
    )


def _returned_reason(item: Item | None) -> str | None:
    """Why a returned request was sent back, shown beside the answer to it."""
    if item is None or item.status != ItemStatus.RETURNED:
        return None
    row = items.last_return(item)
    return row.reason if row is not None and row.reason else None


def _new_form_data(sections: list[str], ks: list[MeetingKind]) -> dict:
    """A new request's form, pre-filled for the page only (the API fills nothing): the
    user's section (or the first offered) with its 局・区 and 部, 申込日 today in the city,
    the usual route and the last ladder kind on it as 付議先."""
    own = current_user.section
    name = own.name if own is not None and own.name in sections else (sections or [""])[0]
    section = own if own is not None and own.name == name else None
    if section is None and name:
        section = db.session.scalar(select(Section).where(Section.name == name))
    codes = {k.code for k in ks}
    route = [code for code in DEFAULT_ROUTE if code in codes]
    ladder = [k.code for k in ks if k.code in route and not k.review]
    return ItemForm.blank_data(
        section,
        today=public_comment.today(),
        route=route,
        target_kind=ladder[-1] if ladder else "",
    )


def _section_places(names: list[str]) -> dict[str, list[str]] | None:
    """局・区 and 部 of each section a new request may be filed for, when there is a choice:
    the page's script fills them in as the 課 changes (js/form.js)."""
    if len(names) < 2:
        return None
    rows = db.session.execute(
        select(Section.name, Section.bureau, Section.division).where(Section.name.in_(names))
    )
    return {name: [bureau, division] for name, bureau, division in rows}


SAVED_NOT_SUBMITTED = (
    "保存しました。まだ申し込まれていません。次の項目を直してから申し込んでください。"
)


def _also_missing(form: ItemForm) -> None:
    """「保存して申し込む」 refused by the form's own checks: name also what 申込 would find
    missing (items.missing_fields), so every field shows at once; a field that has its own
    error already keeps just that one."""
    data = form.to_service_data()
    shape = SimpleNamespace(
        title=data["title"],
        applied_on=data["applied_on"],
        target_kind=data["target_kind"],
        route=data["route"],
        section=data["section"] or None,
        bureau=data["bureau"],
        summary=data["summary"],
        discussion_points=[SimpleNamespace(text=t) for t in data["discussion_points"]],
    )
    missing = items.missing_fields(shape)
    form.add_service_errors({k: v for k, v in missing.items() if not getattr(form, k).errors})


def _form_page(item: Item | None) -> str | Response | tuple[str, int]:
    """New and edit share one flow: row buttons re-render; save (and maybe submit) otherwise."""
    extra, prior = _form_extra(item)

    def page(form: ItemForm, shown: Item | None = item, **context) -> str:
        return _render_form(shown, form, prior, **context)

    if request.method == "GET":
        if item is not None:
            data = ItemForm.data_from_item(item, extra["kinds"])
            form = ItemForm(formdata=None, data=data, **extra)
            if request.args.get("check") == "submit":  # after 「保存して申し込む」 fell short
                try:
                    items.check_submittable(item)
                except ValidationFailed as error:
                    form.to_service_data()  # where the service's row numbers sit in the form
                    form.add_service_errors(error.fields)
                    return page(form, summary_message=SAVED_NOT_SUBMITTED)
            return page(form)
        data = _new_form_data(extra["sections"], extra["kinds"])
        places = _section_places(extra["sections"])
        return page(ItemForm(formdata=None, data=data, **extra), section_places=places)

    form = ItemForm(**extra)
    action = row_action(request.form, ROW_LISTS)
    if action is not None:
        data = form_data(form)
        focus = apply_row_action(data, action, copy.deepcopy(BLANK_ROWS[action.list_name]))
        form = ItemForm(formdata=None, data=data, **extra)
        return page(form, focus=f"{action.list_name}-{focus}")
    if not form.validate():
        if "save_and_submit" in request.form:
            _also_missing(form)
        return page(form, summary_message="入力内容に誤りがあります。"), 422

    # 「保存して申し込む」 saves, then asks as the item page's 申込 does (an amendment goes at
    # once: it is not one of the steps that ask).
    then_submit = "save_and_submit" in request.form
    had = latest_number(item) if item is not None else 0
    was_new = item is None
    try:
        data = form.to_service_data()
        if item is None:
            item = items.file_item(current_user, data)
        else:
            items.update_item(current_user, item, data, version=version_from(form.version.data))
        if then_submit and item.status == ItemStatus.AMENDING:
            events.fire_item_event(current_user, item, "submit_amendment")
        transaction.commit()
    except ValidationFailed as error:
        db.session.rollback()
        form.add_service_errors(error.fields)
        return page(form, _reloaded(item), summary_message=error.message), 422
    except WorkflowError as error:
        flash_workflow_error(error)
        return page(form, _reloaded(item)), error.http_status
    if then_submit and item.status == ItemStatus.AMENDMENT_SUBMITTED:
        flash(confirmations.item_done(item, "submit_amendment"), "success")
    elif then_submit:
        comment = (form.comment.data or "").strip()
        try:
            items.check_ready_to_submit(current_user, item, comment)
        except ValidationFailed as error:
            # The save stands (nothing typed is lost). A new request goes on from its edit page
            # (a reload must not post /items/new again); there, or on the form shown, the
            # version just saved lets fixing it and pressing again go on.
            if was_new:
                return redirect(url_for("items.edit", item_id=item.id, check="submit"))
            form.version.data = item.version
            form.add_service_errors(error.fields)
            return page(form, item, summary_message=SAVED_NOT_SUBMITTED), 422
        except WorkflowError as error:
            flash_workflow_error(error)
            return redirect(url_for("items.show", item_id=item.id))
        if was_new:  # the confirmation page by GET: a reload must not post /items/new again
            return redirect(url_for("items.fire", item_id=item.id, event="submit"))
        return confirmation_page(
            confirmations.item_confirmation(item, "submit"),
            subject=item.title,
            back_url=url_for("items.edit", item_id=item.id),
            version=item.version,
            hidden={"comment": comment} if comment else None,
            action=url_for("items.fire", item_id=item.id, event="submit"),
        )
    elif (saved := latest_number(item)) > max(had, 1):
        flash(f"保存しました。様式２の第{saved}版になりました。", "success")
    elif item.status == ItemStatus.DRAFT:
        flash("保存しました。", "success")
    else:
        flash("保存しました（変更した項目はありません）。", "success")
    return redirect(url_for("items.show", item_id=item.id))


@dataclass(frozen=True)
class DeadlineCard:
    """The request form's 申込締切 card (DOMAIN §11): the next planned meeting and deadline of
    every kind, and which of them a request sent now must meet. ``awaited``: the kind the
    item waits for (its route cannot change that); else the route's kinds decide, the first
    of them deciding 締切後, and the page's script follows the route boxes as they change."""

    rows: list[deadlines.NextDeadline]
    shown: list[str]  # the codes shown without the script: the awaited kind, or the route's
    awaited: str | None


def _deadline_card(item: Item | None, form: ItemForm) -> DeadlineCard | None:
    """Only while the form can still be submitted."""
    if item is not None and item.status not in (ItemStatus.DRAFT, ItemStatus.RETURNED):
        return None
    today = public_comment.today()
    if item is not None and item.level_kind:
        rows = deadlines.next_deadlines([item.level_kind], today)
        return DeadlineCard(rows, [item.level_kind], item.level_kind)
    chosen = set(form.route.data or [])
    codes = [c.value for c in form.route.choices]
    return DeadlineCard(
        deadlines.next_deadlines(codes, today), [c for c in codes if c in chosen], None
    )


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
    confirmation page first, and only its own POST (``confirmed=1``) fires the event. An
    incomplete request is sent back to its form before the confirmation page is shown.
    """
    item = _load(item_id)
    if event not in SIMPLE_EVENTS + REASON_EVENTS:
        abort(404)
    asks = event in confirmations.ITEM_CONFIRMED
    if request.method == "GET" and not asks:
        abort(405)
    back = _back_url(item)
    if event in REASON_EVENTS:
        form = ReasonForm()
    else:
        form = SubmitForm() if event == "submit" else ActionForm()
    if request.method == "POST" and not form.validate():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(back)
    params = {"reason": (form.reason.data or "").strip()} if event in REASON_EVENTS else {}
    if request.method == "GET" and event in REASON_EVENTS:
        return redirect(back)  # its reason is typed on the item page first
    if event == "submit":
        params = {"comment": (form.comment.data or "").strip()}
    try:
        if asks and not confirmed():
            # Who may, whether the state allows it and whether the request is complete: said
            # now, not after the confirmation page.
            if event == "submit":
                items.check_ready_to_submit(current_user, item, params["comment"])
            else:
                items.authorize(current_user, item, event)
            version = form.version.data if request.method == "POST" else item.version
            hidden = {"from": "intake"} if back == url_for("items.intake") else {}
            hidden.update({k: v for k, v in params.items() if v})  # the answer or the reason
            return confirmation_page(
                confirmations.item_confirmation(item, event, params.get("reason", "")),
                subject=item.title,
                back_url=back,
                version=version,
                hidden=hidden or None,
            )
        events.fire_item_event(
            current_user, item, event, version=version_from(form.version.data), **params
        )
        transaction.commit()
    except ValidationFailed as error:
        if event == "submit" and error.fields and can_edit_item(current_user, item):
            return _submit_refused(item, error, params["comment"]), 422
        flash_workflow_error(error)
        return redirect(back)
    except WorkflowError as error:
        flash_workflow_error(error)
        return redirect(back)
    flash(confirmations.item_done(item, event), "success")
    return redirect(back)


def _submit_refused(item: Item, error: ValidationFailed, comment: str) -> str:
    """申込 from the item page refused for what the form lacks: the form itself, with every
    missing field named in the summary at its top and beside each field, and the answer to
    the return as it was typed."""
    db.session.rollback()
    item = db.session.get(Item, item.id)
    extra, prior = _form_extra(item)
    form = ItemForm(formdata=None, data=ItemForm.data_from_item(item, extra["kinds"]), **extra)
    form.comment.data = comment
    form.to_service_data()  # where the service's row numbers sit in the form
    form.add_service_errors(error.fields)
    return _render_form(item, form, prior, summary_message=error.message)


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
