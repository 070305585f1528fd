"""様式２ の版 (DOMAIN §9) on the pages: the item's versions, the difference between any two, and
the form frozen for a meeting as PDF."""

from __future__ import annotations

import json

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from workflow.extensions import db
from workflow.models import Item, Meeting
from workflow.permissions import can_read_item, can_read_meeting
from workflow.queries import versions

bp = Blueprint("versions", __name__, url_prefix="/items")


def _item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None:
        abort(404)
    if not can_read_item(current_user, item):
        abort(403)
    return item


def _number(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else default


def _shown(value) -> str:
    """A field's value as the difference shows it: text as typed, rows one per line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "あり" if value else "なし"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return "　".join(f"{k}: {_shown(v)}" for k, v in value.items() if v not in ("", None))
    return json.dumps(value, ensure_ascii=False)


@bp.get("/<int:item_id>/versions")
@login_required
def index(item_id: int) -> str:
    """The versions, and the field-by-field difference of the two chosen (default: the last two)."""
    item = _item(item_id)
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
            (c.label, _shown(c.before), _shown(c.after))
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
