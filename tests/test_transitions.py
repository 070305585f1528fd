"""The item machine against DOMAIN §4: every state × event, allowed or refused, and what refusals say."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import item_meeting_id, make_item, make_meeting, make_section, make_user
from workflow.errors import Forbidden, NotAllowedNow, ValidationFailed
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Meeting
from workflow.services import items, meetings, public_comment
from workflow.states.machine import ITEM_MACHINE, OUTCOME_NEXT, events_from
from workflow.states.states import ItemStatus, MeetingStatus, Outcome, Role

pytestmark = pytest.mark.usefixtures("app")

S = ItemStatus
BEFORE_APPROVED = {
    S.DRAFT,
    S.SUBMITTED,
    S.RETURNED,
    S.ACCEPTED,
    S.SCHEDULED,
    S.AMENDING,
    S.AMENDMENT_SUBMITTED,
}

# DOMAIN §4 (and §5 for public comment), written out independently of the machine's own table.
EXPECTED: dict[str, dict[ItemStatus, ItemStatus | set]] = {
    "submit": {S.DRAFT: S.SUBMITTED, S.RETURNED: S.SUBMITTED},
    "return": {S.SUBMITTED: S.RETURNED},
    "accept": {S.SUBMITTED: S.ACCEPTED},
    "schedule": {S.ACCEPTED: S.SCHEDULED},
    "unschedule": {S.SCHEDULED: S.ACCEPTED},
    "record_outcome": {S.SCHEDULED: set(OUTCOME_NEXT.values())},
    "submit_amendment": {S.AMENDING: S.AMENDMENT_SUBMITTED},
    "confirm_amendment": {S.AMENDMENT_SUBMITTED: S.APPROVED},
    "return_amendment": {S.AMENDMENT_SUBMITTED: S.AMENDING},
    "open_public_comment": {S.APPROVED: S.PUBLIC_COMMENT},
    "close_public_comment": {S.PUBLIC_COMMENT: S.PUBLIC_COMMENT_CLOSED},
    "publish_comment_results": {S.PUBLIC_COMMENT_CLOSED: S.CONCLUDED},
    "conclude": {S.APPROVED: S.CONCLUDED},
    "withdraw": {
        s: S.WITHDRAWN for s in BEFORE_APPROVED | {S.PUBLIC_COMMENT, S.PUBLIC_COMMENT_CLOSED}
    },
}


def test_the_outcome_table_is_domain_section_4():
    assert OUTCOME_NEXT == {
        Outcome.APPROVED: S.APPROVED,
        Outcome.APPROVED_WITH_AMENDMENTS: S.AMENDING,
        Outcome.FORWARDED: S.ACCEPTED,
        Outcome.CONTINUED: S.ACCEPTED,
        Outcome.REMANDED: S.RETURNED,
        Outcome.NOTED: S.CONCLUDED,
    }
    assert [o.label for o in Outcome] == [
        "原案のとおり承認する。",
        "原案を一部修正し承認する。",
        "原案を上部庁議へ付議する",
        "継続審議とする。",
        "差し戻しとする。",
        "報告のとおり了承する。",
    ]


def test_the_machine_defines_exactly_the_domain_events():
    assert set(ITEM_MACHINE.events) == set(EXPECTED)
    for event, table in EXPECTED.items():
        sources = {S[name] for name in ITEM_MACHINE.events[event].transitions}
        assert sources == set(table), event


@pytest.mark.parametrize("status", list(S))
def test_final_states_have_no_way_out(status):
    allowed = set(ITEM_MACHINE.get_triggers(status))
    expected = {e for e, table in EXPECTED.items() if status in table}
    assert allowed == expected
    if status in (S.CONCLUDED, S.WITHDRAWN):
        assert allowed == set()


def _params(event: str, item: Item, secretariat) -> dict:
    """What each event needs to succeed from a state where it is allowed."""
    if event in ("return", "withdraw", "return_amendment"):
        return {"reason": "理由"}
    if event == "schedule":
        return {"meeting": make_meeting(secretariat, kind=item.level_kind)}
    if event == "submit" and item.status == S.RETURNED:  # unchanged since the return: answer it
        return {"comment": "指摘の点を確認しました。"}
    return {}


def _meeting_of(item: Item, secretariat) -> Meeting:
    """The item's latest meeting, or (for items never scheduled) some planned meeting."""
    if item.status == S.SCHEDULED:
        return db.session.get(Meeting, item_meeting_id(item))
    return make_meeting(secretariat, kind="section_managers")


