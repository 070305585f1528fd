"""The official PDFs read like the city's documents, never show tofu and never reach outside.

Rows are built directly with the models (rendering only reads); the 様式２ tests play the sample
item's real path through the services (workflow.demo.sample), since its derived parts come from
three meetings.
"""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.factories import make_section, make_user
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.models import (
    AgendaEntry,
    Item,
    ItemDetail,
    Meeting,
    Opinion,
    PdfCache,
    PublicComment,
    PublicCommentOpinion,
    Section,
)
from workflow.pdf import documents, fonts
from workflow.pdf.fetcher import LockedFetcher, RefusedURLError
from workflow.pdf.render import TEMPLATES_DIR, render_pdf
from workflow.states.states import Handling, MeetingStatus, Outcome, PublicCommentStatus, Role

pytestmark = pytest.mark.usefixtures("app")

SAMPLES = Path("/work/shared/samples")
if not SAMPLES.is_dir():  # the copy the demo loader ships
    SAMPLES = Path(__file__).resolve().parent.parent / "workflow" / "demo" / "samples"
PAGE_NUMBER = re.compile(r"^－[０-９]+－$")
A4 = (595.28, 841.89)  # points


# ----------------------------------------------------------------------------- helpers


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _pages(pdf: bytes) -> list[list[str]]:
    """Each page's lines as pypdf reads them, white space removed, empty lines dropped."""
    reader = PdfReader(io.BytesIO(pdf))
    return [
        [line for line in map(_squeeze, page.extract_text().splitlines()) if line]
        for page in reader.pages
    ]


def _body(pdf: bytes, label: str | None = "（様式６）") -> list[str]:
    """The text in reading order: every page's header checked and dropped, page numbers dropped."""
    lines = []
    for page in _pages(pdf):
        if label:
            # pypdf joins the 「案」 box to the header: both sit on the page's top margin.
            headers = [line for line in page if line in (label, label + "案")]
            assert len(headers) == 1, f"{label} missing on a page"
            page = [line for line in page if line not in headers]
        lines += [line for line in page if not PAGE_NUMBER.match(line)]
    return lines


def _text(pdf: bytes) -> str:
    return "".join("".join(page) for page in _pages(pdf))


