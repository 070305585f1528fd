"""/search: the results page behind the search box on every page (staff and public alike)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from workflow.errors import TookTooLong, ValidationFailed
from workflow.queries.search import MAX_QUERY_LENGTH, check_query, search, with_meetings

bp = Blueprint("search", __name__)

PER_PAGE = 20
MAX_PAGE = 10_000  # far past any result; keeps OFFSET within reason for a hand-typed URL


@bp.get("/search")
def index() -> tuple[str, int]:
    """Anyone may search; each sees only what they may read (the public: published items)."""
    q = request.args.get("q", "")
    page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
    results, error, status = None, None, 200
    if "q" in request.args:
        try:
            if check_query(q):
                found = search(current_user, q, page=page, per_page=PER_PAGE)
                results = with_meetings(current_user, found)
            else:
                error = "検索する語を入力してください。"
        except ValidationFailed as exc:
            error = exc.message
        except TookTooLong as exc:  # stopped so as not to hold the worker: try a longer word
            error, status = exc.message, exc.http_status
    page_html = render_template(
        "search.html", q=q, results=results, error=error, max_length=MAX_QUERY_LENGTH
    )
    return page_html, status
