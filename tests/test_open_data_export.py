"""The open-data minutes (/api/v1/minutes.json, .csv): streamed from one query, and the same bytes
as the implementation they replaced, which built every row as ORM objects in memory (but for the
CSV's cells that a spreadsheet would run as formulas, which now start with a quote)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Response, jsonify
from sqlalchemy.orm import selectinload

from tests.support import API
from workflow.api import open_data
from workflow.api.openapi import openapi_document
from workflow.api.serializers import iso
from workflow.extensions import db
from workflow.models import AgendaEntry, Meeting, Opinion
from workflow.permissions import can_read_minutes
from workflow.states.states import MeetingStatus, Outcome

# Texts that every encoder treats differently: quotes, commas and line ends (CSV), backslashes,
# control characters and U+2028 (JSON), characters outside the BMP, markup.
AWKWARD = 'He said "yes", then\r\nno; \\ back\tslash\x01 \u2028 𠮷野家 <b>&amp;</b>'

UNPUBLISHED = "未公開の会議での意見"


# -- the implementation before streaming, kept verbatim as the reference ----------------------


def old_minutes_rows() -> list[dict[str, Any]]:
    meetings = db.session.scalars(
        sa.select(Meeting)
        .where(Meeting.status == MeetingStatus.PUBLISHED)
        .options(selectinload(Meeting.entries).selectinload(AgendaEntry.opinions))
        .order_by(Meeting.date, Meeting.id)
    ).all()
    rows = []
    for meeting in meetings:
        if not can_read_minutes(None, meeting):
            continue
        for entry in meeting.entries:
            for opinion in entry.opinions:
                rows.append(
                    {
                        "meeting_id": meeting.id,
                        "meeting": meeting.title,
                        "kind": meeting.kind,
                        "date": iso(meeting.date),
                        "item_id": entry.item_id,
                        "item": entry.item.title,
                        "opinion": opinion.opinion,
                        "response": opinion.response or "",
                        "follow_up": opinion.follow_up or "",
                        "outcome": entry.outcome_text or "",
                    }
                )
    return rows


def old_json(rows: list[dict[str, Any]]) -> bytes:
    return jsonify({"columns": list(open_data.MINUTES_COLUMNS), "rows": rows}).get_data()


def neutralised(value: Any) -> Any:
    """The one intended change since: text a spreadsheet would run as a formula starts with '."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def old_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=open_data.MINUTES_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: neutralised(value) for key, value in row.items()} for row in rows)
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), mimetype="text/csv").get_data()


# -- data ------------------------------------------------------------------------------------


