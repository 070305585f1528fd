"""Factories that build rows through the services, so every status is reached the real way."""

from __future__ import annotations

import functools
import itertools
from datetime import date
from typing import Any

from werkzeug.security import generate_password_hash

from workflow.extensions import db
from workflow.models import Item, Meeting, Section, User
from workflow.services import items, meetings, public_comment
from workflow.states.states import ItemStatus, Role

_seq = itertools.count(1)

PASSWORD = "correct-horse-battery"


@functools.cache
def _password_hash() -> str:
    """Hash PASSWORD once: scrypt is slow on purpose, and every test makes users."""
    return generate_password_hash(PASSWORD)


def make_section(name: str | None = None, **kw: Any) -> Section:
    section = Section(name=name or f"テスト課{next(_seq)}", **kw)
    db.session.add(section)
    db.session.flush()
    return section


def make_user(role: Role | str = Role.DEPARTMENT, section: Section | None = None, **kw) -> User:
    role = Role(role)
    n = next(_seq)
    if role == Role.DEPARTMENT and section is None:
        section = make_section()
    user = User(
        login=kw.pop("login", f"user{n}"),
        display_name=kw.pop("display_name", f"利用者{n}"),
        role=role,
        section=section,
        **kw,
    )
    user.password_hash = _password_hash()
    db.session.add(user)
    db.session.flush()
    return user


def make_meeting(
    secretariat: User, kind: str = "section_managers", on: date = date(2019, 8, 21), **kw
) -> Meeting:
    return meetings.create_meeting(secretariat, kind=kind, date_=on, **kw)


# The statuses make_item can reach, and the path to each.
_PATH = {
    ItemStatus.DRAFT: [],
    ItemStatus.SUBMITTED: ["submit"],
    ItemStatus.RETURNED: ["submit", "return"],
    ItemStatus.ACCEPTED: ["submit", "accept"],
    ItemStatus.SCHEDULED: ["submit", "accept", "schedule"],
    ItemStatus.AMENDING: ["submit", "accept", "schedule", "amend"],
    ItemStatus.AMENDMENT_SUBMITTED: ["submit", "accept", "schedule", "amend", "submit_amendment"],
    ItemStatus.APPROVED: ["submit", "accept", "schedule", "approve"],
    ItemStatus.PUBLIC_COMMENT: ["submit", "accept", "schedule", "approve", "open"],
    ItemStatus.PUBLIC_COMMENT_CLOSED: ["submit", "accept", "schedule", "approve", "open", "close"],
    ItemStatus.CONCLUDED: ["submit", "accept", "schedule", "approve", "conclude"],
    ItemStatus.WITHDRAWN: ["withdraw"],
}


def make_item(
    status: ItemStatus | str = ItemStatus.DRAFT,
    *,
    department: User | None = None,
    secretariat: User | None = None,
    **fields: Any,
) -> Item:
    """An item in *status*, reached through the services (history rows included)."""
    status = ItemStatus(status)
    department = department or make_user(Role.DEPARTMENT)
    secretariat = secretariat or make_user(Role.SECRETARIAT)
    data = {"title": f"テスト案件{next(_seq)}", "section": department.section.name}
    data.update(complete_fields(department.section, fields.get("route")), **fields)
    if status in (ItemStatus.PUBLIC_COMMENT, ItemStatus.PUBLIC_COMMENT_CLOSED):
        data.setdefault("public_comment", {"planned": True, "period_text": "令和2年1月～2月"})
    item = items.file_item(department, data)
    for step in _PATH[status]:
        match step:
            case "submit":
                items.submit(department, item)
            case "return":
                items.return_item(secretariat, item, "記載が不足しています。")
            case "accept":
                items.accept(secretariat, item)
            case "schedule":
                meeting = make_meeting(secretariat, kind=item.level_kind)
                meetings.schedule(secretariat, meeting, item, "担当課長")
            case "amend" | "approve":
                meeting = db.session.get(Meeting, item_meeting_id(item))
                outcome = "approved_with_amendments" if step == "amend" else "approved"
                meetings.record_outcome(secretariat, meeting, item, outcome)
            case "submit_amendment":
                items.submit_amendment(department, item)
            case "open":
                public_comment.open_public_comment(
                    secretariat,
                    item,
                    published_on=date(2020, 1, 6),
                    closes_on=date(2020, 2, 4),
                    how_to_submit="電子メール",
                )
            case "close":
                public_comment.close(secretariat, item, on=date(2020, 2, 5))
            case "conclude":
                items.conclude(secretariat, item)
            case "withdraw":
                items.withdraw(department, item, "事業を見送るため")
    assert item.status == status
    return item


