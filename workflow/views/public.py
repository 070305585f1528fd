"""/public: published meetings, their minutes and items, for anyone (no login)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from sqlalchemy import select

from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, PublicComment
from workflow.permissions import (
    can_read_comment_opinions,
    can_read_item,
    can_read_minutes,
    readable_entries,
)
from workflow.queries.disclosure import minutes_entries, visible_entries
from workflow.queries.meetings import fiscal_years
from workflow.queries.meetings import meetings as readable_meetings_of
from workflow.queries.versions import printed_fields, public_fields
from workflow.states.states import PublicCommentStatus
from workflow.views import attachments
from workflow.views.common import MINUTES, PER_PAGE, Page, send_pdf

bp = Blueprint("public", __name__, url_prefix="/public")


def _published(meeting_id: int, *options) -> Meeting:
    """A meeting whose minutes the public may read (404, not 403, for any other)."""
    meeting = db.session.get(Meeting, meeting_id, options=options)
    if meeting is None or not can_read_minutes(None, meeting):
        abort(404)
    return meeting


def _public_item(item_id: int) -> Item:
    item = db.get_or_404(Item, item_id)
    if not can_read_item(None, item):
        abort(404)
    return item


@bp.get("/")
def index() -> tuple[str, int]:
    """One fiscal year of published meetings (the newest by default, ``?fy=`` another), with a
    link to every year that has any, so the page stays small however many years there are."""
    years = fiscal_years(None)
    fy = request.args.get("fy", type=int)
    if fy is None and years:
        fy = years[0]
    meetings: list[Meeting] = []
    if fy in years:
        # The kind comes joined (Meeting.kind_row): one query for the year, none per meeting.
        meetings = readable_meetings_of(None, fiscal_year=fy)
    status = 404 if fy is not None and fy not in years else 200
    return render_template("public/index.html", years=years, fy=fy, meetings=meetings), status


@bp.get("/meetings/<int:meeting_id>")
def meeting(meeting_id: int) -> str:
    meeting = _published(meeting_id, MINUTES)
    return render_template(
        "public/meeting.html",
        meeting=meeting,
        entries=visible_entries(None, meeting),  # no 非公開 entry
        minutes=minutes_entries(None, meeting),  # the public edition of 様式６
        public=True,
        **attachments.public_meeting_context(meeting),
    )


@bp.get("/meetings/<int:meeting_id>/minutes.pdf")
def minutes_pdf(meeting_id: int):
    from workflow.pdf.documents import minutes_pdf as render

    return send_pdf(render(_published(meeting_id), reader=None))


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> str:
    row = _public_item(item_id)
    # The published meetings where the public sees the item (not where it was 非公開).
    meetings = db.session.scalars(
        select(Meeting)
        .join(AgendaEntry, AgendaEntry.meeting_id == Meeting.id)
        .where(AgendaEntry.item_id == row.id, readable_entries(None))
        .order_by(Meeting.date)
    ).all()
    return render_template(
        "public/item.html",
        item=row,
        form=printed_fields(public_fields(row)),
        meetings=meetings,
        **attachments.public_item_context(row),
    )


@bp.get("/items/<int:item_id>/form.pdf")
def item_pdf(item_id: int):
    from workflow.pdf.documents import request_form_pdf

    # The public's form, whoever is signed in: this page is what the city publishes. Its fields
    # are those filed for the latest published meeting, not revised since (DOMAIN §9).
    return send_pdf(request_form_pdf(_public_item(item_id), reader=None))


def _public_comment(item_id: int) -> PublicComment:
    process = db.session.scalar(select(PublicComment).where(PublicComment.item_id == item_id))
    if process is None:
        abort(404)
    return process


_PC, _ITEMS = PublicComment.__table__.c, Item.__table__.c
# The procedures in the list's order, newest call first; each request cuts its page from it.
COMMENTS_ORDER = (_PC.published_on.desc(), _PC.id.desc())


def _comments_page(page: Page) -> list:
    """Plain rows of one page, PER_PAGE + 1 of them (the last says a next page exists).

    The page of procedures is cut first and only its items' titles are joined: joining every
    procedure to its item before the sort would read the whole items table.
    """
    cut = page.cut(
        select(
            _PC.id,
            _PC.item_id,
            _PC.status,
            _PC.published_on,
            _PC.closes_on,
            _PC.results_published_on,
        ).order_by(*COMMENTS_ORDER)
    ).subquery()
    return db.session.execute(
        select(
            cut.c.item_id,
            _ITEMS.title,
            cut.c.status,
            cut.c.published_on,
            cut.c.closes_on,
            cut.c.results_published_on,
        )
        .select_from(cut.join(Item.__table__, _ITEMS.id == cut.c.item_id))
        .order_by(cut.c.published_on.desc(), cut.c.id.desc())
    ).all()


@bp.get("/comments/")
def comments() -> str:
    """Every public-comment procedure, newest call first, a page at a time."""
    page = Page.requested()
    rows = _comments_page(page)
    return render_template(
        "public/comments.html",
        rows=rows[:PER_PAGE],
        **page.context(rows, lambda n: url_for("public.comments", page=n)),
        statuses=PublicCommentStatus,
    )


@bp.get("/comments/<int:item_id>")
def comment(item_id: int) -> str:
    process = _public_comment(item_id)
    return render_template(
        "public/comment.html",
        pc=process,
        item=process.item,
        results_public=can_read_comment_opinions(None, process),
    )


@bp.get("/comments/<int:item_id>/results.pdf")
def comment_results_pdf(item_id: int):
    from workflow.pdf.documents import comment_results_pdf as render

    process = _public_comment(item_id)
    if not can_read_comment_opinions(None, process):
        abort(404)
    return send_pdf(render(process))
