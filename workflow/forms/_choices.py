"""Select options as WTForms wants them (tuples are deprecated since WTForms 3.3)."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """[(value, label), …] as SelectChoice objects."""
    return [SelectChoice(value, label) for value, label in pairs]
