"""Jinja filters: 和暦 dates and labels, shared by pages and PDFs."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from workflow import wareki


def wareki_date(value: date | datetime | None, fullwidth: bool = True) -> str:
    """「令和元年１０月１１日」; empty for no date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return wareki.to_wareki(value, fullwidth=fullwidth)


def wareki_short(value: date | None) -> str:
    """「R1.10.11」; empty for no date."""
    return wareki.to_wareki_short(value) if value else ""


def fullwidth(value: object) -> str:
    return wareki.to_fullwidth_digits(str(value))


# A line the author already marked keeps its mark: 「・」 sub-points, 「※」 notes, 「①」 numbering.
BULLET_MARKS = ("○", "〇", "●", "◎", "・", "※", "■", "□", *map(chr, range(0x2460, 0x2474)))


def bullet(value: object) -> str:
    """A 論点 line as printed: 「○」 before it, unless it starts with a mark of its own."""
    text = str(value)
    return text if text.startswith(BULLET_MARKS) else "○" + text


def register(env) -> None:
    """Add the filters to a Jinja environment (the app's or the PDF renderer's)."""
    env.filters["wareki"] = wareki_date
    env.filters["wareki_short"] = wareki_short
    env.filters["fullwidth"] = fullwidth
    env.filters["bullet"] = bullet
    env.filters["fiscal_year_label"] = wareki.fiscal_year_label


def init_app(app: Flask) -> None:
    register(app.jinja_env)