@pytest.fixture
def data(app):
    """Ten years of generated 庁議, with awkward texts, a joint meeting and a forwarded item."""
    result = app.test_cli_runner().invoke(
        args=["demo", "generate", "--items", "120", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    published = sa.select(Meeting.id).where(Meeting.status == MeetingStatus.PUBLISHED)
    opinions = db.session.scalars(
        sa.select(Opinion)
        .join(AgendaEntry)
        .where(AgendaEntry.meeting_id.in_(published))
        .order_by(Opinion.id)
        .limit(3)
    ).all()
    opinions[0].opinion = AWKWARD
    opinions[1].response = AWKWARD
    opinions[1].follow_up = None
    opinions[2].follow_up = "（→ " + AWKWARD + "）"
    meeting = opinions[0].entry.meeting
    meeting.joint_name = "ＩＣＴ戦略調整会議"
    entry = opinions[2].entry
    entry.outcome, entry.forward_to = Outcome.FORWARDED, "policy_coordination"
    # Something said at a meeting whose minutes are not yet published: never in the open data.
    unpublished = db.session.scalars(
        sa.select(AgendaEntry)
        .join(Meeting)
        .where(Meeting.status != MeetingStatus.PUBLISHED)
        .order_by(AgendaEntry.id)
        .limit(1)
    ).one()
    unpublished.opinions.append(Opinion(opinion=UNPUBLISHED))
    db.session.commit()
    return app


def _years() -> list[int]:
    return db.session.scalars(
        sa.select(Meeting.fiscal_year)
        .where(Meeting.status == MeetingStatus.PUBLISHED)
        .distinct()
        .order_by(Meeting.fiscal_year)
    ).all()


# -- tests -----------------------------------------------------------------------------------


def test_both_files_are_byte_for_byte_what_they_were(data, client):
    rows = old_minutes_rows()
    # The fixture reaches every case: several meetings and years, the awkward texts, a joint
    # meeting's title, a forwarded outcome naming the higher meeting, unpublished minutes left out.
    assert len({r["meeting_id"] for r in rows}) > 10
    assert len(_years()) >= 5
    assert any(r["opinion"] == AWKWARD for r in rows)
    assert any(r["meeting"].endswith("ＩＣＴ戦略調整会議兼関係課長会議") for r in rows)
    assert any(r["outcome"] == "原案を上部庁議へ付議する（政策調整会議）" for r in rows)
    unpublished = db.session.scalar(
        sa.select(sa.func.count(Opinion.id))
        .join(AgendaEntry)
        .join(Meeting)
        .where(Meeting.status != MeetingStatus.PUBLISHED)
    )
    assert unpublished > 0
    assert not any(r["opinion"] == UNPUBLISHED for r in rows)

    as_json = client.get(f"{API}/minutes.json")
    assert as_json.status_code == 200
    assert as_json.mimetype == "application/json"
    assert as_json.get_data() == old_json(rows)
    assert json.loads(as_json.get_data())["rows"] == rows

    as_csv = client.get(f"{API}/minutes.csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["Content-Disposition"] == "attachment; filename=minutes.csv"
    assert as_csv.get_data() == old_csv(rows)
    assert as_csv.get_data().startswith("\ufeffmeeting_id,meeting,kind,date,".encode())


# OWASP "CSV Injection": what a spreadsheet would run, and how each must arrive in the CSV.
FORMULAS = [
    '=HYPERLINK("http://x")',
    "+1+1",
    "-2",
    "@SUM(1,1)",
    "\tx",
    "\rx",
    "=cmd|' /C calc'!A0",
    # After blanks an import may trim, and in full width (found by a probe).
    "  =1+1",
    "\n=1+1",
    "＝1+1",
    "\u3000＠SUM(1,1)",
]


def test_formulas_are_neutralised_in_the_csv_and_unchanged_in_json(data, client):
    published = sa.select(Meeting.id).where(Meeting.status == MeetingStatus.PUBLISHED)
    opinions = db.session.scalars(
        sa.select(Opinion)
        .join(AgendaEntry)
        .where(AgendaEntry.meeting_id.in_(published))
        .order_by(Opinion.id.desc())
        .limit(len(FORMULAS))
    ).all()
    for opinion, formula in zip(opinions, FORMULAS, strict=True):
        opinion.opinion = formula
    opinions[0].response = "=1+2"
    opinions[0].follow_up = "-（→ 後日）"
    opinions[0].entry.item.title = "@案件名"
    db.session.commit()

    rows = client.get(f"{API}/minutes.json").get_json()["rows"]
    as_csv = client.get(f"{API}/minutes.csv").get_data().decode("utf-8-sig")
    cells = list(csv.DictReader(io.StringIO(as_csv, newline="")))
    assert len(cells) == len(rows)
    by_opinion = {row["opinion"]: (row, cell) for row, cell in zip(rows, cells, strict=True)}
    for formula in FORMULAS:
        row, cell = by_opinion[formula]
        assert row["opinion"] == formula  # JSON: as typed
        assert cell["opinion"] == "'" + formula  # CSV: text, never a formula
    row, cell = by_opinion[FORMULAS[0]]
    assert (row["response"], row["follow_up"], row["item"]) == ("=1+2", "-（→ 後日）", "@案件名")
    assert (cell["response"], cell["follow_up"]) == ("'=1+2", "'-（→ 後日）")
    assert cell["item"] == "'@案件名"
    # Numbers, dates and text that merely contains the characters are left alone.
    assert cell["meeting_id"] == str(row["meeting_id"])
    assert cell["date"] == row["date"]
    assert any(c["opinion"] == AWKWARD for c in cells)


def test_a_fiscal_year_gives_that_years_rows_alone(data, client):
    rows = old_minutes_rows()
    year_of = dict(db.session.execute(sa.select(Meeting.id, Meeting.fiscal_year)).all())
    for year in _years()[:2] + _years()[-1:]:
        wanted = [r for r in rows if year_of[r["meeting_id"]] == year]
        assert 0 < len(wanted) < len(rows)
        assert client.get(f"{API}/minutes.json?fiscal_year={year}").get_data() == old_json(wanted)
        assert client.get(f"{API}/minutes.csv?fiscal_year={year}").get_data() == old_csv(wanted)
    # A year without published meetings: the columns and no rows; not a number: 422.
    assert client.get(f"{API}/minutes.json?fiscal_year=1999").get_json()["rows"] == []
    assert client.get(f"{API}/minutes.csv?fiscal_year=1999").get_data() == old_csv([])
    for bad in ("abc", "-1", "2020.5", "10000"):
        for name in ("minutes.json", "minutes.csv"):
            refused = client.get(f"{API}/{name}?fiscal_year={bad}")
            assert refused.status_code == 422, (name, bad)
            assert "fiscal_year" in refused.get_json()["error"]["details"]["fields"]


def test_no_published_minutes_gives_an_empty_file(app, client):
    assert client.get(f"{API}/minutes.json").get_data() == old_json([])
    assert client.get(f"{API}/minutes.csv").get_data() == old_csv([])


FIRST_CHUNK = {
    "minutes.json": b'{"columns":["meeting_id","meeting","kind","date","item_id","item",'
    b'"opinion","response","follow_up","outcome"],"rows":[',
    "minutes.csv": "\ufeffmeeting_id,meeting,kind,date,item_id,item,opinion,response,"
    "follow_up,outcome\r\n".encode(),
}


@pytest.mark.parametrize("name", ["minutes.json", "minutes.csv"])
def test_the_files_are_streamed_in_chunks_from_one_query(data, client, monkeypatch, name):
    monkeypatch.setattr(open_data, "CHUNK_ROWS", 7)
    whole = client.get(f"{API}/{name}").get_data()
    statements: list[tuple[str, str]] = []

    def record(_conn, cursor, statement, _params, _context, _many) -> None:
        statements.append((statement, type(cursor).__name__))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(f"{API}/{name}", buffered=False)
        assert response.is_streamed
        assert "Content-Length" not in response.headers  # sent chunked, as it is made
        chunks = iter(response.response)
        first = next(chunks)
        # The first bytes (the header) are out before the rows are even asked for.
        assert first == FIRST_CHUNK[name]
        assert not any("opinions" in statement for statement, _ in statements)
        rest = list(chunks)
        response.close()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert first + b"".join(rest) == whole
    rows = len(old_minutes_rows())
    assert len(rest) >= rows // 7  # one chunk per 7 rows fetched, not one document at the end
    exports = [cursor for statement, cursor in statements if "opinions" in statement]
    assert len(exports) == 1  # every row from one statement: no query per meeting or entry
    if db.engine.dialect.name == "postgresql":
        assert exports == ["ServerCursor"]  # read from a server-side cursor, not all at once


def test_the_openapi_document_describes_the_fiscal_year(app):
    doc = openapi_document()
    for path in ("/api/v1/minutes.json", "/api/v1/minutes.csv"):
        (param,) = doc["paths"][path]["get"]["parameters"]
        assert param["name"] == "fiscal_year"
        assert param["in"] == "query"
        assert param["required"] is False
        assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": 9999}
        assert "422" in doc["paths"][path]["get"]["responses"]
