"""様式２ fields: validate a mapping of DOMAIN §3 field names and apply it to an item.

The API sends these keys as JSON; the pages' forms produce the same mapping. One validator
serves both, so the rules and the Japanese messages cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import select

from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import (
    Item,
    ItemCoordination,
    ItemDetail,
    ItemDiscussionPoint,
    ItemHistoryRow,
    ItemRouteStep,
    MeetingKind,
    Section,
)
from workflow.pdf import fonts
from workflow.states.states import (
    CoordinationStatus,
    CouncilChannel,
    OrdinanceChange,
    OrdinanceKind,
    PressRelease,
)
from workflow.wareki import WarekiError, parse_wareki

TITLE_MAX = 200
LINE_MAX = 200  # one-line fields: names, dates as text, timing
NAME_MAX = 100  # names of a section, bureau, person or job title (their columns are this wide)
TEXT_MAX = 20_000  # long text: summary, bodies, remarks
ROWS_MAX = 100  # rows of any repeatable part

# NUL cannot be stored by PostgreSQL; lone surrogates cannot be encoded as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

STANDARD_DETAIL_HEADINGS = (
    "事案の概要",
    "事業スケジュール",
    "市民等への周知、合意形成",
    "事業経費・財源",
    "財源確保の考え方",
    "事業実施の効果",
)


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)


def _text(errors: _Errors, field: str, value: Any, limit: int, *, required=False) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, "文字列で入力してください。")
        return None
    if _UNSTORABLE.search(value):
        errors.add(field, "使用できない文字（制御文字など）が含まれています。")
        return None
    value = value.strip() if limit <= LINE_MAX else value.rstrip()
    if required and not value:
        errors.add(field, "入力してください。")
        return None
    if len(value) > limit:
        errors.add(field, f"{limit}文字以内で入力してください（現在{len(value)}文字）。")
        return None
    try:
        # Refuse at input what the official forms could never print (it would be tofu).
        fonts.needs_fallback(value)
    except fonts.UnprintableCharacterError as exc:
        errors.add(field, exc.message)
        return None
    return value


def _bool(errors: _Errors, field: str, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    errors.add(field, "あり（true）かなし（false）で指定してください。")
    return None


def _choice(errors: _Errors, field: str, value: Any, enum_cls: type[Enum], *, nullable=False):
    if value is None and nullable:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        allowed = "、".join(f"{m.value}（{m.label}）" for m in enum_cls)
        errors.add(field, f"次のいずれかを指定してください: {allowed}")
        return None


def _date(errors: _Errors, field: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        errors.add(field, "日付（YYYY-MM-DD または 和暦）で入力してください。")
        return None
    try:
        return parse_wareki(value)
    except WarekiError as exc:
        errors.add(field, str(exc))
        return None


def _kind(errors: _Errors, field: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    if (
        isinstance(value, str)
        and not _UNSTORABLE.search(value)
        and db.session.get(MeetingKind, value) is not None
    ):
        return value
    errors.add(field, f"会議の種類「{value}」はありません。")
    return None


def _rows(errors: _Errors, field: str, value: Any, parse_row: Callable[[Any, str], Any]):
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(field, "一覧（配列）で指定してください。")
        return None
    if len(value) > ROWS_MAX:
        errors.add(field, f"{ROWS_MAX}行以内にしてください（現在{len(value)}行）。")
        return None
    rows = [parse_row(row, f"{field}[{n}]") for n, row in enumerate(value)]
    return None if any(r is None for r in rows) else rows


def _obj(errors: _Errors, field: str, value: Any) -> Mapping | None:
    if isinstance(value, Mapping):
        return value
    errors.add(field, "オブジェクトで指定してください。")
    return None


def validate_item_fields(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Check *data* (DOMAIN §3 keys, plus ``route``); return clean values or raise ValidationFailed.

    Keys that are absent are left alone (PATCH semantics); ``creating`` requires ``title``
    and ``section``.
    """
    errors = _Errors()
    clean: dict[str, Any] = {}
    known = set(_SCALARS) | set(_STRUCTURED)
    for key in data:
        if key not in known:
            errors.add(key, "この項目はありません。")
    for key in ("title", "section"):
        if creating and key not in data:
            errors.add(key, "入力してください。")

    for key, (parse, args) in _SCALARS.items():
        if key in data:
            value = parse(errors, key, data[key], *args)
            if key not in errors.fields:
                clean[key] = value
    for key, parse in _STRUCTURED.items():
        if key in data:
            value = parse(errors, key, data[key])
            if value is not None and not any(k.startswith(key) for k in errors.fields):
                clean[key] = value

    if errors.fields:
        first = next(iter(errors.fields.values()))[0]
        raise ValidationFailed(f"入力内容に誤りがあります: {first}", errors.fields)
    return clean


def _section(errors: _Errors, field: str, value: Any) -> Section | None:
    name = _text(errors, field, value, LINE_MAX, required=True)
    if name is None:
        return None
    section = db.session.scalar(select(Section).where(Section.name == name))
    if section is None:
        errors.add(field, f"課「{name}」は登録されていません。")
    return section


def _title(errors: _Errors, field: str, value: Any) -> str | None:
    return _text(errors, field, value, TITLE_MAX, required=True)


