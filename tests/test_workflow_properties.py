"""Random event sequences (hypothesis): the machine never reaches a state it does not define."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_meeting, make_section, make_user
from workflow.errors import WorkflowError
from workflow.extensions import db
from workflow.models import HistoryEvent
from workflow.queries.item_view import item_entries
from workflow.services import items, meetings, public_comment
from workflow.states.states import FINAL_ITEM_STATES, ItemStatus, Outcome, Role

pytestmark = pytest.mark.usefixtures("app")

ACTIONS = (
    "submit",
    "return",
    "accept",
    "schedule",
    "unschedule",
    "record_outcome",
    "submit_amendment",
    "open_public_comment",
    "add_opinion",
    "close_public_comment",
    "answer",
    "publish_comment_results",
    "conclude",
    "withdraw",
    "hold",
)


def _act(action, item, department, secretariat, outcome):
    """One user action; returns whether it was an item event."""
    entries = item_entries(item)
    meeting = entries[-1].meeting if entries else None
    match action:
        case "submit":
            items.submit(department, item)
        case "return":
            items.return_item(secretariat, item, "不備")
        case "accept":
            items.accept(secretariat, item)
        case "schedule":
            kind = item.level_kind or "section_managers"
            meetings.schedule(secretariat, make_meeting(secretariat, kind=kind), item, "課長")
        case "unschedule":
            meetings.unschedule(secretariat, meeting or make_meeting(secretariat), item)
        case "record_outcome":
            higher = "policy_decision" if outcome == Outcome.FORWARDED else None
            meetings.record_outcome(
                secretariat, meeting or make_meeting(secretariat), item, outcome, higher
            )
        case "submit_amendment":
            items.submit_amendment(department, item)
        case "open_public_comment":
            public_comment.open_public_comment(
                secretariat,
                item,
                published_on=date(2020, 1, 6),
                closes_on=date(2020, 2, 4),
                how_to_submit="電子メール",
            )
        case "add_opinion":
            public_comment.add_opinion(secretariat, item, summary="意見", submitter_kind="個人")
            return False
        case "close_public_comment":
            public_comment.close(secretariat, item, on=date(2020, 2, 4))
        case "answer":
            public_comment.update_opinion(
                secretariat, item, 1, {"city_view": "回答", "handling": "other"}
            )
            return False
        case "publish_comment_results":
            public_comment.publish_results(secretariat, item)
        case "conclude":
            items.conclude(secretariat, item)
        case "withdraw":
            items.withdraw(department, item, "取下げ")
        case "hold":
            meetings.hold(secretariat, meeting or make_meeting(secretariat))
            return False
    return True


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(
    actions=st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.sampled_from(list(Outcome))), max_size=25
    ),
    planned=st.booleans(),
)
def test_random_event_sequences_keep_the_machine_honest(actions, planned):
    department = make_user(Role.DEPARTMENT, make_section())
    secretariat = make_user(Role.SECRETARIAT)
    item = items.file_item(
        department,
        {
            "title": "無作為の案件",
            "section": department.section.name,
            "public_comment": {"planned": planned, "period_text": ""},
        },
    )
    db.session.commit()
    succeeded = 0
    for action, outcome in actions:
        before = item.status
        try:
            was_event = _act(action, item, department, secretariat, outcome)
        except WorkflowError:
            db.session.rollback()
            assert db.session.get(type(item), item.id).status == before  # nothing written
            continue
        db.session.commit()
        succeeded += was_event
        assert item.status in set(ItemStatus)
        if before in FINAL_ITEM_STATES:
            assert item.status == before  # nothing leaves a final state
    history = db.session.scalar(sa.select(sa.func.count()).where(HistoryEvent.item_id == item.id))
    assert history == succeeded
