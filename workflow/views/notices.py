"""通知: the signed-in user's notices (the list, marking read) and the header's unread count.

Marking read is a POST (with the CSRF token), never a side effect of a GET: 「開く」 on the list
posts to mark the notice read and is redirected to what it is about, so a link prefetched or
opened by a mail scanner never marks anything, and every GET stays free of writes.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from workflow.extensions import db
from workflow.models import Notice
from workflow.queries.notices import notices_query, own_notice, unread_count
from workflow.services import notices, transaction
from workflow.views.common import PER_PAGE, Page

bp = Blueprint("notices", __name__, url_prefix="/notices")


@bp.app_context_processor
def header_count() -> dict:
    """``unread_notices()`` for the header: called only where a signed-in user sees it."""

    def unread_notices() -> int:
        return unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notices": unread_notices}


@bp.get("/")
@login_required
def index() -> str:
    page = Page.requested()
    rows = db.session.scalars(page.cut(notices_query(current_user))).all()
    return render_template(
        "notices/index.html",
        notices=rows[:PER_PAGE],
        **page.context(rows, lambda n: url_for("notices.index", page=n)),
    )


def _load(notice_id: int) -> Notice:
    notice = own_notice(current_user, notice_id)
    if notice is None:
        abort(404)  # someone else's notice is as if it did not exist
    return notice


def _list_page() -> str:
    page = request.form.get("page", type=int) or 1
    return url_for("notices.index", page=page) if page > 1 else url_for("notices.index")


@bp.post("/<int:notice_id>/read")
@login_required
def read(notice_id: int) -> Response:
    """Mark one notice read; with ``open=1``, go on to what it is about."""
    notice = _load(notice_id)
    notices.mark_read(notice)
    transaction.commit()
    if request.form.get("open") and notice.url.startswith("/") and not notice.url.startswith("//"):
        return redirect(request.script_root + notice.url)  # mounted under a prefix too
    flash("通知を既読にしました。", "success")
    return redirect(_list_page())


@bp.post("/read-all")
@login_required
def read_all() -> Response:
    marked = notices.mark_all_read(current_user)
    transaction.commit()
    if marked:
        flash(f"{marked}件の通知を既読にしました。", "success")
    else:
        flash("未読の通知はありません。", "info")
    return redirect(url_for("notices.index"))