_SCALARS: dict[str, tuple[Callable, tuple]] = {
    "title": (_title, ()),
    "applied_on": (_date, ()),
    "target_kind": (_kind, ()),
    "section": (_section, ()),
    "bureau": (_text, (NAME_MAX,)),
    "division": (_text, (NAME_MAX,)),
    "contact": (_text, (NAME_MAX,)),
    "extension": (_text, (40,)),
    "policy_ref": (_text, (400,)),
    "in_implementation_plan": (_bool, ()),
    "summary": (_text, (TEXT_MAX,)),
    "press_release": (_choice, (PressRelease,)),
    "advisory_body": (_bool, ()),
    "personal_info_use": (_bool, ()),
    "schedule_notes": (_text, (TEXT_MAX,)),
    "remarks": (_text, (TEXT_MAX,)),
}


def _discussion_points(errors: _Errors, field: str, value: Any):
    return _rows(
        errors, field, value, lambda row, f: _text(errors, f, row, TEXT_MAX, required=True)
    )


def _history(errors: _Errors, field: str, value: Any):
    def row(raw: Any, f: str):
        obj = _obj(errors, f, raw)
        if obj is None:
            return None
        parts = {
            "when": _text(errors, f"{f}.when", obj.get("when"), NAME_MAX),
            "meeting": _text(errors, f"{f}.meeting", obj.get("meeting"), LINE_MAX),
            "content": _text(errors, f"{f}.content", obj.get("content"), TEXT_MAX),
        }
        return None if None in parts.values() else parts

    return _rows(errors, field, value, row)


def _coordination(errors: _Errors, field: str, value: Any):
    def row(raw: Any, f: str):
        obj = _obj(errors, f, raw)
        if obj is None:
            return None
        parts = {
            "department": _text(
                errors, f"{f}.department", obj.get("department"), NAME_MAX, required=True
            ),
            "content": _text(errors, f"{f}.content", obj.get("content"), TEXT_MAX),
            "status": _choice(
                errors, f"{f}.status", obj.get("status", "not_started"), CoordinationStatus
            ),
        }
        return None if None in parts.values() else parts

    return _rows(errors, field, value, row)


def _details(errors: _Errors, field: str, value: Any):
    def row(raw: Any, f: str):
        obj = _obj(errors, f, raw)
        if obj is None:
            return None
        parts = {
            "heading": _text(errors, f"{f}.heading", obj.get("heading"), LINE_MAX, required=True),
            "body": _text(errors, f"{f}.body", obj.get("body"), TEXT_MAX),
        }
        return None if None in parts.values() else parts

    return _rows(errors, field, value, row)


def _route(errors: _Errors, field: str, value: Any):
    kinds = _rows(errors, field, value, lambda row, f: _kind(errors, f, row))
    if kinds is not None and len(set(kinds)) != len(kinds):
        errors.add(field, "同じ会議を二度指定することはできません。")
        return None
    return kinds


def _public_comment(errors: _Errors, field: str, value: Any):
    obj = _obj(errors, field, value)
    if obj is None:
        return None
    planned = _bool(errors, f"{field}.planned", obj.get("planned", False))
    period = _text(errors, f"{field}.period_text", obj.get("period_text"), LINE_MAX)
    return (
        None if planned is None or period is None else {"planned": planned, "period_text": period}
    )


def _council_report(errors: _Errors, field: str, value: Any):
    obj = _obj(errors, field, value)
    if obj is None:
        return None
    channel = _choice(errors, f"{field}.channel", obj.get("channel", "none"), CouncilChannel)
    timing = _text(errors, f"{field}.timing", obj.get("timing"), LINE_MAX)
    return None if channel is None or timing is None else {"channel": channel, "timing": timing}


def _ordinance(errors: _Errors, field: str, value: Any):
    obj = _obj(errors, field, value)
    if obj is None:
        return None
    kind = _choice(errors, f"{field}.kind", obj.get("kind", "none"), OrdinanceKind)
    change = _choice(errors, f"{field}.change", obj.get("change"), OrdinanceChange, nullable=True)
    submission = _text(
        errors, f"{field}.council_submission", obj.get("council_submission"), LINE_MAX
    )
    if kind == OrdinanceKind.NONE and change is not None:
        errors.add(
            f"{field}.change", "条例等の種類が「なし」のときは、制定・改正等は指定できません。"
        )
        return None
    if None in (kind, submission):
        return None
    return {"kind": kind, "change": change, "council_submission": submission}


_STRUCTURED: dict[str, Callable] = {
    "discussion_points": _discussion_points,
    "history": _history,
    "coordination": _coordination,
    "details": _details,
    "route": _route,
    "public_comment": _public_comment,
    "council_report": _council_report,
    "ordinance": _ordinance,
}


def apply_item_fields(item: Item, clean: Mapping[str, Any]) -> None:
    """Write validated values (from :func:`validate_item_fields`) onto *item*."""
    for key, value in clean.items():
        match key:
            case "section":
                item.section = value
                item.bureau = clean.get("bureau", item.bureau) or value.bureau
                item.division = clean.get("division", item.division) or value.division
            case "discussion_points":
                item.discussion_points = [ItemDiscussionPoint(text=t) for t in value]
            case "history":
                item.history_rows = [ItemHistoryRow(**row) for row in value]
            case "coordination":
                item.coordination = [ItemCoordination(**row) for row in value]
            case "details":
                item.details = [ItemDetail(**row) for row in value]
            case "route":
                item.route_steps = [ItemRouteStep(kind=k) for k in value]
            case "public_comment":
                item.public_comment_planned = value["planned"]
                item.public_comment_period_text = value["period_text"]
            case "council_report":
                item.council_channel = value["channel"]
                item.council_timing = value["timing"]
            case "ordinance":
                item.ordinance_kind = value["kind"]
                item.ordinance_change = value["change"]
                item.ordinance_council_submission = value["council_submission"]
            case _:
                setattr(item, key, value)
