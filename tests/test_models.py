"""The data model holds what DOMAIN §3 says, in order, and the database refuses what it can."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from workflow.extensions import db
from workflow.models import (
    DEFAULT_KINDS,
    AgendaEntry,
    HistoryEvent,
    Item,
    ItemDetail,
    Meeting,
    MeetingKind,
    Section,
    User,
)
from workflow.states.states import Outcome, Role

pytestmark = pytest.mark.usefixtures("app")


def test_meeting_kinds_are_seeded_lowest_first():
    rows = db.session.scalars(sa.select(MeetingKind).order_by(MeetingKind.sort_order)).all()
    assert [(k.code, k.name, k.level) for k in rows] == [
        (c, n, lv) for c, n, lv, _, _ in DEFAULT_KINDS
    ]


def test_item_parts_keep_their_order(app):
    section = Section(name="情報政策課")
    item = Item(title="順序の確認", section=section)
    item.details = [ItemDetail(heading=h) for h in ("事案の概要", "計画策定スケジュール", "効果")]
    db.session.add(item)
    db.session.commit()
    item.details.insert(0, item.details.pop())
    db.session.commit()
    db.session.expire_all()
    assert [d.heading for d in db.session.get(Item, item.id).details] == [
        "効果",
        "事案の概要",
        "計画策定スケジュール",
    ]
    # The parts are rows of their own, so they can be queried.
    hit = db.session.scalar(sa.select(ItemDetail.item_id).where(ItemDetail.heading == "効果"))
    assert hit == item.id


def test_department_user_needs_a_section():
    db.session.add(User(login="x", display_name="x", role=Role.DEPARTMENT, password_hash="h"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_status_values_are_checked_by_the_database():
    section = Section(name="課")
    db.session.add(Item(title="t", section=section))
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text("UPDATE items SET status = 'flying'"))
    db.session.rollback()


def test_forwarded_outcome_must_name_the_higher_kind(app):
    import datetime as dt

    section = Section(name="課")
    item = Item(title="t", section=section, status="accepted", level_kind="section_managers")
    meeting = Meeting(
        kind="section_managers", number=1, fiscal_year=2019, date=dt.date(2019, 8, 21)
    )
    meeting.entries.append(AgendaEntry(item=item, outcome=Outcome.FORWARDED))
    db.session.add(meeting)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_history_rows_cannot_be_edited_through_the_orm():
    section = Section(name="課")
    item = Item(title="t", section=section)
    db.session.add(item)
    db.session.flush()
    row = HistoryEvent(item_id=item.id, event="submit", from_state="draft", to_state="submitted")
    db.session.add(row)
    db.session.commit()
    row.reason = "書き換え"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(row)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
