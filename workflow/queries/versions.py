"""The versions of an item's 様式２ (DOMAIN §9), read: the field set, the list, a difference.

A version keeps :func:`form_fields` of the item as it was saved; the current form is the item's
own columns. Written by :mod:`workflow.services.versions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from workflow.extensions import db
from workflow.models import AgendaEntry, Item, ItemVersion
from workflow.schemas import items


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def form_fields(item: Item) -> items.ItemFields:
    """The 様式２ fields as typed, in the API's keys (``history_rows`` are DOMAIN's ``history``:
    検討経過): what ``GET /api/v1/items/{id}`` shows and what a version keeps."""
    return {
        "title": item.title,
        "applied_on": iso(item.applied_on),
        "target_kind": item.target_kind,
        "bureau": item.bureau,
        "division": item.division,
        "section": item.section.name,
        "contact": item.contact,
        "extension": item.extension,
        "policy_ref": item.policy_ref,
        "in_implementation_plan": item.in_implementation_plan,
        "summary": item.summary,
        "discussion_points": [p.text for p in item.discussion_points],
        "history_rows": [
            {"when": r.when, "meeting": r.meeting, "content": r.content, "remarks": r.remarks}
            for r in item.history_rows
        ],
        "public_comment": {
            "planned": item.public_comment_planned,
            "period_text": item.public_comment_period_text,
        },
        "press_release": item.press_release.value,
        "council_report": {
            "channel": item.council_channel.value,
            "timing": item.council_timing,
            "regular_session": item.council_regular_session,
        },
        "ordinance": {
            "kind": item.ordinance_kind.value,
            "change": item.ordinance_change.value if item.ordinance_change else None,
            "council_submission": item.ordinance_council_submission,
            "submission_label": item.ordinance_submission_label.value,
        },
        "advisory_body": item.advisory_body,
        "personal_info_use": item.personal_info_use,
        "coordination": [
            {"department": c.department, "content": c.content, "status": c.status.value}
            for c in item.coordination
        ],
        "schedule_notes": item.schedule_notes,
        "remarks": item.remarks,
        "details": [{"heading": d.heading, "body": d.body} for d in item.details],
        "opinion_notes": [{"opinion_id": n.opinion_id, "text": n.text} for n in item.opinion_notes],
        "route": item.route,
    }


def versions_of(item: Item) -> list[ItemVersion]:
    """The item's versions, oldest first."""
    return list(
        db.session.scalars(
            select(ItemVersion).where(ItemVersion.item_id == item.id).order_by(ItemVersion.number)
        )
    )


def version_of(item: Item, number: int) -> ItemVersion | None:
    return db.session.scalar(
        select(ItemVersion).where(ItemVersion.item_id == item.id, ItemVersion.number == number)
    )


def frozen_for(item: Item) -> dict[int, list[int]]:
    """Version id → the ids of the meetings that version was frozen for."""
    rows = db.session.execute(
        select(AgendaEntry.form_version_id, AgendaEntry.meeting_id)
        .where(AgendaEntry.item_id == item.id, AgendaEntry.form_version_id.is_not(None))
        .order_by(AgendaEntry.meeting_id)
    )
    found: dict[int, list[int]] = {}
    for version_id, meeting_id in rows:
        found.setdefault(version_id, []).append(meeting_id)
    return found


# The labels of the fields a difference names, in the form's order.
FIELD_LABELS: dict[str, str] = {
    "title": "案件名",
    "applied_on": "申込日",
    "target_kind": "付議先",
    "bureau": "局・区",
    "division": "部",
    "section": "課",
    "contact": "担当者",
    "extension": "内線",
    "policy_ref": "施策番号及び実施計画事業名",
    "in_implementation_plan": "実施計画の位置付け",
    "summary": "概要",
    "discussion_points": "審議内容（論点）",
    "history_rows": "検討経過等",
    "opinion_notes": "これまでの意見への追記",
    "public_comment": "パブリックコメント",
    "press_release": "報道への情報提供",
    "council_report": "議会への情報提供",
    "ordinance": "条例等の調整",
    "advisory_body": "審議会等、協議会等の設置",
    "personal_info_use": "個人情報の目的外利用等",
    "coordination": "関係部局との調整",
    "schedule_notes": "日程等調整事項",
    "remarks": "備考",
    "details": "事案の具体的な内容",
    "route": "審議の経路",
}


@dataclass(frozen=True)
class FieldChange:
    key: str
    label: str
    before: Any
    after: Any


def difference(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """The fields whose value differs between two field sets, in the form's order.

    A key a version made before a field existed lacks counts as the field's empty value.
    """
    keys = [*FIELD_LABELS, *(k for k in {**before, **after} if k not in FIELD_LABELS)]
    return [
        FieldChange(key, FIELD_LABELS.get(key, key), before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    ]
