"""The sample item's real path, end to end, through the services."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.factories import make_section, make_user
from tests.support import SAMPLE_EVENTS, SAMPLE_REVIEW_DATES
from workflow.demo.sample import STAGES, play_sample, sample_form
from workflow.extensions import db
from workflow.models import HistoryEvent
from workflow.queries.item_view import item_view, prior_opinions, review_dates
from workflow.states.states import ItemStatus, MeetingStatus, PublicCommentStatus, Role

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def actors():
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    return make_user(Role.DEPARTMENT, section), make_user(Role.SECRETARIAT)


def test_the_sample_goes_its_whole_real_path(actors):
    path = play_sample(*actors)
    db.session.commit()
    item = path.item
    assert item.status == ItemStatus.CONCLUDED
    assert item.comment_process.status == PublicCommentStatus.RESULTS_PUBLISHED
    assert (item.comment_process.closes_on - item.comment_process.published_on).days + 1 == 50
    events = db.session.scalars(
        sa.select(HistoryEvent.event)
        .where(HistoryEvent.item_id == item.id)
        .order_by(HistoryEvent.id)
    ).all()
    assert events == SAMPLE_EVENTS
    assert all(m.status == MeetingStatus.PUBLISHED for m in path.meetings.values())


def test_derived_prior_opinions_equal_what_the_earlier_meetings_recorded(actors):
    path = play_sample(*actors, until="policy_coordination_scheduled")
    form = sample_form()
    seen = item_view(actors[1], path.item)  # the secretariat reads every meeting's minutes
    groups = prior_opinions(path.item, before=path.meetings["policy_coordination"])
    assert [g.name for g in groups] == ["関係課長会議", "事務事業調整会議"]
    for group, key in zip(
        groups, ("section_managers_meeting", "affairs_coordination_meeting"), strict=True
    ):
        recorded = form[key]
        assert group.date.isoformat() == recorded["date"]
        assert [(o.opinion, o.response) for o in group.opinions] == [
            (o["opinion"], o["response"]) for o in recorded["opinions"]
        ]
    assert [a.section_name for a in seen.section_managers_attendance] == form[
        "section_managers_meeting"
    ]["attendance"]
    # The 上部庁議 named (DOMAIN §8), although the review came first.
    assert seen.section_managers_result == "原案を上部庁議へ付議する。（政策調整会議）"
    assert {k: d.isoformat() for k, d in review_dates(path.item).items()} == SAMPLE_REVIEW_DATES


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_of_the_path_can_be_reached(actors, stage):
    path = play_sample(*actors, until=stage)
    db.session.commit()
    expected = {
        "filed": ItemStatus.DRAFT,
        "accepted": ItemStatus.ACCEPTED,
        "section_managers": ItemStatus.ACCEPTED,
        "affairs_coordination": ItemStatus.ACCEPTED,
        "policy_coordination_scheduled": ItemStatus.SCHEDULED,
        "policy_coordination": ItemStatus.AMENDING,
        "amended": ItemStatus.APPROVED,
        "public_comment_open": ItemStatus.PUBLIC_COMMENT,
        "public_comment_closed": ItemStatus.PUBLIC_COMMENT_CLOSED,
        "concluded": ItemStatus.CONCLUDED,
    }[stage]
    assert path.item.status == expected