def _font_names(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def _meeting(
    *,
    opinions: list[dict] | None = None,
    title: str = "相模原市ＩＣＴ総合戦略の策定について",
    status: MeetingStatus = MeetingStatus.CONFIRMED,
    special_notes: str = "なし",
    presenter: str = "企画部長",
) -> Meeting:
    section = db.session.query(Section).filter_by(name="情報政策課").one_or_none() or Section(
        name="情報政策課", bureau="企画財政局", division="企画部"
    )
    item = Item(title=title, section=section, bureau="企画財政局", division="企画部")
    meeting = Meeting(
        kind="policy_coordination",
        number=5,
        fiscal_year=2019,
        date=date(2019, 10, 11),
        status=status,
        start_time=time(9, 30),
        end_time=time(11, 0),
        venue="第１特別会議室",
    )
    entry = AgendaEntry(
        item=item,
        presenter=presenter,
        outcome=Outcome.APPROVED_WITH_AMENDMENTS,
        special_notes=special_notes,
        outcome_recorded_at=datetime(2019, 10, 11, 3, 0, tzinfo=UTC),
    )
    entry.opinions = [Opinion(**o) for o in opinions or []]
    meeting.entries.append(entry)
    db.session.add(meeting)
    db.session.commit()
    return meeting


def _sample_meeting(**kw) -> Meeting:
    record = json.loads((SAMPLES / "minutes_policy_coordination_5.json").read_text())
    entry = record["entries"][0]
    return _meeting(
        title=entry["item_title"],
        presenter=entry["presenter"],
        opinions=[{"opinion": o["opinion"], "response": o["response"]} for o in entry["opinions"]],
        **kw,
    )


@pytest.fixture
def sample_path():
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    path = play_sample(make_user(Role.DEPARTMENT, section), make_user(Role.SECRETARIAT))
    db.session.commit()
    return path


# ----------------------------------------------------------------------------- 様式６ minutes


def test_minutes_read_back_as_the_city_printed_them_line_for_line():
    pdf = documents.minutes_pdf(_sample_meeting()).content
    expected = [
        _squeeze(line)
        for line in (SAMPLES / "minutes_policy_coordination_5_item1.txt").read_text().splitlines()
    ]
    assert expected[0] == "（様式６）"
    # The header is a page margin box: pypdf reads it after each page's body, so _body checks it
    # is on every page and takes it out; the page number 「－ １ －」 is not in the transcription.
    assert _body(pdf) == expected[1:]


def test_pages_are_a4_portrait_with_fonts_embedded_and_subset():
    pdf = documents.minutes_pdf(_sample_meeting()).content
    reader = PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == A4
    embedded = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            embedded[str(font["/BaseFont"])] = len(descriptor["/FontFile2"].get_object().get_data())
    names = set(embedded)
    # A subset carries a six-letter tag; body in 明朝, headings in ゴシック, no other font.
    assert {re.sub(r"^/[A-Z]{6}\+", "", n) for n in names} == {"IPAexMincho", "IPAexGothic"}
    assert all(re.match(r"^/[A-Z]{6}\+", n) for n in names)
    assert max(embedded.values()) < 500_000  # the whole IPAex明朝 is 7.8 MB


def test_rare_and_ideographic_variant_characters_read_back():
    rare = "𠮷野家の髙橋と﨑山、①㈱～〇"
    meeting = _meeting(
        title=f"{rare}について",
        opinions=[{"opinion": f"{rare}の件はどうか。", "response": "〇〇で対応する～。"}],
    )
    pdf = documents.minutes_pdf(meeting).content
    text = _text(pdf)
    assert f"１{rare}について" in text
    assert f"○{rare}の件はどうか。" in text
    assert "→〇〇で対応する～。" in text
    # 𠮷 is not in IPAex: it, and only it, comes from IPAmj明朝; the rest stays readable.
    assert any(name.endswith("+IPAmjMincho") for name in _font_names(pdf))


def test_ipamj_is_embedded_only_when_needed():
    pdf = documents.minutes_pdf(_sample_meeting()).content
    assert not any("IPAmj" in name for name in _font_names(pdf))


def test_a_character_no_font_has_is_refused_with_a_japanese_message_naming_it():
    meeting = _meeting(opinions=[{"opinion": "絵文字😀は印刷できない。"}])
    with pytest.raises(fonts.UnprintableCharacterError) as caught:
        documents.minutes_pdf(meeting)
    assert "「😀」（U+1F600）" in caught.value.message
    assert "印刷できません" in caught.value.message
    assert db.session.query(PdfCache).count() == 0


def test_a_thirty_opinion_item_flows_over_pages_with_nothing_lost():
    opinions = [
        {
            "opinion": f"第{n}の意見。" + "事業の進め方について確認したい。" * 6,
            "response": f"第{n}の回答。" + "関係課と調整しながら進める考えである。" * 5,
            "follow_up": f"第{n}の追記" if n % 10 == 0 else None,
        }
        for n in range(1, 31)
    ]
    pdf = documents.minutes_pdf(_meeting(opinions=opinions)).content
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 3
    body = "".join(_body(pdf))
    position = 0
    for op in opinions:
        for text in ("○" + op["opinion"], "→" + op["response"]):
            found = body.find(_squeeze(text), position)
            assert found >= position, f"lost or out of order: {text[:10]}"
            position = found
        if op["follow_up"]:
            assert f"（→{op['follow_up']}）" in body
    assert body.endswith("（２）結果○原案を一部修正し承認する。（３）特記事項○なし以上")


def test_draft_mark_until_the_minutes_are_confirmed():
    meeting = _sample_meeting(status=MeetingStatus.HELD)
    draft = documents.minutes_pdf(meeting)
    assert all("（様式６）案" in page for page in _pages(draft.content))
    assert draft.filename == "第５回政策調整会議議事録（案）.pdf"

    meeting.status = MeetingStatus.CONFIRMED
    db.session.commit()
    final = documents.minutes_pdf(meeting)
    assert all("（様式６）" in page for page in _pages(final.content))
    assert not any("（様式６）案" in page or "案" in page for page in _pages(final.content))
    assert final.etag != draft.etag
    assert final.filename == "第５回政策調整会議議事録.pdf"


def test_empty_special_notes_print_nashi():
    pdf = documents.minutes_pdf(_meeting(special_notes="  ", opinions=[])).content
    assert "".join(_body(pdf)).endswith(
        "（１）主な意見等○なし（２）結果○原案を一部修正し承認する。（３）特記事項○なし以上"
    )


def test_line_breaks_in_a_response_are_kept():
    meeting = _meeting(opinions=[{"opinion": "意見", "response": "一行目\n二行目"}])
    body = _body(documents.minutes_pdf(meeting).content)
    assert body[body.index("→一行目") + 1] == "二行目"


# ----------------------------------------------------------------------------- locked down


def test_injected_html_prints_as_text_and_is_never_fetched(monkeypatch):
    fetched = []
    original = LockedFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(LockedFetcher, "fetch", spy)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    evil = '<img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="file:///etc/passwd">'
    meeting = _meeting(title=evil, opinions=[{"opinion": "<b>太字</b>&amp;", "response": evil}])
    text = _text(documents.minutes_pdf(meeting).content)
    assert _squeeze(evil) in text
    assert "<b>太字</b>&amp;" in text
    assert not [url for url in fetched if not url.startswith(TEMPLATES_DIR.as_uri())]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://example.com/style.css",
        "file:///etc/passwd",
        (TEMPLATES_DIR / ".." / "pyproject.toml").as_uri(),
        "file://evil.example/etc/passwd",
        "data:text/css,body{}",
    ],
)
def test_fetcher_refuses_everything_but_our_assets(url):
    fetcher = LockedFetcher(folders=(TEMPLATES_DIR,), files=())
    with pytest.raises(RefusedURLError):
        fetcher.allowed_path(url)