def _run(event: str, item: Item, department, secretariat, **params):
    """Fire *event* through the service a user would use."""
    match event:
        case "submit":
            return items.submit(department, item, comment=params.get("comment", ""))
        case "return":
            return items.return_item(secretariat, item, params.get("reason", ""))
        case "accept":
            return items.accept(secretariat, item)
        case "schedule":
            meeting = params.get("meeting") or make_meeting(secretariat, kind="section_managers")
            return meetings.schedule(secretariat, meeting, item, "課長")
        case "unschedule":
            return meetings.unschedule(secretariat, _meeting_of(item, secretariat), item)
        case "record_outcome":
            meeting = _meeting_of(item, secretariat)
            return meetings.record_outcome(secretariat, meeting, item, "approved")
        case "submit_amendment":
            return items.submit_amendment(department, item)
        case "confirm_amendment":
            return items.confirm_amendment(secretariat, item)
        case "return_amendment":
            return items.return_amendment(secretariat, item, params.get("reason", ""))
        case "open_public_comment":
            return public_comment.open_public_comment(
                secretariat,
                item,
                published_on=date(2020, 1, 6),
                closes_on=date(2020, 2, 4),
                how_to_submit="電子メール",
            )
        case "close_public_comment":
            return public_comment.close(secretariat, item, on=date(2020, 3, 1))
        case "publish_comment_results":
            return public_comment.publish_results(secretariat, item)
        case "conclude":
            return items.conclude(secretariat, item)
        case "withdraw":
            return items.withdraw(department, item, params.get("reason", ""))
    raise AssertionError(event)


@pytest.mark.parametrize("event", sorted(EXPECTED))
@pytest.mark.parametrize("status", list(S))
def test_every_state_and_event(status, event):
    """Allowed: the item moves as DOMAIN §4 says, with one history row. Refused: nothing changes."""
    section = make_section()
    department = make_user(Role.DEPARTMENT, section)
    secretariat = make_user(Role.SECRETARIAT)
    # Items with public comment planned end through its results, never by conclude.
    planned_pc = status in (S.PUBLIC_COMMENT, S.PUBLIC_COMMENT_CLOSED) or (
        event == "open_public_comment" and status != S.CONCLUDED
    )
    fields = {"public_comment": {"planned": True, "period_text": ""}} if planned_pc else {}
    item = make_item(status, department=department, secretariat=secretariat, **fields)
    db.session.commit()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent))
    params = _params(event, item, secretariat) if status in EXPECTED[event] else {}

    if status not in EXPECTED[event]:
        with pytest.raises(NotAllowedNow) as refused:
            _run(event, item, department, secretariat, **params)
        db.session.rollback()
        assert refused.value.details["status"] == status.value
        assert status.label in refused.value.message
        assert refused.value.details["allowed_events"] == events_from(item)
        assert db.session.get(Item, item.id).status == status
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent)) == count
        return

    _run(event, item, department, secretariat, **params)
    db.session.commit()
    expected = EXPECTED[event][status]
    assert item.status in expected if isinstance(expected, set) else item.status == expected
    rows = db.session.scalars(
        sa.select(HistoryEvent).where(HistoryEvent.id > 0).order_by(HistoryEvent.id.desc())
    ).all()
    assert len(rows) == count + 1
    assert (rows[0].event, rows[0].from_state, rows[0].to_state) == (
        event,
        status.value,
        item.status.value,
    )
    assert rows[0].occurred_at.tzinfo is not None


