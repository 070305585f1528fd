"""Validators every form shares, with the same Japanese messages the services give.

The limits are those of workflow.schemas.limits, which the services check too; checking them in
the form as well puts the message beside the field before anything reaches the database.
"""

from __future__ import annotations

from wtforms import Field, Form
from wtforms.validators import NumberRange, ValidationError

from workflow.schemas.limits import ID_MAX, UNSTORABLE_MESSAGE, too_long_message
from workflow.schemas.limits import storable as storable_text


class MaxLength:
    """At most *limit* characters; the message says how many there are now."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # No maxlength attribute: a browser would cut pasted text silently; the message is clearer.
        self.field_flags = {}

    def __call__(self, form: Form, field: Field) -> None:
        value = field.data or ""
        if isinstance(value, str) and len(value) > self.limit:
            raise ValidationError(too_long_message(self.limit, len(value)))


def storable(form: Form, field: Field) -> None:
    """No NUL (PostgreSQL cannot store it) and no lone surrogate (not encodable as UTF-8)."""
    if isinstance(field.data, str) and not storable_text(field.data):
        raise ValidationError(UNSTORABLE_MESSAGE)


def an_id() -> NumberRange:
    """A row id: a positive 32-bit integer."""
    return NumberRange(1, ID_MAX, "正しい番号を指定してください。")