def test_fetcher_serves_templates_and_fonts():
    font = fonts.font_path(fonts.MINCHO)
    fetcher = LockedFetcher(folders=(TEMPLATES_DIR,), files=(font,))
    assert (
        fetcher.allowed_path((TEMPLATES_DIR / "print.css").as_uri()) == TEMPLATES_DIR / "print.css"
    )
    assert fetcher.allowed_path(font.as_uri()) == font


def test_a_template_reaching_outside_stops_the_rendering():
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    fetcher = LockedFetcher(folders=(TEMPLATES_DIR,), files=())
    with pytest.raises(FatalURLFetchingError):
        HTML(string='<img src="http://127.0.0.1:9/x.png">', url_fetcher=fetcher).render()


# ----------------------------------------------------------------------------- reproducible, cached


def test_same_input_gives_the_same_bytes_even_in_another_process():
    meeting = _sample_meeting()
    context = documents.minutes_context(meeting)
    first = render_pdf("minutes.html", context, created=meeting.date, modified=meeting.updated_at)
    again = render_pdf("minutes.html", context, created=meeting.date, modified=meeting.updated_at)
    assert first == again
    # A fresh process (another gunicorn worker) has its own font temp folder and caches.
    script = (
        "import pickle, sys\n"
        "from workflow.pdf.render import render_pdf\n"
        "ctx, created, modified = pickle.load(sys.stdin.buffer)\n"
        "sys.stdout.buffer.write(render_pdf('minutes.html', ctx, created=created, modified=modified))\n"
    )
    import pickle

    other = subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps((context, meeting.date, meeting.updated_at)),
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    assert other == first


def test_pdf_dates_come_from_the_record():
    meeting = _sample_meeting()
    reader = PdfReader(io.BytesIO(documents.minutes_pdf(meeting).content))
    assert reader.metadata.creation_date.date() == date(2019, 10, 11)
    assert reader.metadata.modification_date == meeting.updated_at.replace(microsecond=0)
    assert reader.metadata.title == "第５回 政策調整会議 議事録"


def test_rendered_pdfs_are_cached_by_content_and_any_change_invalidates_them():
    meeting = _sample_meeting()
    first = documents.minutes_pdf(meeting)
    db.session.commit()
    assert not first.cached
    again = documents.minutes_pdf(meeting)
    assert again.cached
    assert (again.content, again.etag) == (first.content, first.etag)
    row = db.session.get(PdfCache, first.etag)
    assert (row.kind, row.content) == ("minutes", first.content)

    meeting.entries[0].opinions[0].response = "回答を修正した。"
    db.session.commit()
    changed = documents.minutes_pdf(meeting)
    assert not changed.cached
    assert changed.etag != first.etag
    assert "→回答を修正した。" in _text(changed.content)