@pytest.mark.parametrize(
    ("event", "message"),
    [("return", "理由を入力してください"), ("withdraw", "理由を入力してください")],
)
def test_a_reason_is_required(event, message):
    department = make_user(Role.DEPARTMENT)
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(S.SUBMITTED, department=department, secretariat=secretariat)
    db.session.commit()
    with pytest.raises(ValidationFailed, match=message) as refused:
        _run(event, item, department, secretariat, reason="  ")
    db.session.rollback()
    assert refused.value.fields == {"reason": [refused.value.message]}
    assert db.session.get(Item, item.id).status == S.SUBMITTED


def test_accept_awaits_the_first_kind_of_the_route():
    item = make_item(S.SUBMITTED, route=["affairs_coordination", "policy_coordination"])
    items.accept(make_user(Role.SECRETARIAT), item)
    assert (item.status, item.level_kind) == (S.ACCEPTED, "affairs_coordination")


def test_schedule_only_into_a_planned_meeting_of_the_awaited_kind():
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(S.ACCEPTED, secretariat=secretariat)
    wrong = make_meeting(secretariat, kind="policy_coordination")
    db.session.commit()
    with pytest.raises(ValidationFailed, match="関係課長会議での審議を待っています"):
        meetings.schedule(secretariat, wrong, item)
    db.session.rollback()
    assert db.session.get(Item, item.id).status == S.ACCEPTED


def test_forwarded_needs_a_higher_kind_and_then_awaits_it():
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(S.SCHEDULED, secretariat=secretariat)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    db.session.commit()
    with pytest.raises(ValidationFailed, match="より上位の会議") as refused:
        meetings.record_outcome(secretariat, meeting, item, "forwarded", "section_managers")
    assert "forward_to" in refused.value.fields
    db.session.rollback()
    with pytest.raises(ValidationFailed, match="付議先の上部庁議を選んでください"):
        meetings.record_outcome(secretariat, meeting, item, "forwarded")
    db.session.rollback()
    with pytest.raises(ValidationFailed, match="経路にありません"):
        meetings.record_outcome(secretariat, meeting, item, "forwarded", "policy_decision")
    db.session.rollback()
    meetings.record_outcome(secretariat, meeting, item, "forwarded", "policy_coordination")
    db.session.commit()
    assert (item.status, item.level_kind) == (S.ACCEPTED, "policy_coordination")
    assert meeting.entries[0].outcome_text == "原案を上部庁議へ付議する（政策調整会議）"
    assert meeting.entries[0].form_outcome_text == "原案を上部庁議へ付議する。（政策調整会議）"


def test_continued_awaits_the_same_kind_and_remanded_returns():
    secretariat = make_user(Role.SECRETARIAT)
    first = make_item(S.SCHEDULED, secretariat=secretariat)
    second = make_item(S.SCHEDULED, secretariat=secretariat)
    for item, outcome in ((first, "continued"), (second, "remanded")):
        meeting = db.session.get(Meeting, item_meeting_id(item))
        meetings.record_outcome(secretariat, meeting, item, outcome)
    assert (first.status, first.level_kind) == (S.ACCEPTED, "section_managers")
    assert (second.status, second.level_kind) == (S.RETURNED, None)


