"""Tests for workflow.wareki: 和暦 formatting, parsing and 年度 labels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.wareki import (
    ERAS,
    WarekiError,
    era_year,
    fiscal_year,
    fiscal_year_label,
    parse_wareki,
    to_fullwidth_digits,
    to_halfwidth_digits,
    to_wareki,
    to_wareki_short,
)

# database=None: the example database would write .hypothesis/ into the working tree.
ROUND_TRIP = settings(max_examples=300, deadline=None, database=None)
DATES_1900_2100 = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))


# --- era data ---------------------------------------------------------------------------


def test_eras_are_the_five_modern_eras_oldest_first() -> None:
    assert [(e.name, e.abbr, e.start) for e in ERAS] == [
        ("明治", "M", date(1868, 1, 25)),
        ("大正", "T", date(1912, 7, 30)),
        ("昭和", "S", date(1926, 12, 25)),
        ("平成", "H", date(1989, 1, 8)),
        ("令和", "R", date(2019, 5, 1)),
    ]


# --- formatting -------------------------------------------------------------------------

BOUNDARIES = [
    # (date, era, year, full-width, ASCII, short)
    (date(1868, 1, 25), "明治", 1, "明治元年１月２５日", "明治元年1月25日", "M1.1.25"),
    (date(1912, 7, 29), "明治", 45, "明治４５年７月２９日", "明治45年7月29日", "M45.7.29"),
    (date(1912, 7, 30), "大正", 1, "大正元年７月３０日", "大正元年7月30日", "T1.7.30"),
    (date(1926, 12, 24), "大正", 15, "大正１５年１２月２４日", "大正15年12月24日", "T15.12.24"),
    (date(1926, 12, 25), "昭和", 1, "昭和元年１２月２５日", "昭和元年12月25日", "S1.12.25"),
    (date(1989, 1, 7), "昭和", 64, "昭和６４年１月７日", "昭和64年1月7日", "S64.1.7"),
    (date(1989, 1, 8), "平成", 1, "平成元年１月８日", "平成元年1月8日", "H1.1.8"),
    (date(2019, 4, 30), "平成", 31, "平成３１年４月３０日", "平成31年4月30日", "H31.4.30"),
    (date(2019, 5, 1), "令和", 1, "令和元年５月１日", "令和元年5月1日", "R1.5.1"),
    (date(2019, 10, 11), "令和", 1, "令和元年１０月１１日", "令和元年10月11日", "R1.10.11"),
    (date(2019, 12, 31), "令和", 1, "令和元年１２月３１日", "令和元年12月31日", "R1.12.31"),
    (date(2020, 1, 1), "令和", 2, "令和２年１月１日", "令和2年1月1日", "R2.1.1"),
    (date(1990, 1, 1), "平成", 2, "平成２年１月１日", "平成2年1月1日", "H2.1.1"),
]


@pytest.mark.parametrize(("d", "era", "year", "full", "ascii_", "short"), BOUNDARIES)
def test_format_at_era_boundaries(
    d: date, era: str, year: int, full: str, ascii_: str, short: str
) -> None:
    assert era_year(d) == (era, year)
    assert to_wareki(d) == full
    assert to_wareki(d, fullwidth=True) == full
    assert to_wareki(d, fullwidth=False) == ascii_
    assert to_wareki_short(d) == short


@pytest.mark.parametrize(("d", "era", "year", "full", "ascii_", "short"), BOUNDARIES)
def test_parse_at_era_boundaries(
    d: date, era: str, year: int, full: str, ascii_: str, short: str
) -> None:
    assert parse_wareki(full) == d
    assert parse_wareki(ascii_) == d
    assert parse_wareki(short) == d


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2020, 5, 1), "令和2年5月1日"),
        (date(1989, 12, 31), "平成元年12月31日"),
        (date(1926, 12, 31), "昭和元年12月31日"),
        (date(1912, 12, 31), "大正元年12月31日"),
    ],
)
def test_first_year_is_gannen_only_in_kanji_form(d: date, expected: str) -> None:
    assert to_wareki(d, fullwidth=False) == expected
    # The short form never says 元: year 1 is just 1.
    assert "元" not in to_wareki_short(d)


def test_no_zero_padding() -> None:
    assert to_wareki(date(2021, 1, 5), fullwidth=False) == "令和3年1月5日"
    assert to_wareki(date(2021, 1, 5)) == "令和３年１月５日"
    assert to_wareki_short(date(2021, 1, 5)) == "R3.1.5"


def test_datetime_is_accepted_like_its_date() -> None:
    # datetime cannot be compared with date, so this guards the era lookup.
    moment = datetime(2019, 5, 1, 0, 0, 1)
    assert era_year(moment) == ("令和", 1)
    assert to_wareki(moment) == "令和元年５月１日"
    assert to_wareki_short(datetime(2019, 4, 30, 23, 59)) == "H31.4.30"


@pytest.mark.parametrize(
    "func",
    [to_wareki, to_wareki_short, era_year],
    ids=["to_wareki", "to_wareki_short", "era_year"],
)
@pytest.mark.parametrize("d", [date(1868, 1, 24), date(1800, 1, 1), date(1, 1, 1)])
def test_dates_before_meiji_raise(func: Callable[[date], object], d: date) -> None:
    with pytest.raises(WarekiError, match="明治より前") as excinfo:
        func(d)
    assert isinstance(excinfo.value, ValueError)


# --- digits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("half", "full"),
    [
        ("0123456789", "０１２３４５６７８９"),
        ("令和1年10月11日", "令和１年１０月１１日"),
        ("R1.10.11", "R１.１０.１１"),
        ("", ""),
        ("年度", "年度"),
    ],
)
def test_digit_width_conversion(half: str, full: str) -> None:
    assert to_fullwidth_digits(half) == full
    assert to_halfwidth_digits(full) == half


def test_digit_width_conversion_touches_only_digits() -> None:
    # Full-width letters and punctuation are not digits and must survive unchanged.
    assert to_halfwidth_digits("Ｒ１．２") == "Ｒ1．2"
    assert to_fullwidth_digits("R1.2 abc") == "R１.２ abc"


# --- parsing: accepted forms ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "令和元年１０月１１日",
        "令和元年10月11日",
        "令和1年10月11日",
        "令和１年１０月１１日",
        "令和01年10月11日",
        "令和 元年 10 月 11 日",
        "令和\u3000元年\u3000１０月\u3000１１日",
        " 令和元年10月11日 \n",
        "R1.10.11",
        "r1.10.11",
        "Ｒ１．１０．１１",
        "ｒ１．１０．１１",
        "R01.10.11",
        "R1/10/11",
        "R1-10-11",
        "Ｒ１／１０／１１",
        "Ｒ１－１０－１１",
        "R 1 . 10 . 11",
        "R1年10月11日",
        "㋿元年10月11日",
        "2019-10-11",
        "2019/10/11",
        "２０１９－１０－１１",
        "2019.10.11",
        "2019年10月11日",
    ],
)
def test_parse_accepts_every_form_of_2019_10_11(text: str) -> None:
    assert parse_wareki(text) == date(2019, 10, 11)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("H31.4.30", date(2019, 4, 30)),
        ("h31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("H1.1.8", date(1989, 1, 8)),
        ("S64.1.7", date(1989, 1, 7)),
        ("昭和６４年１月７日", date(1989, 1, 7)),
        ("T15.12.24", date(1926, 12, 24)),
        ("M45.7.29", date(1912, 7, 29)),
        ("明治元年1月25日", date(1868, 1, 25)),
        ("R2.2.29", date(2020, 2, 29)),
        ("1868-01-25", date(1868, 1, 25)),
        ("2100-12-31", date(2100, 12, 31)),
    ],
)
def test_parse_other_dates(text: str, expected: date) -> None:
    assert parse_wareki(text) == expected


@ROUND_TRIP
@given(DATES_1900_2100)
def test_round_trip_fullwidth(d: date) -> None:
    assert parse_wareki(to_wareki(d)) == d


@ROUND_TRIP
@given(DATES_1900_2100)
def test_round_trip_ascii_kanji_form(d: date) -> None:
    assert parse_wareki(to_wareki(d, fullwidth=False)) == d


@ROUND_TRIP
@given(DATES_1900_2100)
def test_round_trip_short(d: date) -> None:
    assert parse_wareki(to_wareki_short(d)) == d


@ROUND_TRIP
@given(DATES_1900_2100)
def test_round_trip_short_fullwidth_lowercase(d: date) -> None:
    # What a user typing with the IME still on produces: full-width and maybe lower case.
    typed = to_fullwidth_digits(to_wareki_short(d).lower()).replace(".", "．")
    assert parse_wareki(typed) == d


@ROUND_TRIP
@given(DATES_1900_2100)
def test_round_trip_iso(d: date) -> None:
    assert parse_wareki(d.isoformat()) == d
    assert parse_wareki(d.isoformat().replace("-", "/")) == d


@ROUND_TRIP
@given(DATES_1900_2100)
def test_era_year_agrees_with_kanji_form(d: date) -> None:
    name, year = era_year(d)
    expected_year = "元" if year == 1 else str(year)
    assert to_wareki(d, fullwidth=False).startswith(f"{name}{expected_year}年")
    assert year >= 1


# --- parsing: refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected_message"),
    [
        # 平成 ended 2019-04-30.
        ("平成31年5月25日", "平成31年5月25日は存在しない日付です（平成は平成31年4月30日まで）"),
        (
            "平成３１年５月２５日",
            "平成31年5月25日は存在しない日付です（平成は平成31年4月30日まで）",
        ),
        ("H31.5.1", "平成31年5月1日は存在しない日付です（平成は平成31年4月30日まで）"),
        ("平成32年1月1日", "平成32年1月1日は存在しない日付です（平成は平成31年4月30日まで）"),
        ("昭和64年1月8日", "昭和64年1月8日は存在しない日付です（昭和は昭和64年1月7日まで）"),
        ("T15.12.25", "大正15年12月25日は存在しない日付です（大正は大正15年12月24日まで）"),
        ("明治45年7月30日", "明治45年7月30日は存在しない日付です（明治は明治45年7月29日まで）"),
        # 令和 began 2019-05-01.
        ("令和元年4月30日", "令和元年4月30日は存在しない日付です（令和は令和元年5月1日から）"),
        ("R1.4.30", "令和1年4月30日は存在しない日付です（令和は令和元年5月1日から）"),
        ("平成元年1月7日", "平成元年1月7日は存在しない日付です（平成は平成元年1月8日から）"),
        ("明治元年1月24日", "明治元年1月24日は存在しない日付です（明治は明治元年1月25日から）"),
        # No such day in the calendar.
        ("令和1年2月30日", "令和1年2月30日は存在しない日付です（2019年2月は28日まで）"),
        ("R1.2.30", "令和1年2月30日は存在しない日付です（2019年2月は28日まで）"),
        ("R3.2.29", "令和3年2月29日は存在しない日付です（2021年2月は28日まで）"),
        ("令和元年10月32日", "令和元年10月32日は存在しない日付です（2019年10月は31日まで）"),
        ("令和元年10月0日", "令和元年10月0日は存在しない日付です（2019年10月は31日まで）"),
        ("令和元年13月1日", "令和元年13月1日は存在しない日付です（13月という月はありません）"),
        ("令和元年0月1日", "令和元年0月1日は存在しない日付です（0月という月はありません）"),
        ("2019-02-29", "2019年2月29日は存在しない日付です（2019年2月は28日まで）"),
        ("2019/13/01", "2019年13月1日は存在しない日付です（13月という月はありません）"),
        # Year 0 does not exist in an era: the first year is 元年.
        ("令和0年10月11日", "令和0年という年はありません（最初の年は令和元年です）"),
        ("令和00年10月11日", "令和0年という年はありません（最初の年は令和元年です）"),
        ("R0.10.11", "令和0年という年はありません（最初の年は令和元年です）"),
        ("Ｈ０．１．８", "平成0年という年はありません（最初の年は平成元年です）"),
        # 元年 needs an era.
        ("元年10月11日", "「元年」には元号が必要です（例: 令和元年）"),
        # Other missing eras: a short year could belong to any era.
        ("31年5月25日", "「31年」には元号が必要です（例: 令和元年、R1）"),
        ("1.10.11", "「1年」には元号が必要です（例: 令和元年、R1）"),
        # Unknown eras.
        ("天保3年1月1日", "「天保」は対応していない元号です"),
        ("慶応4年1月1日", "「慶応」は対応していない元号です"),
        ("X1.10.11", "「X」は対応していない元号です"),
        ("Reiwa1.10.11", "「Reiwa」は対応していない元号です"),
        # Outside the supported range.
        ("1867-12-31", "1867年12月31日は明治より前の日付のため扱えません"),
        ("1868-01-24", "1868年1月24日は明治より前の日付のため扱えません"),
        ("0000-01-01", "0年1月1日は明治より前の日付のため扱えません"),
        ("R9999.1.1", "令和9999年は扱える範囲を超えています"),
        # Not a date at all.
        ("", "日付が入力されていません"),
        ("\u3000 ", "日付が入力されていません"),
        ("hello", "「hello」は日付として読み取れません"),
        ("令和元年10月", "「令和元年10月」は日付として読み取れません"),
        ("R1.10/11", "「R1.10/11」は日付として読み取れません"),
        ("20191011", "「20191011」は日付として読み取れません"),
        ("令和元年10月11日(金)", "「令和元年10月11日(金)」は日付として読み取れません"),
        ("R12345.1.1", "「R12345.1.1」は日付として読み取れません"),
    ],
)
def test_parse_refuses_with_japanese_message_naming_the_problem(
    text: str, expected_message: str
) -> None:
    with pytest.raises(WarekiError) as excinfo:
        parse_wareki(text)
    assert expected_message in str(excinfo.value)
    # Callers may catch plain ValueError (e.g. WTForms validators).
    assert isinstance(excinfo.value, ValueError)


def test_unknown_era_message_lists_the_supported_eras() -> None:
    with pytest.raises(WarekiError) as excinfo:
        parse_wareki("天保3年1月1日")
    message = str(excinfo.value)
    for era in ERAS:
        assert era.name in message
        assert era.abbr in message


def test_unparseable_message_gives_examples() -> None:
    """和暦 examples only: a message on a 和暦 screen shows no ISO date (issue 20)."""
    with pytest.raises(WarekiError, match="例：令和元年10月11日、R1.10.11") as excinfo:
        parse_wareki("きのう")
    assert "2019-10-11" not in str(excinfo.value)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="expects str"):
        parse_wareki(date(2019, 10, 11))  # type: ignore[arg-type]


@ROUND_TRIP
@given(st.dates(min_value=date(1868, 1, 25), max_value=date(2100, 12, 31)))
def test_date_written_in_an_era_not_in_force_is_refused(d: date) -> None:
    # Writing a date with an era other than the one in force must always be refused:
    # the later era for days before it began, the earlier one for days after it ended.
    name, _ = era_year(d)
    for era in ERAS:
        if era.name == name:
            continue
        nth = d.year - era.start.year + 1
        if nth < 1:
            continue
        with pytest.raises(WarekiError, match="存在しない日付です"):
            parse_wareki(f"{era.name}{nth}年{d.month}月{d.day}日")


# --- fiscal years -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2020, 3, 31), 2019),
        (date(2020, 4, 1), 2020),
        (date(2019, 4, 1), 2019),
        (date(2019, 3, 31), 2018),
        (date(2019, 12, 31), 2019),
        (date(2020, 1, 1), 2019),
        (date(2019, 4, 30), 2019),
        (date(2019, 5, 1), 2019),
        (datetime(2020, 3, 31, 23, 59), 2019),
    ],
)
def test_fiscal_year_boundaries(d: date, expected: int) -> None:
    assert fiscal_year(d) == expected


@pytest.mark.parametrize(
    ("fy", "full", "ascii_"),
    [
        (2018, "平成３０年度", "平成30年度"),
        # Starts 2019-04-01 (still 平成31年) but is named after the era on 2020-03-31.
        (2019, "令和元年度", "令和元年度"),
        (2020, "令和２年度", "令和2年度"),
        (2025, "令和７年度", "令和7年度"),
        # 平成 began 1989-01-08, inside FY1988, which is still 昭和63年度 (no 平成0年度).
        (1988, "昭和６３年度", "昭和63年度"),
        (1989, "平成元年度", "平成元年度"),
        (1926, "昭和元年度", "昭和元年度"),
        (1912, "大正元年度", "大正元年度"),
        (1868, "明治元年度", "明治元年度"),
    ],
)
def test_fiscal_year_label(fy: int, full: str, ascii_: str) -> None:
    assert fiscal_year_label(fy) == full
    assert fiscal_year_label(fy, fullwidth=True) == full
    assert fiscal_year_label(fy, fullwidth=False) == ascii_


def test_fiscal_year_label_before_meiji_raises() -> None:
    with pytest.raises(WarekiError, match="明治より前"):
        fiscal_year_label(1867)


@ROUND_TRIP
@given(DATES_1900_2100)
def test_fiscal_year_label_never_has_year_zero_and_starts_with_an_era(d: date) -> None:
    label = fiscal_year_label(fiscal_year(d), fullwidth=False)
    assert label.endswith("年度")
    assert label[:2] in {era.name for era in ERAS}
    assert not label[2:].startswith("0")


def test_fiscal_year_label_uses_era_in_force_at_fiscal_year_end() -> None:
    # Every day of FY2019, including 平成31年4月, belongs to 令和元年度.
    day = date(2019, 4, 1)
    while day <= date(2020, 3, 31):
        assert fiscal_year_label(fiscal_year(day)) == "令和元年度"
        day += timedelta(days=1)
