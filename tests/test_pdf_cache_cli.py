"""flask pdf-cache clear: every cached PDF goes, and the next download renders the same bytes."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, Opinion, PdfCache, Section
from workflow.pdf import documents
from workflow.states.states import MeetingStatus, Outcome

pytestmark = pytest.mark.usefixtures("app")


def run(app: Flask, *args: str) -> Result:
    db.session.rollback()  # hold no transaction (on SQLite: no write lock) while the command runs
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.expire_all()
    return result


def rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PdfCache))


@pytest.fixture
def meeting() -> Meeting:
    item = Item(title="相模原市ＩＣＴ総合戦略の策定について", section=Section(name="情報政策課"))
    row = Meeting(
        kind="policy_coordination",
        number=5,
        fiscal_year=2019,
        date=date(2019, 10, 11),
        status=MeetingStatus.CONFIRMED,
    )
    entry = AgendaEntry(item=item, presenter="企画部長", outcome=Outcome.APPROVED)
    entry.opinions = [Opinion(opinion="周知の方法は。", response="広報紙で周知する。")]
    row.entries.append(entry)
    db.session.add(row)
    db.session.commit()
    return row


def test_clear_empties_the_cache_and_the_next_download_renders_the_same_bytes(app, meeting):
    first = documents.minutes_pdf(meeting)
    agenda = documents.agenda_pdf(meeting)
    db.session.commit()
    assert not first.cached
    assert rows() == 2

    result = run(app, "pdf-cache", "clear")

    assert result.exit_code == 0, result.output
    assert result.stdout == "PDFキャッシュを2件削除しました。次のダウンロードで作り直します。\n"
    assert rows() == 0
    again = documents.minutes_pdf(db.session.get(Meeting, meeting.id))
    assert not again.cached  # rendered anew, not read back
    assert (again.content, again.etag) == (first.content, first.etag)
    assert documents.agenda_pdf(db.session.get(Meeting, meeting.id)).content == agenda.content


def test_clear_on_an_empty_cache_says_none_were_removed(app):
    result = run(app, "pdf-cache", "clear")
    assert result.exit_code == 0, result.output
    assert result.stdout == "PDFキャッシュを0件削除しました。次のダウンロードで作り直します。\n"