@pytest.mark.parametrize(
    ("days", "reason", "ok"),
    [(30, "", True), (29, "", False), (29, "災害対応のため緊急を要する", True), (50, "", True)],
)
def test_public_comment_period_counts_from_the_publication_day(days, reason, ok):
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(
        S.APPROVED,
        secretariat=secretariat,
        public_comment={"planned": True, "period_text": ""},
    )
    db.session.commit()
    published = date(2020, 1, 6)
    call = {
        "published_on": published,
        "closes_on": date.fromordinal(published.toordinal() + days - 1),
        "how_to_submit": "電子メール",
        "shortened_reason": reason,
    }
    if ok:
        process = public_comment.open_public_comment(secretariat, item, **call)
        assert (process.closes_on - process.published_on).days + 1 == days
        assert item.status == S.PUBLIC_COMMENT
    else:
        with pytest.raises(ValidationFailed, match="30日以上") as refused:
            public_comment.open_public_comment(secretariat, item, **call)
        assert "shortened_reason" in refused.value.fields
        db.session.rollback()
        assert db.session.get(Item, item.id).status == S.APPROVED


def test_public_comment_closes_only_on_or_after_the_closing_day():
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(S.PUBLIC_COMMENT, secretariat=secretariat)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="締切日以降"):
        public_comment.close(secretariat, item, on=date(2020, 2, 3))
    db.session.rollback()
    public_comment.close(secretariat, item, on=date(2020, 2, 4))
    assert item.status == S.PUBLIC_COMMENT_CLOSED


def test_results_need_every_opinion_answered_or_none_received():
    secretariat = make_user(Role.SECRETARIAT)
    silent = make_item(S.PUBLIC_COMMENT_CLOSED, secretariat=secretariat)
    public_comment.publish_results(secretariat, silent)  # 意見なし
    assert silent.status == S.CONCLUDED

    item = make_item(S.PUBLIC_COMMENT, secretariat=secretariat)
    public_comment.add_opinion(secretariat, item, summary="意見です", submitter_kind="個人")
    public_comment.close(secretariat, item, on=date(2020, 2, 4))
    db.session.commit()
    with pytest.raises(ValidationFailed, match=r"No\.1"):
        public_comment.publish_results(secretariat, item)
    db.session.rollback()
    public_comment.update_opinion(
        secretariat, item, 1, {"city_view": "参考にします。", "handling": "future_reference"}
    )
    public_comment.publish_results(secretariat, item)
    assert item.status == S.CONCLUDED


def test_withdrawing_during_public_comment_records_the_abandoned_draft():
    department = make_user(Role.DEPARTMENT)
    item = make_item(S.PUBLIC_COMMENT, department=department)
    items.withdraw(department, item, "計画を見直すため")
    assert item.status == S.WITHDRAWN
    assert item.comment_process.status == "abandoned"
    assert item.comment_process.abandoned_reason == "計画を見直すため"


def test_withdrawing_a_scheduled_item_takes_it_off_the_agenda():
    department = make_user(Role.DEPARTMENT)
    item = make_item(S.SCHEDULED, department=department)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    items.withdraw(department, item, "取り下げます")
    db.session.commit()
    assert meeting.entries == []


def test_conclude_is_for_items_without_public_comment():
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(
        S.APPROVED, secretariat=secretariat, public_comment={"planned": True, "period_text": ""}
    )
    with pytest.raises(ValidationFailed, match="意見募集の結果を公表して完了"):
        items.conclude(secretariat, item)


def test_a_meeting_is_held_only_when_every_entry_has_an_outcome():
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(S.SCHEDULED, secretariat=secretariat)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    db.session.commit()
    with pytest.raises(ValidationFailed, match="結果が未登録の議題があります（1番）"):
        meetings.hold(secretariat, meeting)
    db.session.rollback()
    meetings.record_outcome(secretariat, meeting, item, "approved")
    meetings.hold(secretariat, meeting)
    meetings.confirm(secretariat, meeting)
    with pytest.raises(Exception, match="変更できません"):
        meetings.record_deliberation(secretariat, meeting, item, {"special_notes": "追記"})
    meetings.publish(secretariat, meeting)
    assert meeting.status == "published"
    with pytest.raises(NotAllowedNow, match="（現在：公開）"):
        meetings.confirm(secretariat, meeting)


