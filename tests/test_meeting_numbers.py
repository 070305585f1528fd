"""第N回 follows the date (DOMAIN §2), and creating a meeting never fails because of its number."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from tests.factories import make_meeting, make_user
from tests.support import meeting_numbers
from workflow.errors import ValidationFailed, WorkflowError
from workflow.extensions import db
from workflow.models import User
from workflow.services import meetings
from workflow.services.numbering import plan_numbers
from workflow.services.transaction import unit_of_work
from workflow.states.states import MeetingStatus, Role

pytestmark = pytest.mark.usefixtures("app")

SM = "section_managers"


def test_a_meeting_registered_later_for_an_earlier_day_takes_its_place():
    secretariat = make_user(Role.SECRETARIAT)
    make_meeting(secretariat, SM, date(2019, 6, 10))
    make_meeting(secretariat, SM, date(2019, 9, 10))
    make_meeting(secretariat, SM, date(2019, 7, 10))  # registered last, held second
    assert meeting_numbers() == [("2019-06-10", 1), ("2019-07-10", 2), ("2019-09-10", 3)]


def test_held_and_hand_numbered_meetings_keep_their_numbers():
    secretariat = make_user(Role.SECRETARIAT)
    first = make_meeting(secretariat, SM, date(2019, 6, 10))
    first.status = MeetingStatus.HELD  # as hold() leaves it; its number never changes
    make_meeting(secretariat, SM, date(2019, 9, 10), number=3)  # typed by hand
    make_meeting(secretariat, SM, date(2019, 10, 10))
    make_meeting(secretariat, SM, date(2019, 5, 10))  # before the held one
    assert meeting_numbers() == [
        ("2019-05-10", 2),  # 1 is the held meeting's: the next free number
        ("2019-06-10", 1),
        ("2019-09-10", 3),
        ("2019-10-10", 4),
    ]
    # A number a held or hand-numbered meeting keeps cannot be typed again.
    with pytest.raises(ValidationFailed) as taken:
        make_meeting(secretariat, SM, date(2019, 11, 1), number=3)
    assert "number" in taken.value.fields
    # One typed by hand moves a planned meeting's automatic number out of its way.
    make_meeting(secretariat, SM, date(2019, 12, 1), number=4)
    assert ("2019-12-01", 4) in meeting_numbers()
    assert len({n for _d, n in meeting_numbers()}) == len(meeting_numbers())


def test_numbers_are_counted_per_kind_and_fiscal_year():
    secretariat = make_user(Role.SECRETARIAT)
    make_meeting(secretariat, SM, date(2020, 3, 31))  # 令和元年度
    make_meeting(secretariat, SM, date(2020, 4, 1))  # 令和２年度: 第１回 again
    make_meeting(secretariat, "policy_coordination", date(2020, 3, 1))
    assert meeting_numbers() == [("2020-03-31", 1), ("2020-04-01", 1)]
    assert meeting_numbers("policy_coordination") == [("2020-03-01", 1)]


def test_the_plan_never_gives_a_number_twice():
    """Kept numbers out of date order (a hand-numbered 第５回 early, a 第３回 later)."""

    class M:
        def __init__(self, number, fixed):
            self.number, self.number_fixed, self.status = number, fixed, MeetingStatus.PLANNED

    meetings_ = [M(5, True), M(0, False), M(0, False), M(3, True), M(0, False), M(0, False)]
    planned = plan_numbers(meetings_)
    numbers = [m.number if m.number_fixed else planned[m] for m in meetings_]
    assert numbers == [5, 6, 7, 3, 4, 8]


def _create(app, secretariat_id: int, day: date, barrier, results) -> None:
    with app.app_context():
        try:
            barrier.wait()
            with unit_of_work():
                secretariat = db.session.get(User, secretariat_id)
                meetings.create_meeting(secretariat, kind=SM, date_=day)
            results.append("ok")
        except WorkflowError as exc:
            results.append(exc.code)


def test_parallel_creates_all_succeed_with_distinct_numbers(app):
    secretariat_id = make_user(Role.SECRETARIAT).id
    db.session.commit()
    count = 12
    barrier, results = threading.Barrier(count, timeout=60), []
    threads = [
        threading.Thread(
            target=_create,
            args=(app, secretariat_id, date(2019, 5, 1 + n), barrier, results),
        )
        for n in range(count)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == ["ok"] * count
    db.session.expire_all()
    numbers = [n for _day, n in meeting_numbers()]
    assert numbers == list(range(1, count + 1))  # by date, whatever order they committed in
