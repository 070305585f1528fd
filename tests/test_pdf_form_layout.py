"""様式２ prints as the city's two-sided sheet: the front on one page, the back from page 2.

The contexts are built here to the contract of documents.request_form_context (every choice
already its printed string), so the layout is tested without the database.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from workflow.filters import bullet
from workflow.pdf.form_layout import is_dense
from workflow.pdf.render import render_pdf

SAMPLE = (
    Path(__file__).resolve().parent.parent
    / "workflow"
    / "demo"
    / "samples"
    / "form2_ict_strategy.json"
)
LADDER = ["関係課長会議", "局・区政策会議", "政策調整会議", "政策決定会議"]
TITLE = "庁議（政策調整会議）案件申込書"
BACK = "事案の具体的な内容"
INSTRUCTION = "（原則、この裏面で記載してください。書ききれない場合は別紙としてください。）"
# Each label and where a Japanese reader may break it (the text before each break).
LABELS = {
    "施策番号及び実施計画事業名": ("施策番号及び",),
    "実施計画の位置付け": ("実施計画の",),
    "パブリックコメント": (),
    "報道への情報提供": (),
    "議会への情報提供": (),
    "条例等の調整": (),
    "日程等調整事項": ("日程等",),
    "審議会等、協議会等の設置": ("審議会等、",),
    "個人情報の目的外利用等": ("個人情報の",),
    "これまでの庁議での主な意見": ("これまでの", "これまでの庁議での"),
    "関係部局との調整": ("関係部局",),
    "関係課長会議の出席課・機関等": ("関係課長会議の",),
    "関係課長会議の結果等": ("関係課長会議の",),
    "部局名": (),
    "調整内容": (),
    "調整状況": (),
}


# ----------------------------------------------------------------------------- contexts


def _base(**fields) -> dict:
    context = {
        "doc_title": TITLE,
        "form_title": TITLE,
        "form_label": "（様式２）",
        "draft": False,
        "applied_on": date(2019, 10, 8),
        "title": "",
        "review_dates": [[name, None] for name in LADDER],
        "bureau": "",
        "division": "",
        "section": "",
        "contact": "",
        "extension": "",
        "policy_ref": "",
        "in_implementation_plan": "なし",
        "summary": "",
        "discussion_points": [],
        "history": [],
        "prior": [],
        "public_comment": "なし",
        "public_comment_period": "",
        "press_release": "なし",
        "council_channel": "なし",
        "council_timing": "",
        "ordinance": "なし",
        "ordinance_submission_label": "議会提案時期",
        "ordinance_council_submission": "",
        "advisory_body": "なし",
        "personal_info_use": "なし",
        "coordination": [],
        "schedule_notes": "",
        "remarks": "",
        "attendance": [],
        "section_managers_result": None,
        "details": [],
        "meta": {"created": date(2019, 10, 8), "modified": date(2019, 10, 8)},
    }
    context.update(fields)
    context["dense"] = is_dense(context)
    return context


def _opinions(meeting: dict) -> list[dict]:
    return [
        {"opinion": o["opinion"], "response": o["response"], "follow_ups": []}
        for o in meeting["opinions"]
    ]


def sample_context() -> dict:
    """The city's filled 様式２ (相模原市ＩＣＴ総合戦略), as documents.py hands it over."""
    form = json.loads(SAMPLE.read_text())
    labels = {"committee": "部会", "none": "なし", "all_members": "全員協議会", "other": "その他"}
    first, second = form["section_managers_meeting"], form["affairs_coordination_meeting"]
    return _base(
        applied_on=date.fromisoformat(form["applied_on"]),
        title=form["title"],
        review_dates=[
            ["関係課長会議", date.fromisoformat(first["date"])],
            ["局・区政策会議", None],
            ["政策調整会議", date(2019, 10, 11)],
            ["政策決定会議", None],
        ],
        bureau=form["bureau"],
        division=form["division"],
        section=form["section"],
        in_implementation_plan="あり" if form["in_implementation_plan"] else "なし",
        summary=form["summary"],
        discussion_points=form["discussion_points"],
        history=[{**row, "remarks": ""} for row in form["history"]],
        prior=[
            {"name": "関係課長会議", "opinions": _opinions(first)},
            {"name": "事務事業調整会議", "opinions": _opinions(second)},
        ],
        public_comment="あり" if form["public_comment"]["planned"] else "なし",
        public_comment_period=form["public_comment"]["period_text"],
        press_release="なし",
        council_channel=labels[form["council_report"]["channel"]],
        council_timing=form["council_report"]["timing"],
        coordination=[
            {"department": c["department"], "content": c["content"], "status": "調整済"}
            for c in form["coordination"]
        ],
        attendance=[
            {"name": name, "deputy": False, "present": True} for name in first["attendance"]
        ],
        section_managers_result="原案を上部庁議へ付議する。（政策調整会議）",
        details=form["details"],
    )


