"""The official documents as PDF: 様式２, 様式６ (議事録), 次第, and the public-comment result.

Each response carries the document's content hash as its ETag; a client that sends it back in
``If-None-Match`` gets 304.
"""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from workflow.api.common import (
    bp,
    current_api_user,
    deny,
    query_int,
    readable_item,
    readable_meeting,
)
from workflow.errors import NotFound
from workflow.pdf import documents, packet
from workflow.permissions import can_read_comment_opinions, can_read_minutes
from workflow.schemas.packet import PacketPending
from workflow.services.transaction import commit


def pdf_response(doc: documents.PdfDocument) -> ResponseReturnValue:
    """The PDF inline, with its ETag; 304 when the client has it already."""
    commit()  # keep a fresh rendering in the shared cache
    response = Response(doc.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = doc.content_disposition("inline")
    response.headers["Cache-Control"] = documents.CACHE_CONTROL
    response.set_etag(doc.etag)
    return response.make_conditional(request)


@bp.get("/items/<int:item_id>/form.pdf")
def item_form_pdf(item_id: int) -> ResponseReturnValue:
    """The current 様式２, or with ``?meeting=ID`` the version frozen for that meeting."""
    item = readable_item(item_id)
    meeting_id = query_int("meeting", 0)
    meeting = readable_meeting(meeting_id) if meeting_id else None
    return pdf_response(
        documents.request_form_pdf(item, reader=current_api_user(), meeting=meeting)
    )


@bp.get("/items/<int:item_id>/public-comment/results.pdf")
def comment_results_pdf(item_id: int) -> ResponseReturnValue:
    item = readable_item(item_id)
    process = item.comment_process
    if process is None:
        raise NotFound("この案件の意見募集はありません。")
    if not can_read_comment_opinions(current_api_user(), process):
        raise deny("意見募集の結果")
    return pdf_response(documents.comment_results_pdf(process))


@bp.get("/meetings/<int:meeting_id>/minutes.pdf")
def minutes_pdf(meeting_id: int) -> ResponseReturnValue:
    meeting = readable_meeting(meeting_id)
    if not can_read_minutes(current_api_user(), meeting):
        raise deny("議事録")
    return pdf_response(documents.minutes_pdf(meeting, reader=current_api_user()))


@bp.get("/meetings/<int:meeting_id>/agenda.pdf")
def agenda_pdf(meeting_id: int) -> ResponseReturnValue:
    meeting = readable_meeting(meeting_id)
    return pdf_response(documents.agenda_pdf(meeting, reader=current_api_user()))


@bp.get("/meetings/<int:meeting_id>/packet.pdf")
def packet_pdf(meeting_id: int) -> ResponseReturnValue:
    """会議資料一式: staff only (there is no public packet); 202 while a 資料 is converted."""
    user = current_api_user()
    if user is None:
        raise NotFound("指定された会議資料一式はありません。")
    meeting = readable_meeting(meeting_id)
    result = packet.packet_pdf(meeting, user)
    if isinstance(result, packet.Pending):
        body: PacketPending = {
            "status": "pending",
            "message": result.message,
            "pending": list(result.titles),
            "retry_after": packet.RETRY_AFTER,
        }
        response = jsonify(body)
        response.status_code = 202
        response.headers["Retry-After"] = str(packet.RETRY_AFTER)
        response.headers["Cache-Control"] = "no-store"
        return response
    return pdf_response(result)