# What a request needs besides its title and section to be submitted (services.items
# .missing_fields): make_item's items are complete unless a test says otherwise.
COMPLETE_ROUTE = ["section_managers", "policy_coordination"]


def complete_fields(section: Section, route: list[str] | None = None) -> dict[str, Any]:
    """The required 様式２ fields, filled: 付議先 is the last ladder kind of *route*."""
    from workflow.models import review_kinds

    route = list(COMPLETE_ROUTE if route is None else route)
    ladder = [kind for kind in route if kind not in review_kinds()]
    return {
        "applied_on": "2019-08-01",
        "route": route,
        "target_kind": ladder[-1] if ladder else None,
        "bureau": section.bureau or "テスト局",
        "division": section.division or "",
        "summary": "テストのための案件の概要。",
        "discussion_points": ["テストの論点"],
    }


def item_meeting_id(item: Item) -> int:
    from workflow.queries.item_view import item_entries

    return item_entries(item)[-1].meeting_id


# What each meeting of make_item_published_then_held records: text distinctive enough for a test
# to find in a page or a PDF.
PUBLISHED_MEETING = {
    "date": "令和元年８月２１日",
    "section": "公表済出席課",
    "opinion": "公表済みの会議で出た意見である。",
    "response": "公表済みの会議での回答である。",
    "notes": "公表済みの会議の特記事項である。",
    "result": "継続審議とする。",
}
HELD_MEETING = {
    "date": "令和元年９月１８日",
    "section": "未公表出席課",
    "opinion": "未公表の会議で出た意見である。",
    "response": "未公表の会議での回答である。",
    "notes": "未公表の会議の特記事項である。",
    "result": "原案を上部庁議へ付議する",
}


def make_item_published_then_held(secretariat: User, department: User | None = None) -> Item:
    """継続審議 at a 関係課長会議 whose minutes are published, then 付議 at a later one only held.

    Each meeting records PUBLISHED_MEETING's or HELD_MEETING's 出席課, 意見 → 回答 and 特記事項:
    the case for every rule about whose minutes a reader may read.
    """
    item = make_item(ItemStatus.SCHEDULED, department=department, secretariat=secretariat)
    first = db.session.get(Meeting, item_meeting_id(item))
    second = make_meeting(secretariat, on=date(2019, 9, 18))
    for meeting, said, outcome, forward_to in (
        (first, PUBLISHED_MEETING, "continued", None),
        (second, HELD_MEETING, "forwarded", "policy_coordination"),
    ):
        if meeting is second:  # 継続審議: on the agenda again
            meetings.schedule(secretariat, meeting, item, "担当課長")
        record = {
            "attendance": [{"section": said["section"], "deputy": False}],
            "opinions": [{"opinion": said["opinion"], "response": said["response"]}],
            "special_notes": said["notes"],
        }
        meetings.record_deliberation(secretariat, meeting, item, record)
        meetings.record_outcome(secretariat, meeting, item, outcome, forward_to)
        meetings.hold(secretariat, meeting)
    meetings.confirm(secretariat, first)
    meetings.publish(secretariat, first)
    db.session.commit()
    return item
