"""様式２ の版 (DOMAIN §9) on the pages: the item's versions, the difference between any two, and
the form frozen for a meeting as PDF."""

from __future__ import annotations

import json

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from workflow.extensions import db
from workflow.models import Meeting, MeetingKind
from workflow.permissions import can_read_meeting
from workflow.queries import versions
from workflow.states.states import (
    CoordinationStatus,
    CouncilChannel,
    OrdinanceChange,
    OrdinanceKind,
    PressRelease,
    SubmissionLabel,
)
from workflow.views.items import _load

bp = Blueprint("versions", __name__, url_prefix="/items")


def _number(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else default


# The parts of the fields made of several values, as the difference names them.
PART_LABELS: dict[str, str] = {
    "when": "時期",
    "meeting": "打合せ・会議",
    "content": "内容",
    "remarks": "備考",
    "planned": "実施",
    "period_text": "実施時期",
    "channel": "提供先",
    "timing": "時期",
    "regular_session": "定例会議",
    "kind": "種別",
    "change": "制定・改正等",
    "council_submission": "時期",
    "submission_label": "時期の見出し",
    "department": "関係部局",
    "status": "調整状況",
    "heading": "見出し",
    "body": "本文",
    "text": "追記",
}

# Coded values of those parts, shown by their Japanese labels.
CODED: dict[str, dict[str, str]] = {
    "channel": {m.value: m.label for m in CouncilChannel},
    "kind": {m.value: m.label for m in OrdinanceKind},
    "change": {m.value: m.label for m in OrdinanceChange},
    "submission_label": {m.value: m.label for m in SubmissionLabel},
    "status": {m.value: m.label for m in CoordinationStatus},
    "press_release": {m.value: m.label for m in PressRelease},
}


def _shown(value, key: str = "") -> str:
    """A field's value as the difference shows it: text as typed, rows one per line, the parts
    of a row by their Japanese names, coded values by their labels."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "あり" if value else "なし"
    if isinstance(value, str):
        return CODED.get(key, {}).get(value, value)
    if isinstance(value, list):
        if key == "route":
            names = {k.code: k.name for k in db.session.query(MeetingKind)}
            return " → ".join(names.get(v, str(v)) for v in value)
        return "\n".join(_shown(v, key) for v in value)
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            # Which opinion a note is under is an id: not something a reader can use.
            if k != "opinion_id" and v not in ("", None):
                parts.append(f"{PART_LABELS.get(k, k)}: {_shown(v, k)}")
        return "　".join(parts)
    return json.dumps(value, ensure_ascii=False)


@bp.get("/<int:item_id>/versions")
@login_required
def index(item_id: int) -> str:
    """The versions, and the field-by-field difference of the two chosen (default: the last two)."""
    item = _load(item_id)
    rows = versions.versions_of(item)
    frozen = versions.frozen_for(item)
    meetings = {
        m.id: m
        for m in db.session.query(Meeting).filter(
            Meeting.id.in_([i for ids in frozen.values() for i in ids])
        )
        if can_read_meeting(current_user, m)
    }
    by_number = {v.number: v for v in rows}
    last = rows[-1].number if rows else 0
    new = _number("b", last)
    old = _number("a", max(new - 1, 1))
    changes = None
    if old in by_number and new in by_number:
        changes = [
            (c.label, _shown(c.before, c.key), _shown(c.after, c.key))
            for c in versions.difference(by_number[old].fields, by_number[new].fields)
        ]
    return render_template(
        "items/versions.html",
        item=item,
        versions=rows,
        frozen={v.id: [meetings[i] for i in frozen.get(v.id, []) if i in meetings] for v in rows},
        old=old,
        new=new,
        changes=changes,
    )
