"""The error summary at the top of a form (GOV.UK / デジタル庁デザインシステム pattern): every
message of the form, in the order of its fields, each a link to the control it concerns.

Used by the ``error_summary`` macro of templates/macros/forms.html; any WTForms form works, and
a form's ``general_errors`` (messages that belong to no field) come last, without a link.
"""

from __future__ import annotations

from typing import NamedTuple

from wtforms import Field, FieldList, Form, FormField
from wtforms.widgets import ListWidget


class ErrorLink(NamedTuple):
    """One line of the summary: ``href`` is ``#id`` of the control, or "" for no link."""

    href: str
    text: str


def _short(label: str) -> str:
    """A label without its parenthesised note: 「付議先（申込書の会議名）」 → 「付議先」."""
    return label.split("（", 1)[0].strip()


def _target(field: Field) -> str:
    """The id to link to: the first box of a group of radios or checkboxes, else the control."""
    if isinstance(field.widget, ListWidget):
        return f"{field.id}-0"
    return field.id


def _line(field_id: str, label: str, message: str) -> ErrorLink:
    named = not label or _short(label) in message
    return ErrorLink(f"#{field_id}", message if named else f"{label}：{message}")


def _field_links(field: Field, label: str) -> list[ErrorLink]:
    if isinstance(field, FieldList):
        return _list_links(field, label)
    if isinstance(field, FormField):
        return [
            link
            for sub in field.form
            for link in _field_links(sub, f"{label} {_short(sub.label.text)}".strip())
        ]
    if field.type in ("HiddenField", "CSRFTokenField"):
        return []
    messages = [m for m in field.errors if isinstance(m, str)]
    return [_line(_target(field), label, m) for m in messages]


def _list_links(field: FieldList, label: str) -> list[ErrorLink]:
    """A list's own messages link to its first row; then each row's, named 「N行目」."""
    own = [m for m in field.errors if isinstance(m, str)]
    first = field.entries[0] if field.entries else None
    if first is None:
        anchor = field.id
    elif isinstance(first, FormField):
        visible = [f for f in first.form if f.type not in ("HiddenField", "CSRFTokenField")]
        anchor = _target(visible[0]) if visible else first.id
    else:
        anchor = _target(first)
    links = [_line(anchor, label, m) for m in own]
    for n, entry in enumerate(field.entries, start=1):
        links.extend(_field_links(entry, f"{_short(label)} {n}行目"))
    return links


def error_links(form: Form) -> list[ErrorLink]:
    """Every message of *form*: its fields' in their order, then its general ones."""
    links: list[ErrorLink] = []
    for field in form:
        links.extend(_field_links(field, field.label.text if field.label else ""))
    links.extend(ErrorLink("", m) for m in getattr(form, "general_errors", []) or [])
    return links
