"""Meetings (会議): list by 年度 and kind, create, agenda builder, meeting room, minutes."""

from __future__ import annotations

import copy
from functools import partial

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from workflow.auth import not_extending_sign_in
from workflow.deadlines import deadline_of
from workflow.errors import NotFound, ValidationFailed, WorkflowError
from workflow.extensions import db
from workflow.forms._choices import options
from workflow.forms.meetings import (
    ROOM_BLANK_ROWS,
    ROOM_LISTS,
    CancelForm,
    DeliberationForm,
    DisclosureForm,
    MeetingEditForm,
    MeetingForm,
    MoveForm,
    ScheduleForm,
    SimpleForm,
    with_pasted_attendance,
)
from workflow.forms.rows import apply_row_action, form_data, row_action
from workflow.models import (
    AgendaEntry,
    Item,
    Meeting,
    MeetingKind,
    RoomDraft,
    Section,
    review_kinds,
)
from workflow.permissions import can_manage_meetings, can_read_meeting, can_read_minutes, is_admin
from workflow.queries.disclosure import minutes_entries
from workflow.queries.meetings import fiscal_years, meeting_ids, with_entry_counts
from workflow.schemas.errors import error_body
from workflow.services import events, meetings, public_comment, room_drafts, transaction
from workflow.services.public_comment import today
from workflow.states import guards
from workflow.states.machine import EVENT_LABELS, check_allowed
from workflow.states.routing import forward_targets
from workflow.states.states import ItemStatus, MeetingStatus, Outcome, because
from workflow.views import JST, attachments, confirmations
from workflow.views.common import (
    MINUTES,
    PER_PAGE,
    Page,
    attempt,
    confirmation_page,
    confirmed,
    errors_onto_form,
    flash_workflow_error,
    kinds,
    require,
    send_pdf,
    version_from,
)
from workflow.wareki import fiscal_year, to_wareki

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

SECTION_MANAGERS = "section_managers"


def _load(meeting_id: int, *options) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id, options=options)
    if meeting is None:
        abort(404)
    require(can_read_meeting(current_user, meeting))
    return meeting


@bp.get("/")
@login_required
def index() -> str:
    years = fiscal_years(current_user)
    current = fiscal_year(today())
    if current not in years:
        years.insert(0, current)
    fy = request.args.get("fy", type=int)
    if fy is not None and not 1 <= fy <= 9999:
        fy = None  # a typed URL: past any year, and past what the database can compare
    kind = request.args.get("kind", "")
    # A page at a time, as the item list: a decade of meetings is tens of thousands of rows.
    # One row more than a page says whether a next page exists; no total is counted.
    page = Page.requested()
    rows = with_entry_counts(page.cut(meeting_ids(current_user, kind=kind, fiscal_year=fy or 0)))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "meetings/index.html",
        meetings=rows[:PER_PAGE],
        **page.context(rows, lambda n: url_for("meetings.index", **args, page=n)),
        years=sorted(set(years), reverse=True),
        fy=fy,
        kind=kind,
        kinds=kinds(),
        can_manage=can_manage_meetings(current_user),
        submission_deadline=deadline_of,  # 申込締切 per row (one read of 閉庁日)
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    require(can_manage_meetings(current_user))
    form = MeetingForm()
    form.kind.choices = options([(k.code, k.name) for k in kinds()])
    form.second_kind.choices = [("", "（兼ねない）"), *((k.code, k.name) for k in kinds())]
    if request.method == "GET" and request.args.get("kind"):
        form.kind.data = request.args["kind"]
    if form.validate_on_submit():
        try:
            meeting = meetings.create_meeting(
                current_user,
                kind=form.kind.data,
                date_=form.parsed_date,
                number=form.parsed_number,
                chair=(form.chair.data or "").strip(),
                venue=(form.venue.data or "").strip(),
                start_time=form.parsed_time,
                joint_name=(form.joint_name.data or "").strip(),
                second_kind=form.second_kind.data or None,
            )
            transaction.commit()
        except ValidationFailed as error:
            db.session.rollback()
            errors_onto_form(form, error)
            return render_template("meetings/new.html", form=form), 422
        except WorkflowError as error:
            flash_workflow_error(error)
            return render_template("meetings/new.html", form=form), error.http_status
        flash(f"{meeting.title}を登録しました。議題を加えてください。", "success")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    status = 422 if request.method == "POST" else 200
    return render_template("meetings/new.html", form=form), status