def _zenkaku(n: int | str) -> str:
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def light_context() -> dict:
    """The sample with one earlier opinion: room enough for the roomy type."""
    context = sample_context()
    first = context["prior"][0]
    context["prior"] = [{**first, "opinions": first["opinions"][:1]}]
    context["dense"] = is_dense(context)
    return context


def _line(n: int, length: int, head: str) -> str:
    """A full-width sentence of *length* characters, told apart by *head* and *n*."""
    text = head + _zenkaku(f"{n:02}")
    filler = "事業の進め方と市民への周知について考えを伺いたい。"
    while len(text) < length:
        text += filler
    return text[: length - 1] + "。"


def dense_context(extra_opinions: int = 0) -> dict:
    """A busy request: about 40 lines of 主な意見, 8 rows of 検討経過, 16 出席課."""
    groups = []
    for g, name in enumerate(["関係課長会議", "事務事業調整会議", "局・区政策会議"]):
        opinions = []
        for k in range(4 + (extra_opinions if g == 2 else 0)):
            n = g * 4 + k + 1
            opinions.append(
                {
                    "opinion": _line(n, 106 if k % 4 != 3 else 53, "意見"),
                    "response": _line(n, 52, "回答"),
                    "follow_ups": [_line(n, 30, "追加")] if n == 1 else [],
                }
            )
        groups.append({"name": name, "opinions": opinions})
    groups[1]["opinions"][1]["opinion"] = "〇" + groups[1]["opinions"][1]["opinion"]
    return _base(
        title="相模原市公共施設マネジメント推進計画の改定について",
        review_dates=[
            [name, date(2019, 8, 21) if i == 0 else None] for i, name in enumerate(LADDER)
        ],
        bureau="企画財政局",
        division="財務部",
        section="公共施設マネジメント推進課",
        contact="相模　太郎",
        extension="１２３４",
        policy_ref="施策番号２３　公共施設の適正配置の推進",
        in_implementation_plan="あり",
        summary=_line(1, 100, "概要"),
        discussion_points=["改定計画（案）の方向性について", "〇施設総量の縮減目標について"],
        history=[
            {
                "when": f"R1.{n + 4}.{n + 10}",
                "meeting": f"第{n}回推進本部幹事会",
                "content": "改定の方向性について",
                "remarks": "",
            }
            for n in range(1, 9)
        ],
        prior=groups,
        public_comment="あり",
        public_comment_period="令和元年12月～令和2年1月",
        press_release="記者発表",
        council_channel="全員協議会",
        council_timing="令和元年１２月定例会議",
        ordinance="条例 改廃あり",
        ordinance_submission_label="議会上程時期",
        ordinance_council_submission="令和２年３月定例会議",
        advisory_body="あり",
        personal_info_use="なし",
        coordination=[
            {"department": "企画政策課", "content": "総合計画との整合", "status": "調整済"},
            {"department": "財政課", "content": "財源の確保", "status": "調整中"},
        ],
        schedule_notes="令和２年２月の推進本部で決定予定",
        attendance=[
            {"name": f"第{_zenkaku(n)}施設課", "deputy": n == 3, "present": n not in (5, 9)}
            for n in range(1, 17)
        ],
        section_managers_result="原案を上部庁議へ付議する。（政策調整会議）",
        details=[{"heading": "事案の概要", "body": _line(1, 200, "詳細")}],
    )


# ----------------------------------------------------------------------------- reading


def _render(context: dict) -> bytes:
    meta = context["meta"]
    return render_pdf(
        "request_form.html", context, created=meta["created"], modified=meta["modified"]
    )