def test_meeting_numbers_count_per_kind_per_fiscal_year():
    secretariat = make_user(Role.SECRETARIAT)
    first = make_meeting(secretariat, kind="policy_coordination", on=date(2019, 4, 1))
    second = make_meeting(secretariat, kind="policy_coordination", on=date(2020, 3, 31))
    other_kind = make_meeting(secretariat, kind="policy_decision", on=date(2019, 5, 1))
    next_year = make_meeting(secretariat, kind="policy_coordination", on=date(2020, 4, 1))
    assert [m.number for m in (first, second, other_kind, next_year)] == [1, 2, 1, 1]
    assert second.title == "第２回 政策調整会議"
    # 第２回 typed by hand: the planned meeting numbered automatically moves out of its way
    # (DOMAIN §2; tests/test_meeting_numbers.py has the rule in full).
    typed = make_meeting(secretariat, kind="policy_coordination", on=date(2019, 6, 1), number=2)
    assert (typed.number, second.number) == (2, 3)
    second.status = MeetingStatus.HELD  # a held meeting keeps its number: typing it is refused
    with pytest.raises(ValidationFailed, match="すでに登録されています"):
        make_meeting(secretariat, kind="policy_coordination", on=date(2019, 7, 1), number=3)


def test_only_the_machine_changes_a_status_and_history_cannot_be_rewritten():
    """No code path outside workflow/states assigns a status; history is append-only."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent / "workflow"
    # The bulk demo generator's planner plans statuses on its own dataclasses, and its rows go in
    # with Core; test_generated_history_follows_the_machine holds every planned step to the machine.
    # The worker's job table has a status of its own (queued → running → done), no workflow's.
    allowed = {root / "demo" / "plan.py", root / "jobs.py"}
    offenders = [
        str(p)
        for p in root.rglob("*.py")
        if "states" not in p.parts
        and p not in allowed
        and re.search(r"\.status\s*=[^=]", p.read_text())
    ]
    assert offenders == []
    department = make_user(Role.DEPARTMENT)
    item = make_item(S.SUBMITTED, department=department)
    db.session.commit()
    row = db.session.scalars(sa.select(HistoryEvent).where(HistoryEvent.item_id == item.id)).one()
    row.reason = "改ざん"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_a_refused_permission_changes_nothing():
    department = make_user(Role.DEPARTMENT)
    item = make_item(S.SUBMITTED, department=department)
    db.session.commit()
    with pytest.raises(Forbidden):
        items.accept(department, item)
    db.session.rollback()
    assert db.session.get(Item, item.id).status == S.SUBMITTED


def test_text_the_official_forms_cannot_print_is_refused_at_input():
    department = make_user(Role.DEPARTMENT)
    with pytest.raises(ValidationFailed) as refused:
        items.file_item(department, {"title": "絵文字😀の案件", "section": department.section.name})
    assert "「😀」（U+1F600）" in refused.value.fields["title"][0]
    # A rare kanji IPAmj明朝 has is fine: it prints with the fallback font.
    item = items.file_item(department, {"title": "𠮷野家の件", "section": department.section.name})
    assert item.title == "𠮷野家の件"


def test_generated_history_follows_the_machine():
    """`flask demo generate` bypasses fire() for speed: every step it wrote must be one fire() allows."""
    from workflow.demo.generate import generate

    generate(60, seed=7)
    db.session.commit()
    rows = db.session.scalars(
        sa.select(HistoryEvent)
        .where(HistoryEvent.item_id.is_not(None), HistoryEvent.meeting_id.is_(None))
        .order_by(HistoryEvent.id)
    ).all()
    assert len(rows) > 100
    for row in rows:
        event = ITEM_MACHINE.events[row.event]
        dests = {t.dest for t in event.transitions[S(row.from_state).name]}
        assert S(row.to_state).name in dests, (row.item_id, row.event, row.from_state, row.to_state)
