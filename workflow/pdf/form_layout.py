"""様式２: is the front too full for the roomy type? Counted from the text, before any layout.

The front must stay on one page, and WeasyPrint is never asked to lay it out twice: the request
is measured here in printed lines at the roomy size (10 pt), and one too tall for the page gets
the dense look (about 9 pt, 55 full-width characters a line in 主な意見), as the city prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import ceil

__all__ = ["FRONT_LINES", "front_lines", "is_dense"]

# Characters a line at the roomy size, per place on the front (full-width; a half-width
# character counts as half).
VALUE = 45  # a value cell beside a label
OPINION = 44  # ○ 主な意見, hanging by one character
RESPONSE = 43  # → 回答 and （→ …）, by two
HISTORY_WHEN, HISTORY_MEETING, HISTORY_CONTENT, HISTORY_REMARKS = 7, 15, 19, 5
COORDINATION_DEPARTMENT, COORDINATION_CONTENT = 8, 32
ATTENDEES_A_LINE = 4

# Printed lines the front holds at the roomy size, and what its fixed rows take (title, 申込日,
# 審議日, 所管, the 日程等調整事項 group, 審議会等, 備考, 結果等, the inner tables' headings and
# the padding of every row); a row of an inner table adds its padding and rules.
FRONT_LINES = 53
FIXED_LINES = 31
INNER_ROW = 0.3


def _width(text: str) -> float:
    return sum(1 if ord(ch) > 0xFF else 0.5 for ch in text)


def _lines(text: str | None, per_line: int) -> int:
    """Printed lines of *text* (its own line breaks kept) in a column of *per_line* characters."""
    if not text:
        return 0
    return sum(max(1, ceil(_width(line) / per_line)) for line in text.splitlines())


def _rows(rows: Iterable[Iterable[tuple[str | None, int]]]) -> float:
    """Printed lines of an inner table: each row as tall as its tallest cell."""
    return sum(max(max(_lines(text, width) for text, width in row), 1) + INNER_ROW for row in rows)


def front_lines(context: dict) -> float:
    """The front's height in printed lines at the roomy size (an estimate, on the safe side)."""
    lines: float = FIXED_LINES
    lines += max(2, _lines(context.get("summary"), VALUE))
    lines += max(2, sum(_lines(point, VALUE) for point in context.get("discussion_points", [])))
    lines += _rows(
        [
            (row.get("when"), HISTORY_WHEN),
            (row.get("meeting"), HISTORY_MEETING),
            (row.get("content"), HISTORY_CONTENT),
            (row.get("remarks"), HISTORY_REMARKS),
        ]
        for row in context.get("history", [])
    )
    for group in context.get("prior", []):
        lines += 1
        for op in group.get("opinions", []) or [{"opinion": "なし"}]:
            lines += _lines(op.get("opinion"), OPINION)
            lines += _lines(op.get("response"), RESPONSE)
            lines += sum(_lines(f, RESPONSE) for f in op.get("follow_ups", []))
    lines += _rows(
        [
            (row.get("department"), COORDINATION_DEPARTMENT),
            (row.get("content"), COORDINATION_CONTENT),
        ]
        for row in context.get("coordination", [])
    )
    lines += _lines(context.get("schedule_notes"), VALUE)
    lines += max(0, _lines(context.get("remarks"), VALUE) - 1)
    lines += max(0, ceil(len(context.get("attendance", [])) / ATTENDEES_A_LINE) - 3)
    lines += max(0, _lines(context.get("section_managers_result"), VALUE) - 1)
    return lines


def is_dense(context: dict) -> bool:
    """True when the roomy type would push the front past one page."""
    return front_lines(context) > FRONT_LINES
