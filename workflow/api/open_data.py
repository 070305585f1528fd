"""Search, and the published minutes as open data (CSV for Excel, JSON for programs)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, jsonify, stream_with_context
from flask.typing import ResponseReturnValue
from sqlalchemy import String, literal, select, type_coerce

from workflow.api.common import bp, current_api_user, query_int, query_text
from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, MeetingKind, Opinion
from workflow.models.meeting import meeting_title
from workflow.permissions import readable_items, readable_minutes, readable_opinions
from workflow.queries.search import search_items
from workflow.schemas.open_data import MINUTES_COLUMNS
from workflow.states.states import Outcome


@bp.get("/search")
def search() -> ResponseReturnValue:
    user = current_api_user()
    q = query_text("q")
    hits = search_items(user, q, limit=query_int("limit", 50, maximum=200))
    return jsonify(
        {
            "results": [
                {
                    "item_id": hit.item.id,
                    "title": hit.item.title,
                    "status": hit.item.status.value,
                    "status_label": hit.item.status.label,
                    "field": hit.field,
                    "snippet": hit.snippet,
                }
                for hit in hits
            ]
        }
    )


# The export's rows, straight from the tables (no ORM objects: building an entry, its item and
# an opinion object per row would cost more than the query), in the order the minutes print
# them: meetings oldest first, then the agenda's order, then the opinions' order. The ids only
# break ties the positions should never have.
_M, _K, _E = Meeting.__table__.c, MeetingKind.__table__.c, AgendaEntry.__table__.c
_I, _O = Item.__table__.c, Opinion.__table__.c
_FORWARD = MeetingKind.__table__.alias("forward_kinds")
_SECOND = MeetingKind.__table__.alias("second_kinds")
MINUTES_QUERY = (
    select(
        _M.id,
        _M.number,
        _M.joint_name,
        _K.name,
        _SECOND.c.name,
        _M.kind,
        _M.date,
        _E.item_id,
        _I.title,
        _O.opinion,
        _O.response,
        _O.follow_up,
        # The value as stored: the Enum type's conversion per row cost more than Outcome(…) once.
        type_coerce(_E.outcome, String),
        _FORWARD.c.name,
    )
    .select_from(
        Meeting.__table__.join(MeetingKind.__table__, _K.code == _M.kind)
        .join(AgendaEntry.__table__, _E.meeting_id == _M.id)
        .join(Item.__table__, _I.id == _E.item_id)
        .join(Opinion.__table__, _O.entry_id == _E.id)
        .outerjoin(_FORWARD, _FORWARD.c.code == _E.forward_to)
        .outerjoin(_SECOND, _SECOND.c.code == _M.second_kind)
    )
    # Open data is what the public may read: the minutes and the items readable by no one signed
    # in, and of those minutes the opinions the public may read (no 非公開 entry, no opinion
    # held back: DOMAIN §10).
    .where(readable_minutes(None), readable_items(None), readable_opinions(None))
    .order_by(_M.date, _M.id, _E.position, _E.id, _O.position, _O.id)
)
CHUNK_ROWS = 2000  # rows per fetch from the server-side cursor, and per chunk sent


def _fiscal_year_filter():
    """The optional ``fiscal_year`` (年度) of the meetings to export; 0 means every year."""
    return query_int("fiscal_year", 0, maximum=9999)


def _minutes_values(fiscal_year: int = 0) -> Iterator[list[tuple]]:
    """The export's rows in chunks, as tuples in MINUTES_COLUMNS' order (texts made once each)."""
    query = MINUTES_QUERY
    if fiscal_year:
        query = query.where(_M.fiscal_year == fiscal_year)
    titles: dict[tuple, str] = {}
    outcomes: dict[tuple, str] = {None: ""}
    # yield_per streams: a server-side cursor on PostgreSQL, SQLite's own stepping on SQLite.
    result = db.session.execute(query.execution_options(yield_per=CHUNK_ROWS))
    for partition in result.partitions():
        chunk = []
        for (
            meeting_id,
            number,
            joint_name,
            kind_name,
            second_name,
            kind,
            day,
            item_id,
            item_title,
            opinion,
            response,
            follow_up,
            outcome,
            forward_name,
        ) in partition:
            # Meeting.title and AgendaEntry.outcome_text, made once per distinct value.
            key = (number, joint_name, kind_name, second_name)
            title = titles.get(key)
            if title is None:
                title = titles[key] = meeting_title(number, joint_name, kind_name, second_name)
            okey = (outcome, forward_name) if outcome is not None else None
            outcome_text = outcomes.get(okey)
            if outcome_text is None:
                outcome_text = outcomes[okey] = Outcome(outcome).wording(forward_name)
            chunk.append(
                (
                    meeting_id,
                    title,
                    kind,
                    day.isoformat(),
                    item_id,
                    item_title,
                    opinion,
                    response or "",
                    follow_up or "",
                    outcome_text,
                )
            )
        yield chunk


def minutes_rows(fiscal_year: int = 0) -> list[dict[str, Any]]:
    """One row per opinion of every published meeting, oldest meeting first (all in memory)."""
    return [
        dict(zip(MINUTES_COLUMNS, values, strict=True))
        for chunk in _minutes_values(fiscal_year)
        for values in chunk
    ]


def _streamed(chunks: Iterator[bytes], mimetype: str) -> Response:
    """A response sent as it is made: the first bytes leave at once, memory holds one chunk.

    The database is asked once before the first byte: down, it is a 503, not a 200 cut short
    after the header that a client ignoring a broken chunked stream reads as "no minutes". (The
    export's own query stays inside the stream: run here, its server-side cursor would stay open
    when nobody reads the body.)
    """
    db.session.execute(select(literal(1)))
    return Response(stream_with_context(chunks), mimetype=mimetype)


_JSON_COLUMNS = json.dumps(list(MINUTES_COLUMNS), separators=(",", ":")).encode()


def _plain_json() -> bool:
    """Does the app write JSON compact (not in debug mode), so that chunks join seamlessly?"""
    provider = current_app.json
    compact = getattr(provider, "compact", None)
    if compact is None:
        compact = not current_app.debug
    return bool(compact)


def _json_chunks(fiscal_year: int) -> Iterator[bytes]:
    """The document jsonify would write, a chunk of rows at a time by the app's own provider."""
    dumps = current_app.json.dumps
    yield b'{"columns":' + _JSON_COLUMNS + b',"rows":['
    separator = ""
    for chunk in _minutes_values(fiscal_year):
        if not chunk:
            continue
        rows = dumps(  # as jsonify writes when compact: no spaces, the provider's sort_keys
            [dict(zip(MINUTES_COLUMNS, values, strict=True)) for values in chunk],
            separators=(",", ":"),
        )
        yield (separator + rows[1:-1]).encode("utf-8")  # the list's brackets off
        separator = ","
    yield b"]}\n"  # jsonify ends its body with a newline


