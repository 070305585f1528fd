"""/public: published meetings, their minutes and items, for anyone (no login)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from workflow.extensions import db
from workflow.models import Item, Meeting, PublicComment
from workflow.permissions import is_public_item
from workflow.states.states import MeetingStatus, PublicCommentStatus
from workflow.views.common import send_pdf

bp = Blueprint("public", __name__, url_prefix="/public")


def _published(meeting_id: int) -> Meeting:
    meeting = db.get_or_404(Meeting, meeting_id)
    if meeting.status != MeetingStatus.PUBLISHED:
        abort(404)  # not "403": an unpublished meeting does not exist for the public
    return meeting


def _public_item(item_id: int) -> Item:
    item = db.get_or_404(Item, item_id)
    if not is_public_item(item):
        abort(404)
    return item


@bp.get("/")
def index() -> str:
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.status == MeetingStatus.PUBLISHED)
        .order_by(Meeting.date.desc(), Meeting.id.desc())
    ).all()
    by_year: dict[int, list[Meeting]] = {}
    for m in meetings:
        by_year.setdefault(m.fiscal_year, []).append(m)
    return render_template("public/index.html", by_year=by_year)


@bp.get("/meetings/<int:meeting_id>")
def meeting(meeting_id: int) -> str:
    return render_template("public/meeting.html", meeting=_published(meeting_id))


@bp.get("/meetings/<int:meeting_id>/minutes.pdf")
def minutes_pdf(meeting_id: int):
    from workflow.pdf.documents import minutes_pdf as render

    return send_pdf(render(_published(meeting_id)))


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> str:
    row = _public_item(item_id)
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.status == MeetingStatus.PUBLISHED, Meeting.entries.any(item_id=row.id))
        .order_by(Meeting.date)
    ).all()
    return render_template("public/item.html", item=row, meetings=meetings)


@bp.get("/items/<int:item_id>/form.pdf")
def item_pdf(item_id: int):
    from workflow.pdf.documents import request_form_pdf

    # The public's form, whoever is signed in: this page is what the city publishes.
    return send_pdf(request_form_pdf(_public_item(item_id), reader=None))


# The call for comments is public from its publication (公示); the received opinions and the
# city's answers only once the results are published, or the draft was abandoned (§43).
RESULTS_PUBLIC = (PublicCommentStatus.RESULTS_PUBLISHED, PublicCommentStatus.ABANDONED)


def _public_comment(item_id: int) -> PublicComment:
    process = db.session.scalar(select(PublicComment).where(PublicComment.item_id == item_id))
    if process is None:
        abort(404)
    return process


@bp.get("/comments/")
def comments() -> str:
    rows = db.session.scalars(
        select(PublicComment).order_by(PublicComment.published_on.desc(), PublicComment.id.desc())
    ).all()
    return render_template(
        "public/comments.html",
        open_calls=[pc for pc in rows if pc.status == PublicCommentStatus.OPEN],
        results=[pc for pc in rows if pc.status in RESULTS_PUBLIC],
        closed=[pc for pc in rows if pc.status == PublicCommentStatus.CLOSED],
    )


@bp.get("/comments/<int:item_id>")
def comment(item_id: int) -> str:
    process = _public_comment(item_id)
    return render_template(
        "public/comment.html",
        pc=process,
        item=process.item,
        results_public=process.status in RESULTS_PUBLIC,
    )


@bp.get("/comments/<int:item_id>/results.pdf")
def comment_results_pdf(item_id: int):
    from workflow.pdf.documents import comment_results_pdf as render

    process = _public_comment(item_id)
    if process.status not in RESULTS_PUBLIC:
        abort(404)
    return send_pdf(render(process))
