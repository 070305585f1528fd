"""The versions of an item's 様式２ (DOMAIN §9), read: the field set, the list, a difference.

A version keeps :func:`form_fields` of the item as it was saved; the current form is the item's
own columns. Written by :mod:`workflow.services.versions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from workflow.extensions import db
from workflow.models import AgendaEntry, Item, ItemVersion, Meeting, MeetingKind, User
from workflow.permissions import public_entries
from workflow.schemas import items
from workflow.states.states import (
    CoordinationStatus,
    CouncilChannel,
    LabelledEnum,
    OrdinanceChange,
    OrdinanceKind,
    PressRelease,
    SubmissionLabel,
)


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


def _yes_no(value: bool) -> str:
    return "あり" if value else "なし"


def _label(enum_cls: type[LabelledEnum], value: str | None) -> str:
    return enum_cls(value).label if value else ""


def _ordinance_text(ordinance: dict) -> str:
    """「なし」, 「条例 改廃あり」: the ordinance row as the city prints it."""
    if ordinance["kind"] == OrdinanceKind.NONE.value:
        return OrdinanceKind.NONE.label
    change = _label(OrdinanceChange, ordinance.get("change"))
    return f"{_label(OrdinanceKind, ordinance['kind'])} {change}あり"


def printed_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A field set (:func:`form_fields`, or a version's) as 様式２ prints it: choices as the city
    prints their value (「報道への情報提供 なし」), dates as dates. The PDF and the pages that
    show the form read the same strings."""
    council = fields["council_report"]
    ordinance = fields["ordinance"]
    target = db.session.get(MeetingKind, fields["target_kind"]) if fields["target_kind"] else None
    return {
        "applied_on": date.fromisoformat(fields["applied_on"]) if fields["applied_on"] else None,
        "title": fields["title"],
        "target": target.name if target else "",
        "bureau": fields["bureau"],
        "division": fields["division"],
        "section": fields["section"],
        "contact": fields["contact"],
        "extension": fields["extension"],
        "policy_ref": fields["policy_ref"],
        "in_implementation_plan": _yes_no(fields["in_implementation_plan"]),
        "summary": fields["summary"],
        "discussion_points": list(fields["discussion_points"]),
        "history": [
            {
                "when": row["when"],
                "meeting": row["meeting"],
                "content": row["content"],
                "remarks": row.get("remarks", ""),
            }
            for row in fields["history_rows"]
        ],
        "public_comment": _yes_no(fields["public_comment"]["planned"]),
        "public_comment_period": fields["public_comment"]["period_text"],
        "press_release": _label(PressRelease, fields["press_release"]),
        "council_channel": _label(CouncilChannel, council["channel"]),
        "council_timing": council["timing"]
        + ("定例会議" if council.get("regular_session") else ""),
        "ordinance": _ordinance_text(ordinance),
        "ordinance_submission_label": _label(
            SubmissionLabel, ordinance.get("submission_label") or SubmissionLabel.PROPOSAL.value
        ),
        "ordinance_council_submission": ordinance["council_submission"],
        "advisory_body": _yes_no(fields["advisory_body"]),
        "personal_info_use": _yes_no(fields["personal_info_use"]),
        "coordination": [
            {
                "department": row["department"],
                "content": row["content"],
                "status": _label(CoordinationStatus, row["status"]),
            }
            for row in fields["coordination"]
        ],
        "schedule_notes": fields["schedule_notes"],
        "remarks": fields["remarks"],
        "details": [{"heading": d["heading"], "body": d["body"]} for d in fields["details"]],
    }


def published_entry(item: Item) -> AgendaEntry | None:
    """The item's entry at its latest meeting whose minutes are published, where the public sees
    it (not 非公開): the public reads the form filed for it (DOMAIN §9), not one revised since."""
    return db.session.scalar(
        select(AgendaEntry)
        .join(Meeting, AgendaEntry.meeting_id == Meeting.id)
        .where(AgendaEntry.item_id == item.id, public_entries())
        .order_by(Meeting.date.desc(), Meeting.id.desc())
        .limit(1)
    )


def public_fields(item: Item) -> dict[str, Any]:
    """The 様式２ fields the public may read: those frozen for the latest published meeting
    (an entry made before versions existed: the current form)."""
    entry = published_entry(item)
    if entry is not None and entry.form_version is not None:
        return entry.form_version.fields
    return form_fields(item)


def fields_for(reader: User | None, item: Item) -> dict[str, Any]:
    """The 様式２ fields *reader* reads: staff the current form, the public the published one."""
    if reader is not None and getattr(reader, "is_authenticated", False):
        return form_fields(item)
    return public_fields(item)


def versions_of(item: Item) -> list[ItemVersion]:
    """The item's versions, oldest first."""
    return list(
        db.session.scalars(
            select(ItemVersion).where(ItemVersion.item_id == item.id).order_by(ItemVersion.number)
        )
    )


def latest_number(item: Item) -> int:
    """The number of the item's latest version (0: none yet)."""
    number = db.session.scalar(
        select(func.max(ItemVersion.number)).where(ItemVersion.item_id == item.id)
    )
    return number or 0


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
