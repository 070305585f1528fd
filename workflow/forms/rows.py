"""Repeatable rows without JavaScript: buttons named ``add_<list>``, ``remove_<list>-<n>``,
``up_<list>-<n>`` and ``down_<list>-<n>`` re-render the form server-side, keeping what was typed.

Rows are rebuilt from the submitted data (never by shuffling bound FieldList entries, whose
names carry their old indices) and the form is built again from that data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wtforms import Form

_ACTION = re.compile(r"^(add|remove|up|down)_([a-z_]+?)(?:-(\d+))?$")


@dataclass(frozen=True)
class RowAction:
    verb: str  # add | remove | up | down
    list_name: str
    index: int | None


def row_action(formdata: Mapping[str, Any], lists: tuple[str, ...]) -> RowAction | None:
    """The row button the user pressed, if any (only for the FieldLists named in *lists*)."""
    for key in formdata:
        match = _ACTION.match(key)
        if match and match[2] in lists:
            index = int(match[3]) if match[3] is not None else None
            if match[1] != "add" and index is None:
                continue
            return RowAction(match[1], match[2], index)
    return None


def apply_row_action(data: dict[str, Any], action: RowAction, blank: Any) -> int:
    """Change the list ``data[action.list_name]`` in place; return the index to focus."""
    rows = list(data.get(action.list_name) or [])
    i = action.index
    if action.verb == "add":
        rows.append(blank)
        focus = len(rows) - 1
    elif i is None or not 0 <= i < len(rows):
        focus = 0
    elif action.verb == "remove":
        rows.pop(i)
        focus = min(i, len(rows) - 1)
    elif action.verb == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
        focus = i - 1
    elif action.verb == "down" and i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
        focus = i + 1
    else:
        focus = i
    data[action.list_name] = rows
    return max(focus, 0)


def form_data(form: Form) -> dict[str, Any]:
    """The form's data without the CSRF token (to build the form again)."""
    data = dict(form.data)
    data.pop("csrf_token", None)
    return data