@bp.get("/<int:meeting_id>")
@login_required
def show(meeting_id: int) -> str:
    # The agenda in one query, each result's higher meeting with it (no query per entry).
    meeting = _load(meeting_id, selectinload(Meeting.entries).joinedload(AgendaEntry.forward_kind))
    manage = can_manage_meetings(current_user)
    waiting = []
    if manage and meeting.status == MeetingStatus.PLANNED:
        waiting = db.session.scalars(
            select(Item)
            .where(Item.status == ItemStatus.ACCEPTED, Item.level_kind.in_(meeting.kinds))
            .order_by(Item.updated_at)
        ).all()
    deadline = deadline_of(meeting)
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        deadline=deadline,
        deadline_passed=meeting.status == MeetingStatus.PLANNED
        and public_comment.today() > deadline,
        can_set_deadline=is_admin(current_user),
        manage=manage,
        waiting=waiting,
        events=[e for e in meetings.allowed_meeting_events(current_user, meeting)],
        event_labels=EVENT_LABELS,
        form=SimpleForm(formdata=None, data={"version": meeting.version}),
        can_minutes=can_read_minutes(current_user, meeting),
        all_decided=bool(meeting.entries) and all(e.outcome for e in meeting.entries),
        **attachments.section_context(meeting),  # 資料 (templates/attachments/_section.html)
    )


def _back(meeting: Meeting) -> Response:
    return redirect(url_for("meetings.show", meeting_id=meeting.id) + "#agenda")


def _item_or_flash(form) -> Item | None:
    item = db.session.get(Item, form.item_id.data) if form.item_id.data else None
    if item is None:
        flash("案件が見つかりません。", "error")
    return item


@bp.post("/<int:meeting_id>/agenda/add")
@login_required
def agenda_add(meeting_id: int) -> Response:
    meeting = _load(meeting_id)
    require(can_manage_meetings(current_user))
    form = ScheduleForm()
    if not form.validate() or (item := _item_or_flash(form)) is None:
        flash("追加する案件を選んでください。", "error")
        return _back(meeting)
    try:
        meetings.schedule(current_user, meeting, item, (form.presenter.data or "").strip())
        transaction.commit()
    except WorkflowError as error:
        flash_workflow_error(error)
        return _back(meeting)
    flash(f"「{item.title}」を議題に加えました。", "success")
    return _back(meeting)


@bp.post("/<int:meeting_id>/agenda/<direction>")
@login_required
def agenda_move(meeting_id: int, direction: str) -> Response:
    """Move an entry up or down, or take it off the agenda (remove)."""
    meeting = _load(meeting_id)
    require(can_manage_meetings(current_user))
    if direction not in ("up", "down", "remove"):
        abort(404)
    form = MoveForm()
    if not form.validate() or (item := _item_or_flash(form)) is None:
        return _back(meeting)
    try:
        if direction == "remove":
            meetings.unschedule(current_user, meeting, item)
            message = f"「{item.title}」を議題から外しました。"
        else:
            order = [e.item_id for e in meeting.entries]
            if item.id not in order:
                raise ValidationFailed("この案件はこの会議の議題にありません。")
            i = order.index(item.id)
            j = i - 1 if direction == "up" else i + 1
            if 0 <= j < len(order):
                order[i], order[j] = order[j], order[i]
            meetings.reorder_agenda(
                current_user, meeting, order, version=version_from(form.version.data)
            )
            message = "議題の順番を変えました。"
        transaction.commit()
    except WorkflowError as error:
        flash_workflow_error(error)
        return _back(meeting)
    flash(message, "success")
    return _back(meeting)


