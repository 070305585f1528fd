"""`flask demo generate`: bulk data that keeps every rule the services keep."""

from __future__ import annotations

from collections import defaultdict

import pytest
import sqlalchemy as sa

from tests.factories import make_item, make_user
from workflow.demo.plan import Ids, Planner, World
from workflow.demo.rows import item_rows
from workflow.extensions import db
from workflow.models import (
    AgendaEntry,
    ApiToken,
    HistoryEvent,
    Item,
    ItemDetail,
    ItemDiscussionPoint,
    ItemRouteStep,
    Meeting,
    PublicComment,
    User,
)
from workflow.states.states import ItemStatus, MeetingStatus, PublicCommentStatus, Role
from workflow.wareki import fiscal_year

N = 60

AWAITING = {ItemStatus.ACCEPTED, ItemStatus.SCHEDULED}
COMMENT_STATUS = {
    ItemStatus.PUBLIC_COMMENT: PublicCommentStatus.OPEN,
    ItemStatus.PUBLIC_COMMENT_CLOSED: PublicCommentStatus.CLOSED,
    ItemStatus.CONCLUDED: PublicCommentStatus.RESULTS_PUBLISHED,
}


@pytest.fixture
def generated(app):
    result = app.test_cli_runner().invoke(
        args=["demo", "generate", "--items", str(N), "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert f"{N}件の案件" in result.output
    return app


def _history(item_id: int) -> list[HistoryEvent]:
    return list(
        db.session.scalars(
            sa.select(HistoryEvent).where(HistoryEvent.item_id == item_id).order_by(HistoryEvent.id)
        )
    )


def test_the_services_count_one_version_per_event(app):
    """The generator's rule for ``version``, checked against the real services."""
    for status in (ItemStatus.CONCLUDED, ItemStatus.PUBLIC_COMMENT_CLOSED, ItemStatus.WITHDRAWN):
        item = make_item(status)
        assert item.version == 1 + len(_history(item.id))


def test_items_follow_their_history(generated):
    items = db.session.scalars(sa.select(Item)).all()
    assert len(items) == N
    statuses = [i.status for i in items]
    assert max(set(statuses), key=statuses.count) == ItemStatus.CONCLUDED
    for item in items:
        history = _history(item.id)
        state = ItemStatus.DRAFT
        for row in history:
            assert row.from_state == state, (item.id, row.event)
            state = ItemStatus(row.to_state)
        assert state == item.status
        assert item.version == 1 + len(history)
        assert item.updated_at == (history[-1].occurred_at if history else item.created_at)
        times = [row.occurred_at for row in history]
        assert times == sorted(times)
        assert (item.level_kind is not None) == (item.status in AWAITING)
        assert item.route_steps
        assert item.details
        assert item.discussion_points
        open_entries = [e for e in _entries(item.id) if e.outcome is None]
        if item.status == ItemStatus.SCHEDULED:
            (entry,) = open_entries
            assert entry.meeting.status == MeetingStatus.PLANNED
            assert entry.meeting.kind == item.level_kind
        else:
            assert open_entries == []
        process = item.comment_process
        if process is not None:
            assert item.public_comment_planned
            assert process.status == COMMENT_STATUS[item.status]
        elif item.status in (ItemStatus.PUBLIC_COMMENT, ItemStatus.PUBLIC_COMMENT_CLOSED):
            pytest.fail(f"item {item.id} in public comment without its process")


def _entries(item_id: int) -> list[AgendaEntry]:
    return list(db.session.scalars(sa.select(AgendaEntry).where(AgendaEntry.item_id == item_id)))


def test_meetings_are_numbered_per_kind_per_year_and_held_only_when_decided(generated):
    meetings = db.session.scalars(sa.select(Meeting).order_by(Meeting.date, Meeting.id)).all()
    assert {m.fiscal_year for m in meetings} >= {2016, 2025}
    numbers = defaultdict(list)
    for meeting in meetings:
        assert meeting.fiscal_year == fiscal_year(meeting.date)
        numbers[meeting.kind, meeting.fiscal_year].append(meeting.number)
        outcomes = [e.outcome for e in meeting.entries]
        if meeting.status == MeetingStatus.PLANNED:
            assert all(o is None for o in outcomes)
        else:
            assert outcomes
            assert all(o is not None for o in outcomes)
        assert [e.position for e in meeting.entries] == list(range(len(meeting.entries)))
        events = db.session.scalars(
            sa.select(HistoryEvent.to_state)
            .where(HistoryEvent.meeting_id == meeting.id)
            .order_by(HistoryEvent.id)
        ).all()
        assert events == ["held", "confirmed", "published"][: len(events)]
        assert MeetingStatus(events[-1] if events else "planned") == meeting.status
    for sequence in numbers.values():
        assert sequence == list(range(1, len(sequence) + 1))


def test_every_item_reads_through_the_api_and_the_chain_holds(generated):
    secretariat = db.session.scalar(sa.select(User).where(User.login == "secretariat"))
    row, token = ApiToken.issue(secretariat)
    db.session.add(row)
    db.session.commit()
    client = generated.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    for item_id, status in db.session.execute(sa.select(Item.id, Item.status)):
        response = client.get(f"/api/v1/items/{item_id}", headers=headers)
        assert response.status_code == 200, (item_id, response.json)
        assert response.json["status"] == status.value
    verify = generated.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_refuses_a_database_that_has_items(generated):
    result = generated.test_cli_runner().invoke(args=["demo", "generate", "--items", "5"])
    assert result.exit_code != 0
    assert "すでに登録" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == N


def test_same_seed_same_data():
    world = World(
        sections=[(n, f"課{n}", "局", "部") for n in range(1, 6)],
        authors={n: 100 + n for n in range(1, 6)},
        secretariat_id=1,
    )

    def rows(seed: int) -> list:
        ids = {name: Ids(1) for name in ("items", "agenda_entries", "public_comments")}
        plans = Planner(world, 40, seed, ids).plan_all()
        return [
            (table.name, sorted(row.items(), key=str))
            for plan in plans
            for table, row in item_rows(plan, world, seed)
            if table.name != "history_events"
        ]

    assert rows(5) == rows(5)
    assert rows(5) != rows(6)


def test_rows_use_every_part_of_the_form(generated):
    for model in (ItemDetail, ItemDiscussionPoint, ItemRouteStep, PublicComment):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) > 0


def test_generated_items_are_found_by_search(generated):
    """The generator writes around the ORM, so it must build the search index itself."""
    from workflow.queries.search import search_items

    title = db.session.scalar(sa.select(Item.title).order_by(Item.id).limit(1))
    hits = search_items(make_user(Role.SECRETARIAT), title[:6])
    assert hits


def test_on_postgresql_the_bulk_load_is_vacuumed(generated, engine_name):
    """Counting items reads an index only once the visibility map is set (VACUUM after the load)."""
    if engine_name != "postgresql":
        pytest.skip("VACUUM and the visibility map are PostgreSQL's")
    pages, visible = db.session.execute(
        sa.text("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'items'")
    ).one()
    assert pages > 0
    assert visible == pages