@bp.get("/minutes.json")
def minutes_json() -> ResponseReturnValue:
    fiscal_year = _fiscal_year_filter()
    if not _plain_json():  # debug mode indents: the whole document, as jsonify writes it
        return jsonify({"columns": list(MINUTES_COLUMNS), "rows": minutes_rows(fiscal_year)})
    return _streamed(_json_chunks(fiscal_year), "application/json")


# A cell a spreadsheet would take for a formula (OWASP "CSV Injection"): =HYPERLINK(…),
# =cmd|' /C calc'!A0, +1+1, @SUM(1,1), and tab, CR or LF, which a spreadsheet may skip before
# reading one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Also after leading blanks (an import that trims them), and in full width (＝＋－＠, which
# Japanese input makes and NFKC reads as the ASCII ones).
_BLANKS = " \t\r\n\u3000"
_OPERATORS = frozenset("=+-@")


def spreadsheet_cell(value: Any) -> Any:
    """*value* as a spreadsheet must show it: text that would start a formula gets a leading '."""
    if not isinstance(value, str):
        return value
    first = unicodedata.normalize("NFKC", value.lstrip(_BLANKS)[:1])
    if value.startswith(FORMULA_STARTS) or first in _OPERATORS:
        return "'" + value
    return value


def _csv_chunks(fiscal_year: int) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MINUTES_COLUMNS)
    # The BOM tells Excel the file is UTF-8.
    yield ("\ufeff" + out.getvalue()).encode("utf-8")
    for chunk in _minutes_values(fiscal_year):
        out.seek(0)
        out.truncate()
        # Only the CSV: the JSON is for programs, which must get the text as it was typed.
        writer.writerows([spreadsheet_cell(value) for value in row] for row in chunk)
        yield out.getvalue().encode("utf-8")


@bp.get("/minutes.csv")
def minutes_csv() -> ResponseReturnValue:
    response = _streamed(_csv_chunks(_fiscal_year_filter()), "text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers.set("Content-Disposition", "attachment", filename="minutes.csv")
    return response