@bp.route("/<int:meeting_id>/events/<event>", methods=["GET", "POST"])
@login_required
def fire(meeting_id: int, event: str) -> Response | tuple[str, int]:
    """開催済にする・議事録の確定・公開・公開取消・中止.

    開催済にする, 議事録の確定 and 公開 show the confirmation page first (their button, or a GET
    of this URL); only its own POST (``confirmed=1``) fires the event.
    """
    meeting = _load(meeting_id)
    require(can_manage_meetings(current_user))
    if event not in events.MEETING_EVENTS:
        abort(404)
    asks = event in confirmations.MEETING_CONFIRMED
    if request.method == "GET" and not asks:
        abort(405)
    back = url_for("meetings.show", meeting_id=meeting.id)
    form = SimpleForm()
    if request.method == "POST" and not form.validate():
        flash("画面を読み込み直してから、もう一度操作してください。", "error")
        return _back(meeting)
    if asks and not confirmed():
        try:
            check_allowed(meeting, event)  # the state's answer now, not after the page
            if event == "hold":
                guards.check_every_entry_decided(meeting)
        except WorkflowError as error:
            flash_workflow_error(error)
            return redirect(back)
        return confirmation_page(
            confirmations.meeting_confirmation(meeting, event),
            subject=meeting.title,
            back_url=back,
            version=form.version.data if request.method == "POST" else meeting.version,
        )
    # 公開取消 and 中止 take their reason from the form beside their button.
    params = {"reason": request.form.get("reason", "")} if event in ("unpublish", "cancel") else {}
    try:
        events.fire_meeting_event(
            current_user, meeting, event, version=version_from(form.version.data), **params
        )
        transaction.commit()
    except WorkflowError as error:
        flash_workflow_error(error)
        return _back(meeting)
    flash(confirmations.meeting_done(meeting, event), "success")
    return redirect(back)


