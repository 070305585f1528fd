"""Small helpers the page blueprints share."""

from __future__ import annotations

from flask import Response, abort, flash, request
from sqlalchemy import select

from workflow.errors import WorkflowError
from workflow.extensions import db
from workflow.models import MeetingKind


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


def send_pdf(document) -> Response:
    """A PDF document (workflow.pdf.documents.PdfDocument) as a download with a Japanese name."""
    if not document.cached:
        db.session.commit()  # keep the fresh rendering in the shared cache (its row is pending)
    if request.if_none_match and document.etag in request.if_none_match:
        return Response(status=304)
    response = Response(document.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = document.content_disposition("attachment")
    response.set_etag(document.etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
