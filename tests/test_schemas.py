"""The bodies declared in workflow.schemas: what they refuse, in what words, and where."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from tests.factories import make_section
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.schemas.items import ItemChanges, ItemInput
from workflow.schemas.limits import LINE_MAX
from workflow.schemas.meetings import Deliberation
from workflow.schemas.types import check_text, validate

pytestmark = pytest.mark.usefixtures("app")


def refused(model, data) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        validate(model, data)
    return caught.value


def test_each_field_says_what_is_wrong_in_japanese_where_it_is():
    make_section("情報政策課")
    db.session.commit()
    error = refused(
        ItemInput,
        {
            "title": "案件",
            "section": "情報政策課",
            "history": [{"when": "R" * 101}],
            "public_comment": {"planned": "yes"},
            "press_release": "tv",
            "summary": 3,
            "colour": "red",
            "coordination": [{}],
            "discussion_points": [""] * 101,
        },
    )
    assert error.fields == {
        "summary": ["文字列で入力してください。"],
        "discussion_points": ["100行以内にしてください（現在101行）。"],
        "history[0].when": ["100文字以内で入力してください（現在101文字）。"],
        "public_comment.planned": ["あり（true）かなし（false）で指定してください。"],
        "press_release": [
            "次のいずれかを指定してください: none（なし）、materials（資料提供）、"
            "press_conference（記者発表）"
        ],
        "coordination[0].department": ["入力してください。"],
        "colour": ["この項目はありません。"],
    }
    assert error.message == "入力内容に誤りがあります: 文字列で入力してください。"


def test_a_new_item_needs_a_title_and_a_known_section():
    error = refused(ItemInput, {"section": "ない課", "title": "\x00"})
    assert error.fields == {
        "title": ["使用できない文字（制御文字など）が含まれています。"],
        "section": ["課「ない課」は登録されていません。"],
    }


def test_changes_leave_absent_keys_alone_and_history_rows_is_history():
    rows = [{"when": "R1.5.24", "meeting": "第１回", "content": "進め方"}]
    given = validate(ItemChanges, {"history_rows": rows, "history": [{"event": "x"}]}).given()
    assert given == {"history": [{**row, "remarks": ""} for row in rows]}


def test_rules_across_fields_and_rows_name_the_field():
    error = refused(ItemChanges, {"ordinance": {"kind": "none", "change": "enact"}})
    assert error.fields == {
        "ordinance.change": ["条例等の種類が「なし」のときは、制定・改正等は指定できません。"]
    }
    error = refused(ItemChanges, {"route": ["section_managers", "section_managers"]})
    assert error.fields == {"route": ["同じ会議を二度指定することはできません。"]}
    error = refused(Deliberation, {"attendance": [{"section": "財政課", "deputy": 1}]})
    assert error.fields == {
        "attendance[0].deputy": ["代理出席は true か false で指定してください。"]
    }


def test_line_breaks_are_stored_one_way_whoever_sends_them():
    """A browser's textarea sends CR LF: stored as LF, so a save of unchanged text changes nothing."""
    given = validate(ItemChanges, {"summary": "一行目\r\n二行目\r三行目"}).given()
    assert given == {"summary": "一行目\n二行目\n三行目"}


LINE_BREAK = "改行は入力できません（1行で入力してください）。"


@pytest.mark.parametrize(
    "title", ["一行目\r\n二行目", "一行目\n二行目", "一行目\r二行目", "案件\r\n"]
)
def test_a_one_line_field_refuses_a_line_break_rather_than_drop_it(title):
    make_section("情報政策課")
    db.session.commit()
    error = refused(ItemInput, {"section": "情報政策課", "title": title})
    assert error.fields == {"title": [LINE_BREAK]}
    error = refused(ItemChanges, {"title": title, "contact": "担当\n者", "summary": "複数\n行"})
    assert error.fields == {"title": [LINE_BREAK], "contact": [LINE_BREAK]}


def test_the_title_is_one_line_whatever_its_limit():
    """The title is named one line; the others are one line because their limit is a line's."""
    assert check_text("案件\n名", 10_000) == "案件\n名"
    with pytest.raises(PydanticCustomError, match="改行"):
        check_text("案件\n名", 10_000, one_line=True)
    assert check_text("  案件名 ", LINE_MAX) == "案件名"
    assert check_text("\t本文\r\n", LINE_MAX + 1) == "\t本文"