def _not_planned(meeting: Meeting) -> Response | None:
    """Back to the meeting, saying why, unless it is planned (only then edited or cancelled)."""
    if meeting.status == MeetingStatus.PLANNED:
        return None
    flash(f"{because(meeting.status)}、変更も中止もできません。", "error")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit(meeting_id: int):
    """A planned meeting's date, time, venue, chair, joint name and 第N回."""
    meeting = _load(meeting_id)
    require(can_manage_meetings(current_user))
    if (refused := _not_planned(meeting)) is not None:
        return refused
    data = {
        "version": str(meeting.version),
        "date": to_wareki(meeting.date),
        "number": str(meeting.number) if meeting.number_fixed else "",
        "joint_name": meeting.joint_name,
        "start_time": meeting.start_time.strftime("%H:%M") if meeting.start_time else "",
        "venue": meeting.venue,
        "chair": meeting.chair,
    }
    form = MeetingEditForm(data=data) if request.method == "GET" else MeetingEditForm()

    def page(status: int = 200):
        return render_template("meetings/edit.html", meeting=meeting, form=form), status

    if request.method == "GET":
        return page()
    if not form.validate():
        return page(422)
    old_date = meeting.date
    changes = {
        "date": form.parsed_date,
        "number": form.parsed_number,
        "start_time": form.parsed_time,
        "venue": (form.venue.data or "").strip(),
        "chair": (form.chair.data or "").strip(),
        "joint_name": (form.joint_name.data or "").strip(),
    }
    version = version_from(form.version.data)
    change = partial(meetings.update_meeting, current_user, meeting, changes, version=version)
    if (error := attempt(form, change)) is not None:
        return page(error.http_status)
    message = f"{meeting.title}を変更しました。"
    if meeting.date != old_date and meeting.entries:
        message += "議題の案件の所管課に、新しい開催日を通知しました。"
    flash(message, "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.route("/<int:meeting_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(meeting_id: int):
    """中止: the reason is required; the items on the agenda go back to waiting."""
    meeting = _load(meeting_id)
    require(can_manage_meetings(current_user))
    if (refused := _not_planned(meeting)) is not None:
        return refused
    if request.method == "GET":
        form = CancelForm(formdata=None, data={"version": str(meeting.version)})
    else:
        form = CancelForm()

    def page(status: int = 200):
        return render_template("meetings/cancel.html", meeting=meeting, form=form), status

    if request.method == "GET":
        return page()
    if not form.validate():
        if "csrf_token" in form.errors:
            flash("画面を読み込み直してから、もう一度操作してください。", "error")
        return page(422)
    reason, version = form.reason.data or "", version_from(form.version.data)
    change = partial(meetings.cancel, current_user, meeting, reason=reason, version=version)
    if (error := attempt(form, change)) is not None:
        return page(error.http_status)
    flash(confirmations.meeting_done(meeting, "cancel"), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


def _forward_kinds(meeting: Meeting, item: Item) -> list[MeetingKind]:
    """The 上部庁議 the meeting may name for *item* (DOMAIN §8): the ladder kinds after it on the
    item's route."""
    targets = forward_targets(item.route, meeting.kinds, review_kinds())
    return [k for k in kinds() if k.code in targets]


def _section_names() -> list[str]:
    """The 出席課 offered in the meeting room: every section not retired, by name."""
    return list(
        db.session.scalars(
            select(Section.name).where(Section.retired_at.is_(None)).order_by(Section.name)
        )
    )


def _unknown_sections(names: list[str]) -> str:
    listed = "、".join(f"「{name}」" for name in names)
    return (
        f"{listed}は課の一覧にないため、追加していません。"
        "名前を確かめて直し、もう一度「まとめて追加」を押してください"
        "（一覧にない機関等は、出席の行に直接入力できます）。"
    )


def _room_data(meeting: Meeting, entry) -> dict:
    return {
        "version": str(meeting.version),
        "presenter": entry.presenter,
        "attendance": [
            {"section": a.section_name, "deputy": a.deputy, "absent": not a.present}
            for a in entry.attendance
        ]
        or [dict(ROOM_BLANK_ROWS["attendance"])],
        "opinions": [
            {
                "opinion": o.opinion,
                "response": o.response or "",
                "follow_up": o.follow_up or "",
                "public": "0" if o.public is False else "1",
            }
            for o in entry.opinions
        ]
        or [dict(ROOM_BLANK_ROWS["opinions"])],
        "special_notes": entry.special_notes,
        "outcome": entry.outcome.value if entry.outcome else "",
        "forward_to": entry.forward_to or "",
    }


@bp.route("/<int:meeting_id>/room/<int:n>", methods=["GET", "POST"])
@login_required
def room(meeting_id: int, n: int):
    """ペーパーレス会議: one screen per agenda entry (n counts from 1)."""
    meeting = _load(meeting_id)
    require(can_manage_meetings(current_user))
    if not 1 <= n <= len(meeting.entries):
        abort(404)
    entry = meeting.entries[n - 1]
    forward = _forward_kinds(meeting, entry.item)
    frozen = meeting.status in meetings.FROZEN
    with_attendance = SECTION_MANAGERS in meeting.kinds

    def page(form: DeliberationForm, status: int = 200, focus: str | None = None):
        return _room_page(meeting, n, form, status=status, focus=focus)

    if request.method == "GET":
        draft = None if frozen else room_drafts.draft_of(current_user, entry)
        if draft is None:
            form = DeliberationForm(
                formdata=None, data=_room_data(meeting, entry), forward_kinds=forward
            )
            return page(form)
        # What was typed and not saved, as if it had been posted; saved against the meeting as
        # it is now (the notice says when the entry changed since the draft's form was opened).
        fields = [(k, v) for k, v in draft.data.get("fields", []) if k != "version"]
        formdata = MultiDict([*fields, ("version", str(meeting.version))])
        form = DeliberationForm(formdata=formdata, forward_kinds=forward)
        return _room_page(meeting, n, form, restored=draft)
    if frozen:
        flash(f"{because(meeting.status)}、変更できません。", "error")
        return redirect(url_for("meetings.room", meeting_id=meeting.id, n=n))

    form = DeliberationForm(forward_kinds=forward)
    action = row_action(request.form, ROOM_LISTS)
    pasting = "paste_attendance" in request.form
    if (
        with_attendance
        and action is None
        and (pasting or (form.attendance_paste.data or "").strip())
    ):
        # Pasted names become rows first; a name not in the section list stops the save and
        # stays in the box, so nothing typed is lost.
        formdata, unknown, added, first = with_pasted_attendance(request.form, _section_names())
        form = DeliberationForm(formdata=formdata, forward_kinds=forward)
        if unknown:
            form.attendance_paste.errors = [_unknown_sections(unknown)]  # in the summary
            return page(form, 422, focus="attendance_paste")
        if pasting:
            if added:
                flash(f"出席課を{added}件追加しました。保存すると記録されます。", "success")
            return page(form, focus=f"attendance-{first}" if added else "attendance_paste")
    if action is not None:
        data = form_data(form)
        focus = apply_row_action(data, action, copy.deepcopy(ROOM_BLANK_ROWS[action.list_name]))
        form = DeliberationForm(formdata=None, data=data, forward_kinds=forward)
        return page(form, focus=f"{action.list_name}-{focus}")
    if not form.validate():
        return page(form, 422)
    try:
        meetings.record_deliberation(
            current_user,
            meeting,
            entry.item,
            form.deliberation_data(with_attendance),
            version=version_from(form.version.data),
        )
        if form.outcome.data and entry.outcome is None:
            meetings.record_outcome(
                current_user,
                meeting,
                entry.item,
                Outcome(form.outcome.data),
                form.forward_to.data if form.outcome.data == Outcome.FORWARDED.value else None,
            )
        room_drafts.discard_draft(current_user, meeting, entry)  # the record has it now
        transaction.commit()
    except ValidationFailed as error:
        db.session.rollback()
        form.add_service_errors(error.fields)
        if not error.fields:  # the summary lists what has a field; this names none
            flash(error.message, "error")
        return page(form, 422)
    except WorkflowError as error:
        flash_workflow_error(error)
        return page(form, error.http_status)
    flash(f"議題{n}の記録を保存しました。", "success")
    if "save_next" in request.form and n < len(meeting.entries):
        return redirect(url_for("meetings.room", meeting_id=meeting.id, n=n + 1))
    if "save_next" in request.form:
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return redirect(url_for("meetings.room", meeting_id=meeting.id, n=n))


def _room_page(
    meeting: Meeting,
    n: int,
    form: DeliberationForm,
    disclosure_form: DisclosureForm | None = None,
    *,
    status: int = 200,
    focus: str | None = None,
    restored: RoomDraft | None = None,
):
    """The meeting-room screen of agenda entry *n*: the record, and its 公開範囲."""
    entry = meeting.entries[n - 1]
    base = room_drafts.fingerprint(_room_data(meeting, entry))
    if disclosure_form is None:
        disclosure_form = DisclosureForm(
            formdata=None,
            data={
                "version": str(meeting.version),
                "disclosure": entry.disclosure.value,
                "disclosure_reason": entry.disclosure_reason,
            },
        )
        ticked = {i for i, o in enumerate(entry.opinions) if o.public is not False}
    else:
        ticked = {int(v) for v in request.form.getlist("opinion_public") if v.isdigit()}
    return render_template(
        "meetings/room.html",
        meeting=meeting,
        entry=entry,
        n=n,
        form=form,
        frozen=meeting.status in meetings.FROZEN,
        with_attendance=SECTION_MANAGERS in meeting.kinds,
        focus=focus,
        disclosure_form=disclosure_form,
        disclosure_open=meeting.status != MeetingStatus.PUBLISHED,
        ticked=ticked,
        section_names=_section_names() if SECTION_MANAGERS in meeting.kinds else [],
        draft_base=base,
        restored=restored,
        restored_stale=restored is not None and restored.data.get("base") != base,
    ), status


SIGN_IN_EXPIRED = (
    "ログインの有効期限が切れたため、下書きを保存できませんでした。"
    "入力内容はこの画面に残っています。ログインし直すと、入力内容を戻して保存します。"
)


def _json_error(error: WorkflowError):
    """The API's error body, for the page's own JSON route."""
    return jsonify(error_body(error.code, error.message, error.details)), error.http_status


@bp.post("/<int:meeting_id>/room/<int:n>/draft")
@not_extending_sign_in
def room_draft(meeting_id: int, n: int):
    """Keep what is typed in agenda entry *n* (JSON, from static/js/room.js as the secretary
    types): no event, no history, and the sign-in is not extended (workflow.auth)."""
    room_url = url_for("meetings.room", meeting_id=meeting_id, n=n)
    if not current_user.is_authenticated:
        body = error_body(
            "unauthorized", SIGN_IN_EXPIRED, {"login_url": url_for("auth.login", next=room_url)}
        )
        return jsonify(body), 401
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not can_read_meeting(current_user, meeting):
        return _json_error(NotFound("会議が見つかりません。"))
    if not 1 <= n <= len(meeting.entries):
        return _json_error(NotFound("この会議にその議題はありません。"))
    try:
        draft = room_drafts.save_draft(
            current_user,
            meeting,
            meeting.entries[n - 1],
            request.form.items(multi=True),
            request.form.get("draft_base", ""),
        )
        transaction.commit()
    except WorkflowError as error:
        db.session.rollback()
        return _json_error(error)
    saved = draft.saved_at.astimezone(JST)
    return jsonify(
        {
            "saved_at": draft.saved_at.isoformat(),
            "message": f"下書きを保存しました（{saved:%H:%M}）。",
        }
    )


@bp.post("/<int:meeting_id>/room/<int:n>/draft/discard")
@login_required
def room_draft_discard(meeting_id: int, n: int) -> Response:
    """Throw away the restored draft of agenda entry *n*: the page shows the saved record."""
    meeting = _load(meeting_id)
    require(can_manage_meetings(current_user))
    if not 1 <= n <= len(meeting.entries):
        abort(404)
    form = SimpleForm()
    if not form.validate():
        flash("画面を読み込み直してから、もう一度操作してください。", "error")
    elif room_drafts.discard_draft(current_user, meeting, meeting.entries[n - 1]):
        transaction.commit()
        flash("保存していない入力内容を破棄しました。保存済みの記録を表示しています。", "success")
    return redirect(url_for("meetings.room", meeting_id=meeting.id, n=n))


@bp.post("/<int:meeting_id>/room/<int:n>/disclosure")
@login_required
def room_disclosure(meeting_id: int, n: int):
    """公開範囲 of agenda entry *n* and its opinions' 公開 flags: until the meeting is published
    (also once the minutes are confirmed, when nothing else may change)."""
    meeting = _load(meeting_id)
    require(can_manage_meetings(current_user))
    if not 1 <= n <= len(meeting.entries):
        abort(404)
    entry = meeting.entries[n - 1]
    form = DisclosureForm()

    def again(status: int):
        record = DeliberationForm(
            formdata=None,
            data=_room_data(meeting, entry),
            forward_kinds=_forward_kinds(meeting, entry.item),
        )
        return _room_page(meeting, n, record, form, status=status, focus="disclosure")

    if not form.validate():
        return again(422)
    ticked = set(request.form.getlist("opinion_public"))
    data = {
        "disclosure": form.disclosure.data,
        "disclosure_reason": form.disclosure_reason.data or "",
        # The recorded texts as they are: only the 公開 flags change.
        "opinions": [
            {
                "opinion": o.opinion,
                "response": o.response,
                "follow_up": o.follow_up,
                "public": str(i) in ticked,
            }
            for i, o in enumerate(entry.opinions)
        ],
    }
    try:
        meetings.record_deliberation(
            current_user, meeting, entry.item, data, version=version_from(form.version.data)
        )
        transaction.commit()
    except ValidationFailed as error:
        db.session.rollback()
        errors_onto_form(form, error)
        return again(422)
    except WorkflowError as error:
        flash_workflow_error(error)
        return again(error.http_status)
    flash(f"議題{n}の公開範囲を保存しました。", "success")
    return redirect(url_for("meetings.room", meeting_id=meeting.id, n=n) + "#disclosure")


@bp.get("/<int:meeting_id>/minutes")
@login_required
def minutes(meeting_id: int) -> str:
    meeting = _load(meeting_id, MINUTES)
    require(can_read_minutes(current_user, meeting))
    return render_template(
        "meetings/minutes.html",
        meeting=meeting,
        minutes=minutes_entries(current_user, meeting),
        public=False,
    )


@bp.get("/<int:meeting_id>/minutes.pdf")
@login_required
def minutes_pdf(meeting_id: int):
    from workflow.pdf.documents import minutes_pdf as render

    meeting = _load(meeting_id)
    require(can_read_minutes(current_user, meeting))
    return send_pdf(render(meeting, reader=current_user))


@bp.get("/<int:meeting_id>/agenda.pdf")
@login_required
def agenda_pdf(meeting_id: int):
    from workflow.pdf.documents import agenda_pdf as render

    return send_pdf(render(_load(meeting_id), reader=current_user))


@bp.get("/<int:meeting_id>/packet.pdf")
@login_required
def packet_pdf(meeting_id: int):
    """会議資料一式, opened in the browser; ``?entry=N`` goes to agenda entry N's first page."""
    from workflow.pdf import packet

    meeting = _load(meeting_id)
    n = request.args.get("entry", type=int)
    result = packet.packet_pdf(meeting, current_user)
    if isinstance(result, packet.Pending):
        page = render_template("meetings/packet_pending.html", meeting=meeting, pending=result)
        # Refresh: the browser asks again by itself, and opens the packet once it is there.
        wait = str(packet.RETRY_AFTER)
        headers = {"Retry-After": wait, "Refresh": wait, "Cache-Control": "no-store"}
        return page, 202, headers
    if n is None:
        return send_pdf(result, "inline")
    first = packet.entry_page(meeting, result, n)
    if first is None:
        abort(404)
    if not result.cached:
        db.session.commit()  # keep the fresh packet in the shared cache
    return redirect(url_for("meetings.packet_pdf", meeting_id=meeting.id) + f"#page={first}")
