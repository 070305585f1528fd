"""`flask demo load` fills an empty database with realistic data in many states, once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from workflow.demo.load import DEMO_PASSWORD, USERS
from workflow.extensions import db
from workflow.models import Item, Meeting, User
from workflow.states.states import ItemStatus, MeetingStatus

pytestmark = pytest.mark.usefixtures("app")


def test_demo_load_fills_an_empty_database_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "読み込みました" in result.output
    statuses = set(db.session.scalars(sa.select(Item.status)))
    assert {
        ItemStatus.CONCLUDED,
        ItemStatus.PUBLIC_COMMENT,
        ItemStatus.SCHEDULED,
        ItemStatus.SUBMITTED,
        ItemStatus.RETURNED,
        ItemStatus.DRAFT,
    } <= statuses
    meetings = db.session.scalars(sa.select(Meeting)).all()
    assert {m.status for m in meetings} >= {MeetingStatus.PUBLISHED, MeetingStatus.PLANNED}
    assert "第５回 政策調整会議" in {m.title for m in meetings}
    for login, *_ in USERS:
        user = db.session.scalar(sa.select(User).where(User.login == login))
        assert user.check_password(DEMO_PASSWORD)

    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0
    assert "読み込み済み" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == len(USERS)
