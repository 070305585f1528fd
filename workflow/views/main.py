"""The home page: what each role needs first, and the overview (counts, longest waits, next meetings)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from workflow.extensions import db
from workflow.models import Item, Meeting
from workflow.services.public_comment import today
from workflow.states.states import FINAL_ITEM_STATES, ItemStatus, MeetingStatus, Role
from workflow.views.common import kinds

bp = Blueprint("main", __name__)

WAITING = (ItemStatus.SUBMITTED, ItemStatus.ACCEPTED, ItemStatus.AMENDING, ItemStatus.RETURNED)


@bp.get("/")
@login_required
def index() -> str:
    readable = Item.status != ItemStatus.DRAFT
    if current_user.role in (Role.SECRETARIAT, Role.ADMIN):
        readable = Item.id.is_not(None)
    counts = {
        (status, kind): n
        for status, kind, n in db.session.execute(
            select(Item.status, Item.level_kind, func.count())
            .where(readable)
            .group_by(Item.status, Item.level_kind)
        )
    }
    by_status: dict[ItemStatus, int] = {}
    for (status, _kind), n in counts.items():
        by_status[ItemStatus(status)] = by_status.get(ItemStatus(status), 0) + n
    waiting = db.session.scalars(
        select(Item).where(Item.status.in_(WAITING)).order_by(Item.updated_at).limit(8)
    ).all()
    upcoming = db.session.scalars(
        select(Meeting)
        .where(Meeting.status == MeetingStatus.PLANNED, Meeting.date >= today())
        .order_by(Meeting.date)
        .limit(8)
    ).all()
    mine = []
    if current_user.role == Role.DEPARTMENT:
        mine = db.session.scalars(
            select(Item)
            .where(
                Item.section_id == current_user.section_id,
                Item.status.not_in(tuple(FINAL_ITEM_STATES)),
            )
            .order_by(Item.updated_at.desc())
        ).all()
    intake = 0
    if current_user.role == Role.SECRETARIAT:
        intake = by_status.get(ItemStatus.SUBMITTED, 0)
    awaiting_kinds = [
        (
            k,
            counts.get((ItemStatus.ACCEPTED, k.code), 0),
            counts.get((ItemStatus.SCHEDULED, k.code), 0),
        )
        for k in kinds()
    ]
    from workflow.views.items import next_step

    return render_template(
        "index.html",
        statuses=list(ItemStatus),
        by_status=by_status,
        awaiting_kinds=awaiting_kinds,
        waiting=waiting,
        upcoming=upcoming,
        mine=mine,
        intake=intake,
        next_step=next_step,
    )
