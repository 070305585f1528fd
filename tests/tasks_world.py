"""A world for 「対応が必要なもの」: items in every state in two sections, meetings in every state,
パブリックコメント open and closed, and the exact (kind, id) set each role's list must hold
(used by tests/test_tasks.py and tests/test_tasks_browser.py)."""

from __future__ import annotations

from datetime import date

from tests.factories import item_meeting_id, make_item, make_meeting, make_section, make_user
from workflow.extensions import db
from workflow.models import Meeting
from workflow.services import items, meetings, public_comment
from workflow.states.states import ItemStatus, Role

TODAY = date(2020, 2, 2)
REASON = "概要に事業費の内訳がありません。\n財源の欄も空です。\n　（３）を書き足してください。"
AMEND_REASON = "修正が特記事項の指摘に沿っていません。\n別紙の表も直してください。"


def decide(sec, item, outcome, forward_to=None):
    meeting = db.session.get(Meeting, item_meeting_id(item))
    meetings.record_outcome(sec, meeting, item, outcome, forward_to)
    return meeting


def scheduled(dept, sec, **kw):
    return make_item(ItemStatus.SCHEDULED, department=dept, secretariat=sec, **kw)


def build_world() -> dict:
    """Items in every state (two sections), meetings in every state, パブリックコメント open and
    closed; and the exact (kind, id) set each role must see."""
    own_section, other_section = make_section("情報政策課"), make_section("財政課")
    own = make_user(Role.DEPARTMENT, own_section)
    other = make_user(Role.DEPARTMENT, other_section)
    sec = make_user(Role.SECRETARIAT)
    viewer, admin = make_user(Role.VIEWER), make_user(Role.ADMIN)

    def item(status, dept=own, **kw):
        return make_item(status, department=dept, secretariat=sec, **kw)

    w: dict = {"own": own, "other": other, "sec": sec, "viewer": viewer, "admin": admin}
    w["draft"] = item(ItemStatus.DRAFT)
    w["submitted"] = item(ItemStatus.SUBMITTED)
    w["late"] = item(ItemStatus.SUBMITTED)
    w["late"].late = True
    w["returned"] = item(ItemStatus.SUBMITTED)
    items.return_item(sec, w["returned"], REASON)
    w["accepted"] = item(ItemStatus.ACCEPTED)
    w["scheduled"] = item(ItemStatus.SCHEDULED)
    w["amending"] = scheduled(own, sec)
    w["amending_meeting"] = decide(sec, w["amending"], "approved_with_amendments")
    w["amendment_submitted"] = item(ItemStatus.AMENDMENT_SUBMITTED)
    w["amendment_returned"] = item(ItemStatus.AMENDMENT_SUBMITTED)
    items.return_amendment(sec, w["amendment_returned"], AMEND_REASON)
    w["approved"] = item(ItemStatus.APPROVED)
    w["comment_closing"] = item(ItemStatus.PUBLIC_COMMENT)  # closes 2020-02-04
    w["comment_open"] = item(ItemStatus.APPROVED, public_comment={"planned": True})
    public_comment.open_public_comment(
        sec,
        w["comment_open"],
        published_on=date(2020, 1, 20),
        closes_on=date(2020, 2, 28),
        how_to_submit="電子メール",
    )
    w["comment_closed"] = item(ItemStatus.PUBLIC_COMMENT_CLOSED)
    w["concluded"] = item(ItemStatus.CONCLUDED)
    w["withdrawn"] = item(ItemStatus.WITHDRAWN)
    w["forwarded"] = scheduled(own, sec)
    w["forwarded_meeting"] = decide(sec, w["forwarded"], "forwarded", "policy_coordination")
    w["forwarded_revised"] = scheduled(own, sec)
    decide(sec, w["forwarded_revised"], "forwarded", "policy_coordination")
    items.update_item(own, w["forwarded_revised"], {"summary": "政策調整会議に向けて見直した概要"})
    w["continued"] = scheduled(own, sec)
    decide(sec, w["continued"], "continued")
    w["remanded"] = scheduled(own, sec)
    decide(sec, w["remanded"], "remanded")
    # Another section's items: its own department's tasks only.
    w["other_draft"] = item(ItemStatus.DRAFT, dept=other)
    w["other_returned"] = item(ItemStatus.RETURNED, dept=other)

    # Meetings (today is TODAY, a Sunday).
    w["empty_soon"] = make_meeting(sec, kind="policy_coordination", on=date(2020, 2, 7))
    w["empty_today"] = make_meeting(sec, on=TODAY)
    make_meeting(sec, on=date(2020, 2, 10))  # empty, but more than a week away
    make_meeting(sec, on=date(2020, 1, 31))  # empty, but past
    w["held"] = w["amending_meeting"]
    meetings.hold(sec, w["held"])
    confirmed = db.session.get(Meeting, item_meeting_id(w["approved"]))
    meetings.hold(sec, confirmed)
    meetings.confirm(sec, confirmed)
    db.session.commit()

    i = lambda key: w[key].id  # noqa: E731
    w["expected"] = {
        "own": {
            ("draft", i("draft")),
            ("returned", i("returned")),
            ("amend", i("amending")),
            ("amendment_returned", i("amendment_returned")),
            ("forwarded", i("forwarded")),
            ("returned", i("remanded")),
        },
        "other": {("draft", i("other_draft")), ("returned", i("other_returned"))},
        "sec": {
            ("intake", i("submitted")),
            ("intake", i("late")),
            ("amendment_to_confirm", i("amendment_submitted")),
            ("public_comment_closing", i("comment_closing")),
            ("public_comment_results", i("comment_closed")),
            ("empty_agenda", i("empty_soon")),
            ("empty_agenda", i("empty_today")),
            ("minutes", i("held")),
        },
        "viewer": set(),
        "admin": set(),
    }
    return w
