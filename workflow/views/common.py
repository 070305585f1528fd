"""Small helpers the page blueprints share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, abort, flash, render_template, request
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from workflow.errors import WorkflowError
from workflow.extensions import db
from workflow.models import AgendaEntry, Meeting, MeetingKind
from workflow.pdf.documents import CACHE_CONTROL

# What a page of minutes (様式６, staff or public) shows of a meeting, loaded with it: its entries
# with their items, results and opinions in three queries, however many entries it has (not
# one query per entry).
MINUTES = selectinload(Meeting.entries).options(
    joinedload(AgendaEntry.forward_kind), selectinload(AgendaEntry.opinions)
)


def kinds() -> list[MeetingKind]:
    """Meeting kinds in their configured order."""
    return list(db.session.scalars(select(MeetingKind).order_by(MeetingKind.sort_order)))


def version_from(value: str | None) -> int | None:
    """The version the page was built from (a hidden field); None when absent or unreadable."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


def flash_workflow_error(error: WorkflowError) -> None:
    db.session.rollback()
    flash(error.message, "error")


def require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def send_pdf(document, disposition: str = "attachment") -> Response:
    """A PDF document (workflow.pdf.documents.PdfDocument) as a download with a Japanese name;
    ``inline`` to open it in the browser (where ``#page=N`` works)."""
    if not document.cached:
        db.session.commit()  # keep the fresh rendering in the shared cache (its row is pending)
    if request.if_none_match and document.etag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(document.content, mimetype="application/pdf")
        response.headers["Content-Disposition"] = document.content_disposition(disposition)
        response.set_etag(document.etag)
    # The 304 too: a signed-in answer without its own policy would get "no-store".
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


PER_PAGE = 50  # rows per page of every list read a page at a time
MAX_PAGE = 100_000  # a page number past any real list; larger ones would overflow OFFSET


@dataclass(frozen=True)
class Page:
    """One page of a list read PER_PAGE rows at a time (a decade of rows never in one page).

    One row more than a page is read: it says whether a next page exists, without a count.
    """

    number: int

    @classmethod
    def requested(cls) -> Page:
        """``?page=``, clamped to 1…MAX_PAGE (a bad or missing number is page 1)."""
        return cls(min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE))

    def cut(self, query: Select) -> Select:
        return query.offset((self.number - 1) * PER_PAGE).limit(PER_PAGE + 1)

    def context(self, rows: Sequence, page_url: Callable[[int], str]) -> dict[str, Any]:
        """What the ``pager`` macro (templates/macros/ui.html) and the list's caption use."""
        return {
            "page": self.number,
            "has_next": len(rows) > PER_PAGE,
            "per_page": PER_PAGE,
            "page_url": page_url,
        }


def meeting_arg(reader) -> Meeting | None:
    """The meeting ``?meeting=ID`` names (a frozen 様式２ or 資料 list), or None without one;
    404 for anything but the id of a meeting *reader* may see (an id past any integer column
    included, which SQLite could not even compare)."""
    from workflow.permissions import can_read_meeting
    from workflow.schemas.limits import ID_MAX

    raw = request.args.get("meeting", "")
    if not raw:
        return None
    is_id = raw.isascii() and raw.isdigit() and int(raw) <= ID_MAX
    meeting = db.session.get(Meeting, int(raw)) if is_id else None
    if meeting is None or not can_read_meeting(reader, meeting):
        abort(404)
    return meeting


def attempt(
    form, change: Callable[[], Any], *, place: Callable[[Any, WorkflowError], bool] | None = None
) -> WorkflowError | None:
    """Run *change* and commit it; on a refusal roll back and return the error. A
    ValidationFailed's messages go beside *form*'s fields (the page's error summary lists them);
    any other refusal is flashed, unless *place* put it on the form (it says whether it did)."""
    from workflow.errors import ValidationFailed
    from workflow.services import transaction

    try:
        change()
        transaction.commit()
    except WorkflowError as error:
        db.session.rollback()
        if form is not None and isinstance(error, ValidationFailed):
            errors_onto_form(form, error)
        elif form is None or place is None or not place(form, error):
            flash(error.message, "error")
        return error
    return None


def errors_onto_form(form, error: WorkflowError) -> None:
    """A service's field messages (``ValidationFailed.fields``) beside the form's fields of the
    same name, for the page's error summary (templates/macros/forms.html ``error_summary``);
    those without a field, or the error's message when it names no field, go to the form's
    ``general_errors`` (listed last in the summary, without a link)."""
    general = list(getattr(form, "general_errors", None) or [])
    fields = getattr(error, "fields", None) or {}
    for key, messages in fields.items():
        field = form._fields.get(key)
        if field is not None:
            field.errors = [*field.errors, *messages]
        else:
            general.extend(m for m in messages if m not in general)
    if not fields and error.message not in general:
        general.append(error.message)
    form.general_errors = general


def confirmed() -> bool:
    """Whether this request is the confirmation page's own POST (``confirmed=1``)."""
    return request.method == "POST" and request.form.get("confirmed") == "1"


def confirmation_page(
    confirmation,
    *,
    subject: str,
    back_url: str,
    version: int | str | None,
    hidden: dict[str, str] | None = None,
    action: str | None = None,
) -> tuple[str, int]:
    """The page that asks before an irreversible step (templates/confirm.html): what will happen,
    who will see it, its button (POST to this URL with ``confirmed=1``, the CSRF token and the
    version the reader saw) and 「戻る」. Works without JS; the GET of the step's URL shows it too.
    *action*: where the button posts, when the page answers another URL (the form's
    「保存して申し込む」 posts to the item's 申込).

    *confirmation* is a :class:`workflow.views.confirmations.Confirmation`.
    """
    fields = {"version": "" if version is None else str(version), **(hidden or {})}
    return render_template(
        "confirm.html",
        confirmation=confirmation,
        subject=subject,
        action=action or request.path,
        back_url=back_url,
        hidden={k: v for k, v in fields.items() if v},
    ), 200