# ----------------------------------------------------------------------------- fonts missing


def test_a_missing_font_is_a_clear_error_naming_the_package(monkeypatch):
    monkeypatch.setattr(fonts.shutil, "which", lambda _name: None)
    ghost = fonts.FontFile(
        "Ghost", "IPAex明朝", "NoSuchFamily", "fonts-ipaexfont", ("/nonexistent.ttf",)
    )
    with pytest.raises(fonts.FontMissingError) as caught:
        fonts.font_path(ghost)
    assert caught.value.message == (
        "PDFを作成できません。書体「IPAex明朝」のファイルが見つかりません"
        "（Debian/Ubuntu: apt-get install fonts-ipaexfont）"
    )


def test_doctor_says_what_is_ready(app):
    result = app.test_cli_runner().invoke(args=["doctor"])
    lines = result.output.splitlines()
    assert lines[:4] == [
        f"✓ 書体 {font.label}: {fonts.font_path(font)}（{len(fonts.cmap(font)):,}字）"
        for font in fonts.FONTS
    ] + ["✓ HarfBuzz のフォント間引き: 使えます（libharfbuzz-subset.so.0）"]
    # The suite builds its schema with create_all, not migrations, so the database line is ✗.
    assert lines[4].startswith("✗ データベース")
    assert result.exit_code == 1


def test_doctor_names_what_to_install_for_a_missing_font(app, monkeypatch):
    ghost = fonts.FontFile("Ghost", "IPAmj明朝", "NoSuchFamily", "fonts-ipamj-mincho", ("/no.ttf",))
    monkeypatch.setattr(fonts.shutil, "which", lambda _name: None)
    monkeypatch.setattr(fonts, "FONTS", (fonts.MINCHO, fonts.GOTHIC, ghost))
    result = app.test_cli_runner().invoke(args=["doctor"])
    assert "✗ 書体 IPAmj明朝: 見つかりません（apt-get install fonts-ipamj-mincho）" in result.output
    assert result.exit_code == 1


# ----------------------------------------------------------------------------- 様式２ request


def test_request_form_front_prints_every_field_and_what_earlier_meetings_said(sample_path):
    item = sample_path.item
    doc = documents.request_form_pdf(item)
    pages = _pages(doc.content)
    assert all("（様式２）" in page for page in pages)
    text = _text(doc.content)
    for expected in [
        "庁議（政策調整会議）案件申込書",
        "申込日令和元年１０月８日",
        "案件名相模原市ＩＣＴ総合戦略の策定について",
        "関係課長会議令和元年８月２１日",
        "政策調整会議令和元年１０月１１日",
        "局・区企画財政局部企画部課情報政策課",
        "位置付けなし",  # 実施計画の位置付け, printed as the city prints a choice
        "○相模原市ＩＣＴ総合戦略（案）について",
        "R1.7.5・7.29・8.14",
        "第２回ＩＣＴ戦略調整会議兼関係課長会議",
        "パブリックコメントあり実施時期令和元年12月～令和2年1月",
        "報道への情報提供なし",
        "議会への情報提供部会時期令和元年１２月",
        "条例等の調整なし",
        "企画政策課次期総合計画との整合調整済",
        "■消防総務課",
        "■情報政策課",
        # The 上部庁議 named, although the review came first (DOMAIN §8).
        "結果等原案を上部庁議へ付議する。（政策調整会議）",
    ]:
        assert expected in text, expected
    # The review has no 審議日 slot: its date is printed nowhere on the form.
    assert "令和元年１０月４日" not in text
    assert "■なし" not in text
    assert "□" not in text
    # 「これまでの庁議での主な意見」: the two earlier meetings, in order, not the target's own.
    first, second = text.index("【関係課長会議】"), text.index("【事務事業調整会議】")
    assert first < second
    assert "○次期総合計画においても、ＡＩやＩｏＴを活用して事業を推進する方針である。" in text
    assert "→学校の関係については調整させていただきたい。" in text
    assert "民間企業との連携の構築や模索" not in text
    assert "【政策調整会議】" not in text


