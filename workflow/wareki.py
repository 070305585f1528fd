# No library: japanera 2.1.3 (measured) rejects 令和元年 and full-width digits, accepts 令和00年.
"""和暦 (Japanese era calendar): format, parse and name fiscal years, 明治 onwards."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = [
    "ERAS",
    "Era",
    "WarekiError",
    "era_year",
    "fiscal_year",
    "fiscal_year_label",
    "parse_wareki",
    "to_fullwidth_digits",
    "to_halfwidth_digits",
    "to_wareki",
    "to_wareki_short",
]


class WarekiError(ValueError):
    """A date that cannot be read or does not exist; the message is Japanese, for end users."""


@dataclass(frozen=True, slots=True)
class Era:
    """One era: kanji name, one-letter abbreviation and its first day (Gregorian)."""

    name: str
    abbr: str
    start: date


# Oldest first. The dates are the commonly used Gregorian ones; 明治元年 is counted
# retroactively from 慶応4年1月1日 (1868-01-25), as official tables do.
ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 1, 25)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("令和", "R", date(2019, 5, 1)),
)

_BY_NAME: dict[str, Era] = {era.name: era for era in ERAS}
_BY_ABBR: dict[str, Era] = {era.abbr: era for era in ERAS}
_ERA_LIST = "・".join(era.name for era in ERAS)
_ABBR_LIST = "・".join(era.abbr for era in ERAS)
_MEIJI_FROM = f"明治は{ERAS[0].start.year}年{ERAS[0].start.month}月{ERAS[0].start.day}日から"

_TO_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_TO_HALFWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
# NFKC already folds full-width ．／－ to ASCII; these look-alikes survive it and are
# what Japanese IMEs and copy-paste from Word produce when someone types a dash.
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ー", "-"))

# Digit runs are bounded so int() never sees an absurd string and Gregorian years stay
# within what datetime.date accepts.
_KANJI_FORM = re.compile(
    r"(?P<era>[^0-9]*?)(?P<year>元|[0-9]{1,4})年(?P<month>[0-9]{1,2})月(?P<day>[0-9]{1,2})日"
)
_SEPARATED_FORM = re.compile(
    r"(?P<era>[^0-9]*?)(?P<year>元|[0-9]{1,4})(?P<sep>[./-])"
    r"(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
)
_EXAMPLES = "例：令和元年10月11日、R1.10.11"


def _era_end(era: Era) -> date | None:
    """Last day of an era, or None for the current one."""
    index = ERAS.index(era)
    if index + 1 == len(ERAS):
        return None
    return ERAS[index + 1].start - timedelta(days=1)


def _era_of(d: date) -> Era:
    """The era in force on d."""
    # datetime is a date subclass but refuses to compare with date, so drop the time.
    day = d.date() if isinstance(d, datetime) else d
    for era in reversed(ERAS):
        if day >= era.start:
            return era
    raise WarekiError(f"{day.isoformat()}は明治より前の日付のため扱えません（{_MEIJI_FROM}）")


def to_fullwidth_digits(s: str) -> str:
    """Replace ASCII digits 0-9 with full-width ０-９; everything else is unchanged."""
    return s.translate(_TO_FULLWIDTH)


def to_halfwidth_digits(s: str) -> str:
    """Replace full-width digits ０-９ with ASCII 0-9; everything else is unchanged."""
    return s.translate(_TO_HALFWIDTH)


def era_year(d: date) -> tuple[str, int]:
    """Era name and year within the era, e.g. ("令和", 1) for 2019-10-11."""
    era = _era_of(d)
    return era.name, d.year - era.start.year + 1


def to_wareki(d: date, *, fullwidth: bool = True) -> str:
    """Format as 「令和元年１０月１１日」 (ASCII digits if fullwidth is False; no padding)."""
    name, year = era_year(d)
    text = f"{name}{_year_text(year)}年{d.month}月{d.day}日"
    return to_fullwidth_digits(text) if fullwidth else text


def to_wareki_short(d: date) -> str:
    """Format as 「R1.10.11」: era letter, ASCII digits, year 1 written as 1."""
    era = _era_of(d)
    return f"{era.abbr}{d.year - era.start.year + 1}.{d.month}.{d.day}"


def fiscal_year(d: date) -> int:
    """Gregorian 年度 (April to March) that d falls in: 2020-03-31 -> 2019."""
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_label(fy: int, *, fullwidth: bool = True) -> str:
    """年度 label in 和暦 for Gregorian fiscal year fy, e.g. 2019 -> 「令和元年度」."""
    # A 年度 is named after the era in force on its last day (March 31 of fy+1): FY2019
    # began on 2019-04-01, still 平成31年, but the city (like common practice) calls it
    # 令和元年度, not 平成31年度.
    era = _era_of(date(fy + 1, 3, 31))
    # Exception: an era that began in January-March of fy+1 would give year 0 for fy.
    # That happened once: 平成 began 1989-01-08 and FY1988 is 昭和63年度, so use the era
    # in force at the end of calendar year fy instead.
    if era.start.year > fy:
        era = _era_of(date(fy, 12, 31))
    text = f"{era.name}{_year_text(fy - era.start.year + 1)}年度"
    return to_fullwidth_digits(text) if fullwidth else text


def parse_wareki(text: str) -> date:
    """Read a 和暦 or Gregorian date typed into a form; raise WarekiError (Japanese) if not."""
    if not isinstance(text, str):
        raise TypeError(f"parse_wareki() expects str, got {type(text).__name__}")
    # NFKC folds full-width digits, letters and punctuation (Ｒ１．１０ -> R1.10) and the
    # one-character era ligatures (㋿ -> 令和); whitespace is then meaningless.
    normalized = unicodedata.normalize("NFKC", text).translate(_DASHES)
    compact = re.sub(r"\s+", "", normalized)
    if not compact:
        raise WarekiError("日付が入力されていません")

    match = _KANJI_FORM.fullmatch(compact) or _SEPARATED_FORM.fullmatch(compact)
    if match is None:
        raise WarekiError(f"「{text.strip()}」は日付として読み取れません（{_EXAMPLES}）")

    era_text, year_text = match["era"], match["year"]
    month, day = int(match["month"]), int(match["day"])
    if not era_text:
        return _gregorian(year_text, month, day)
    return _era_date(era_text, year_text, month, day)


def _year_text(year: int) -> str:
    """Year within an era as written in kanji forms: 1 is 元."""
    return "元" if year == 1 else str(year)


def _gregorian(year_text: str, month: int, day: int) -> date:
    """Validate a date given without an era; only a 4-digit year counts as Gregorian."""
    if year_text == "元":
        raise WarekiError("「元年」には元号が必要です（例: 令和元年）")
    if len(year_text) != 4:
        # 「31年5月25日」 could be any era; guessing would silently file the wrong year.
        raise WarekiError(
            f"「{year_text}年」には元号が必要です（例: 令和元年、R1）。"
            "西暦なら4桁で書いてください（例: 2019年）"
        )
    year = int(year_text)
    label = f"{year}年{month}月{day}日"
    # Pre-明治 dates are refused because they could never be shown in 和暦 afterwards; the
    # year is checked first so that 「0000」 never reaches datetime.date.
    if year < ERAS[0].start.year:
        raise WarekiError(f"{label}は明治より前の日付のため扱えません（{_MEIJI_FROM}）")
    result = _checked_date(label, year, month, day)
    if result < ERAS[0].start:
        raise WarekiError(f"{label}は明治より前の日付のため扱えません（{_MEIJI_FROM}）")
    return result


def _era_date(era_text: str, year_text: str, month: int, day: int) -> date:
    """Validate a date given as era + year within the era."""
    era = _BY_NAME.get(era_text) or _BY_ABBR.get(era_text.upper())
    if era is None:
        raise WarekiError(
            f"「{era_text}」は対応していない元号です（{_ERA_LIST}、または略号{_ABBR_LIST}）"
        )

    nth = 1 if year_text == "元" else int(year_text)
    if nth == 0:
        raise WarekiError(f"{era.name}0年という年はありません（最初の年は{era.name}元年です）")
    label = f"{era.name}{year_text if year_text == '元' else nth}年{month}月{day}日"

    year = era.start.year + nth - 1
    if year > date.max.year:
        raise WarekiError(f"{era.name}{nth}年は扱える範囲を超えています")
    result = _checked_date(label, year, month, day)

    if result < era.start:
        since = to_wareki(era.start, fullwidth=False)
        raise WarekiError(f"{label}は存在しない日付です（{era.name}は{since}から）")
    end = _era_end(era)
    if end is not None and result > end:
        until = to_wareki(end, fullwidth=False)
        raise WarekiError(f"{label}は存在しない日付です（{era.name}は{until}まで）")
    return result


def _checked_date(label: str, year: int, month: int, day: int) -> date:
    """Build a date, explaining in Japanese which part is out of range."""
    if not 1 <= month <= 12:
        raise WarekiError(f"{label}は存在しない日付です（{month}月という月はありません）")
    last_day = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last_day:
        raise WarekiError(f"{label}は存在しない日付です（{year}年{month}月は{last_day}日まで）")
    return date(year, month, day)
