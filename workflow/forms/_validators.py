"""Validators every form shares, with the same Japanese messages the services give.

The services check the same limits (workflow.services.item_fields); checking them in the form
as well puts the message beside the field before anything reaches the database.
"""

from __future__ import annotations

from wtforms import Field, Form
from wtforms.validators import NumberRange, ValidationError

from workflow.services.item_fields import _UNSTORABLE

MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer cannot exist; PostgreSQL refuses to compare them


class MaxLength:
    """At most *limit* characters; the message says how many there are now."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # No maxlength attribute: a browser would cut pasted text silently; the message is clearer.
        self.field_flags = {}

    def __call__(self, form: Form, field: Field) -> None:
        value = field.data or ""
        if isinstance(value, str) and len(value) > self.limit:
            raise ValidationError(
                f"{self.limit}文字以内で入力してください（現在{len(value)}文字）。"
            )


def storable(form: Form, field: Field) -> None:
    """No NUL (PostgreSQL cannot store it) and no lone surrogate (not encodable as UTF-8)."""
    if isinstance(field.data, str) and _UNSTORABLE.search(field.data):
        raise ValidationError("使用できない文字（制御文字など）が含まれています。")


def an_id() -> NumberRange:
    """A row id: a positive 32-bit integer."""
    return NumberRange(1, MAX_ID, "正しい番号を指定してください。")