def test_request_form_back_numbers_the_sections_and_keeps_line_breaks(sample_path):
    lines = _body(documents.request_form_pdf(sample_path.item).content, label="（様式２）")
    start = lines.index("事案の具体的な内容")
    back = lines[start:]
    headings = [line for line in back if re.match(r"^（[０-９]+）", line)]
    assert headings == [
        "（１）事案の概要",
        "（２）計画策定スケジュール",
        "（３）事業スケジュール",
        "（４）市民等への周知、合意形成",
        "（５）事業経費・財源",
        "（６）財源確保の考え方",
        "（７）事業実施の効果",
    ]
    schedule = back.index("（２）計画策定スケジュール")
    assert back[schedule + 1 : schedule + 5] == [
        "令和元年１０月～庁議",
        "１２月議会への情報提供（総務部会）",
        "１２月パブリックコメントの実施（～令和２年１月）",
        "令和２年３月計画策定・公表",
    ]


def test_long_request_form_content_continues_on_further_pages():
    section = Section(name="情報政策課")
    summary = "\n".join(
        f"概要の{n}行目です。" + "内容を詳しく説明する。" * 3 for n in range(1, 121)
    )
    item = Item(title="長い案件", section=section, summary=summary)
    item.details = [ItemDetail(heading="事案の概要", body=summary.replace("概要", "詳細"))]
    db.session.add(item)
    db.session.commit()
    pdf = documents.request_form_pdf(item).content
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 3
    pages = _pages(pdf)
    # Every page carries 「（様式２）」; a page that goes on with a row names it 「…（続き）」.
    assert all(any(line.startswith("（様式２）") for line in page) for page in pages)
    assert any("概要（続き）" in line for page in pages[1:] for line in page)
    body = "".join("".join(page) for page in pages)
    for n in range(1, 121):
        assert f"概要の{n}行目です。" in body
        assert f"詳細の{n}行目です。" in body


# ----------------------------------------------------------------------------- 次第, comments


def test_agenda_lists_the_items_with_owner_and_presenter():
    meeting = _sample_meeting(status=MeetingStatus.PLANNED)
    lines = _body(documents.agenda_pdf(meeting).content, label=None)
    assert lines[:3] == [
        "第５回政策調整会議次第",
        "日時令和元年１０月１１日（金）午前９時３０分～午前１１時",
        "場所第１特別会議室",
    ]
    assert "（１）相模原市ＩＣＴ総合戦略の策定について" in lines
    assert "所管：企画財政局企画部情報政策課説明者：企画部長" in lines


def test_comment_results_print_counts_table_and_changes(sample_path):
    pc = sample_path.item.comment_process
    text = _text(documents.comment_results_pdf(pc).content)
    assert "提出者数２人意見数２件" in text
    assert "番号意見の概要市の考え方対応区分" in text
    assert (
        "２高齢者などデジタル機器に不慣れな市民への支援を盛り込むべきである。"
        "情報リテラシーの育成に、デジタル機器に不慣れな方への支援を追記します。案を修正"
    ) in text
    assert "案の修正内容施策１－３にデジタル機器に不慣れな方への支援を追記した。" in text


def test_comment_results_without_opinions_say_iken_nashi():
    item = Item(title="意見のない案", section=Section(name="課"))
    pc = PublicComment(
        item=item,
        published_on=date(2020, 1, 6),
        closes_on=date(2020, 2, 4),
        how_to_submit="電子メール",
        status=PublicCommentStatus.RESULTS_PUBLISHED,
        results_published_on=date(2020, 2, 20),
    )
    db.session.add(pc)
    db.session.commit()
    text = _text(documents.comment_results_pdf(pc).content)
    assert "意見の提出者数及び意見数意見なし" in text
    assert "意見の概要と市の考え方" not in text
    assert "案の修正内容なし" in text


def test_comment_opinion_handling_label_is_printed():
    item = Item(title="案", section=Section(name="課"))
    pc = PublicComment(
        item=item, published_on=date(2020, 1, 6), closes_on=date(2020, 2, 4), how_to_submit="郵送"
    )
    pc.opinions = [
        PublicCommentOpinion(number=1, summary="意見", city_view="考え方", handling=Handling.OTHER)
    ]
    db.session.add(pc)
    db.session.commit()
    assert "１意見考え方その他" in _text(documents.comment_results_pdf(pc).content)