def _pages(pdf: bytes) -> list[list[str]]:
    """Each page's lines as extracted, outer white space stripped, empty lines dropped."""
    reader = PdfReader(io.BytesIO(pdf))
    return [
        [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        for page in reader.pages
    ]


def _squeezed(lines: list[str]) -> str:
    return re.sub(r"\s+", "", "".join(lines))


@pytest.fixture(scope="module")
def sample_pdf() -> bytes:
    return _render(sample_context())


@pytest.fixture(scope="module")
def light_pdf() -> bytes:
    return _render(light_context())


@pytest.fixture(scope="module")
def dense_pdf() -> bytes:
    return _render(dense_context())


# ----------------------------------------------------------------------------- tests


def test_bullet_keeps_the_authors_mark_and_adds_maru_otherwise():
    assert bullet("論点について") == "○論点について"
    for mark in ["○", "〇", "●", "◎", "・", "※", "■", "□", "①", "⑳"]:
        assert bullet(f"{mark}論点") == f"{mark}論点"
    assert bullet("（１）論点") == "○（１）論点"


def test_density_follows_the_amount_of_text():
    assert not light_context()["dense"]
    assert sample_context()["dense"]
    assert dense_context()["dense"]


@pytest.mark.parametrize("which", ["light_pdf", "sample_pdf", "dense_pdf"])
def test_front_fits_one_page_and_the_back_starts_page_two(which, request):
    pages = _pages(request.getfixturevalue(which))
    front, back = _squeezed(pages[0]), pages[1]
    assert TITLE in front
    assert "関係課長会議の結果等原案を上部庁議へ付議する。（政策調整会議）" in front
    assert BACK not in front
    assert back[:2] == [BACK, INSTRUCTION]
    assert "（様式２）" in back
    assert "案件名" not in _squeezed(back)


@pytest.mark.parametrize("which", ["light_pdf", "sample_pdf", "dense_pdf"])
def test_titles_extract_without_inserted_spaces(which, request):
    pages = PdfReader(io.BytesIO(request.getfixturevalue(which))).pages
    assert TITLE in pages[0].extract_text()
    assert BACK in pages[1].extract_text()


@pytest.mark.parametrize("which", ["light_pdf", "sample_pdf", "dense_pdf"])
def test_labels_break_only_where_a_reader_would(which, request):
    page = "|".join(re.sub(r"\s+", "", line) for line in _pages(request.getfixturevalue(which))[0])
    for label, allowed in LABELS.items():
        found = re.findall(r"\|?".join(map(re.escape, label)), page)
        assert found, label
        for printed in found:
            pieces = printed.split("|")
            breaks = {"".join(pieces[: n + 1]) for n in range(len(pieces) - 1)}
            assert breaks <= set(allowed), (label, printed)


def test_sample_front_prints_the_citys_wording(sample_pdf):
    front = _squeezed(_pages(sample_pdf)[0])
    for expected in [
        "申込日令和元年１０月８日",
        "案件名相模原市ＩＣＴ総合戦略の策定について",
        "関係課長会議令和元年８月２１日局・区政策会議年月日政策調整会議令和元年１０月１１日",
        "時期会議等内容備考",
        "R1.7.5・7.29・8.14第１回～３回策定検討部会計画骨子案、事業について",
        "パブリックコメントあり実施時期令和元年12月～令和2年1月",
        "報道への情報提供なし",
        "議会への情報提供部会時期令和元年１２月",
        "条例等の調整なし",
        "部局名調整内容調整状況",
        "企画政策課次期総合計画との整合調整済",
        "■消防総務課",
        "■情報政策課",
        "【関係課長会議】○次期総合計画においても",
        "→学校の関係については調整させていただきたい。",
        "【事務事業調整会議】○施策３－１",
        "○相模原市ＩＣＴ総合戦略（案）について",
    ]:
        assert expected in front, expected
    assert "□" not in front
    assert "会議名等" not in front
    assert "令和元年８月２１日）" not in front  # 【会議名】 carries no date
    assert "その他" not in front  # no schedule notes typed: no その他 row


def test_dense_front_prints_choices_marks_and_attendance(dense_pdf):
    front = _squeezed(_pages(dense_pdf)[0])
    for expected in [
        "報道への情報提供記者発表",
        "議会への情報提供全員協議会時期令和元年１２月定例会議",
        "条例等の調整条例改廃あり議会上程時期令和２年３月定例会議",
        "その他令和２年２月の推進本部で決定予定",
        "○改定計画（案）の方向性について",
        "〇施設総量の縮減目標について",
        "〇意見０６",
        "（→追加０１",
        "■第１施設課",
        "■第３施設課（代）",
        "□第５施設課",
        "□第９施設課",
        "■第１６施設課",
        "財政課財源の確保調整中",
    ]:
        assert expected in front, expected
    assert "○〇" not in front


def test_follow_up_already_marked_prints_as_typed():
    context = dense_context()
    context["prior"][0]["opinions"][0]["follow_ups"] = ["（→次回報告する。）"]
    front = _squeezed(_pages(_render(context))[0])
    assert "（→次回報告する。）" in front
    assert "（→（→" not in front


def test_a_huge_request_continues_with_its_label_and_zoku():
    context = dense_context(extra_opinions=16)
    pages = _pages(_render(context))
    assert "（続き）" not in _squeezed(pages[0])
    assert any(line.endswith("これまでの庁議での主な意見（続き）") for line in pages[1])
    assert "意見２８" in _squeezed(pages[1])
    back = next(i for i, page in enumerate(pages) if BACK in page)
    assert pages[back][0] == BACK
    assert "（続き）" not in _squeezed(pages[back])


def test_same_context_gives_the_same_bytes(sample_pdf):
    assert _render(sample_context()) == sample_pdf
