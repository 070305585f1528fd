"""Every official PDF is a tagged PDF/A-2 (level A): kept as a 公文書, read by assistive tools.

veraPDF (Java) is not installed here; these tests check what pypdf can see: the catalogue's
/MarkInfo, /StructTreeRoot, /Lang and /ViewerPreferences, the XMP's PDF/A identification and
title, the structure elements the templates' headings, lists and tables become, and that the
tagged file is still the same bytes for the same record.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from pypdf import PdfReader
from pypdf.generic import BooleanObject, DictionaryObject

from tests.factories import make_section, make_user
from workflow.demo.sample import SamplePath, play_sample
from workflow.extensions import db
from workflow.pdf import documents, render
from workflow.pdf.render import render_pdf
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
XMP = "{http://ns.adobe.com/xap/1.0/}"
XML = "{http://www.w3.org/XML/1998/namespace}"


@dataclass(frozen=True)
class Kind:
    """One kind of document: its template, how to get its context, and what it must contain."""

    name: str
    template: str
    context: Callable[[SamplePath], dict]
    structure: frozenset[str]


KINDS = [
    Kind(
        "様式６",
        "minutes.html",
        lambda path: documents.minutes_context(path.meetings["policy_coordination"]),
        frozenset({"/Document", "/H1", "/H2", "/H3", "/Sect", "/P"}),
    ),
    Kind(
        "次第",
        "agenda.html",
        lambda path: documents.agenda_context(path.meetings["policy_coordination"]),
        frozenset({"/H1", "/H2", "/Table", "/TR", "/TH", "/TD", "/L", "/LI"}),
    ),
    Kind(
        "様式２",
        "request_form.html",
        lambda path: documents.filed_form_context(path.item),
        frozenset({"/H1", "/Table", "/TH", "/TD"}),
    ),
    Kind(
        "意見募集結果",
        "comment_results.html",
        lambda path: documents.comment_results_context(path.item.comment_process),
        frozenset({"/H1", "/H2", "/Table", "/THead", "/TBody", "/TH", "/TD"}),
    ),
]


@pytest.fixture(scope="module")
def _rendered() -> dict[str, tuple[dict, bytes]]:
    """Each kind's context and PDF once per module (the app, and its database, are per test)."""
    return {}


@pytest.fixture
def rendered(_rendered, app) -> dict[str, tuple[dict, bytes]]:
    """Every kind's context and PDF, from the sample item's real path through the meetings."""
    if not _rendered:
        section = make_section("情報政策課", bureau="企画財政局", division="企画部")
        path = play_sample(make_user(Role.DEPARTMENT, section), make_user(Role.SECRETARIAT))
        db.session.commit()
        for kind in KINDS:
            context = kind.context(path)
            _rendered[kind.name] = (context, _render(kind.template, context))
    return _rendered


def _render(template: str, context: dict) -> bytes:
    meta = context["meta"]
    return render_pdf(template, context, created=meta["created"], modified=meta["modified"])


def _catalog(pdf: bytes) -> DictionaryObject:
    return PdfReader(io.BytesIO(pdf)).trailer["/Root"]


def _xmp(pdf: bytes) -> ET.Element:
    xmp = _catalog(pdf)["/Metadata"].get_object().get_data()
    return ET.fromstring(xmp)  # noqa: S314 (our own renderer's XMP, not a stranger's file)


def _structure(node) -> Iterator[DictionaryObject]:
    """Every structure element under *node*, depth first (marked-content ids are skipped)."""
    node = node.get_object()
    if isinstance(node, list):
        for kid in node:
            yield from _structure(kid)
        return
    if not isinstance(node, DictionaryObject):
        return  # an MCID
    if node.get("/Type") != "/StructTreeRoot":
        yield node
    if "/K" in node:
        yield from _structure(node["/K"])


def _elements(pdf: bytes) -> list[DictionaryObject]:
    return list(_structure(_catalog(pdf)["/StructTreeRoot"]))


def _title(context: dict) -> str:
    return context["doc_title"] + ("（案）" if context["draft"] else "")


@pytest.fixture(params=KINDS, ids=[k.name for k in KINDS])
def kind(request) -> Kind:
    return request.param


def test_every_document_is_marked_tagged_and_in_japanese(kind, rendered):
    _context, pdf = rendered[kind.name]
    catalog = _catalog(pdf)
    assert catalog["/MarkInfo"]["/Marked"] == BooleanObject(True)
    assert catalog["/StructTreeRoot"]["/Type"] == "/StructTreeRoot"
    assert catalog["/Lang"] == "ja"
    # A reader's window shows the title, not the file name.
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == BooleanObject(True)


def test_xmp_declares_pdfa_2_level_a_with_the_title_and_the_records_dates(kind, rendered):
    context, pdf = rendered[kind.name]
    xmp = _xmp(pdf)
    ids = [d for d in xmp.iter(f"{RDF}Description") if f"{PDFAID}part" in d.attrib]
    assert len(ids) == 1
    assert (ids[0].get(f"{PDFAID}part"), ids[0].get(f"{PDFAID}conformance")) == ("2", "A")
    titles = [li.text for li in xmp.iter(f"{RDF}li") if li.get(f"{XML}lang") == "x-default"]
    assert titles == [_title(context)]
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == _title(context)
    assert reader.pdf_header == "%PDF-1.7"
    # The XMP says what the info dictionary says: the record's dates, never the clock.
    created = xmp.find(f".//{XMP}CreateDate").text
    modified = xmp.find(f".//{XMP}ModifyDate").text
    assert created.startswith(context["meta"]["created"].isoformat()[:10])
    assert modified.startswith(context["meta"]["modified"].isoformat()[:10])
    assert reader.metadata.creation_date.date().isoformat() == created[:10]
    # An archive's copy needs its colours defined: the sRGB output intent.
    (intent,) = _catalog(pdf)["/OutputIntents"]
    assert intent.get_object()["/S"] == "/GTS_PDFA1"


def test_headings_lists_and_tables_are_structure_elements(kind, rendered):
    _context, pdf = rendered[kind.name]
    tags = {str(element["/S"]) for element in _elements(pdf)}
    assert kind.structure <= tags, sorted(kind.structure - tags)


def test_the_first_heading_is_the_documents_own_h1(kind, rendered):
    _context, pdf = rendered[kind.name]
    headings = [e for e in _elements(pdf) if str(e["/S"]).startswith("/H")]
    assert str(headings[0]["/S"]) == "/H1"


@pytest.mark.parametrize("name", ["次第", "意見募集結果"])
def test_every_data_cell_names_its_header(name, rendered):
    """th scope="row"/"col" in the templates: a screen reader says 「場 所」 before the venue."""
    _context, pdf = rendered[name]
    cells = [e for e in _elements(pdf) if e["/S"] == "/TD"]
    header_ids = {str(e["/ID"]) for e in _elements(pdf) if e["/S"] == "/TH"}
    assert cells
    for cell in cells:
        headers = {str(h) for h in cell["/A"]["/Headers"]}
        assert headers, "a cell without a header"
        assert headers <= header_ids


def test_agenda_header_cells_are_row_headers(rendered):
    """The 次第's 日時・場所・議長 label their own row: each cell has exactly one header."""
    _context, pdf = rendered["次第"]
    cells = [e for e in _elements(pdf) if e["/S"] == "/TD"]
    assert [len(cell["/A"]["/Headers"]) for cell in cells] == [1] * len(cells)


def test_the_tagged_file_is_the_same_bytes_for_the_same_record(kind, rendered):
    context, pdf = rendered[kind.name]
    assert _render(kind.template, context) == pdf
    # The file identifier is a hash of the content, not a random number.
    ids = PdfReader(io.BytesIO(pdf)).trailer["/ID"]
    assert ids[0] == ids[1]


def test_draft_minutes_say_an_in_their_title(rendered):
    """The 「案」 box sits in the page margin, outside the tags: the title carries it too."""
    context, _pdf = rendered["様式６"]
    draft = dict(context, draft=True)
    pdf = _render("minutes.html", draft)
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "第５回 政策調整会議 議事録（案）"
    titles = [li.text for li in _xmp(pdf).iter(f"{RDF}li") if li.get(f"{XML}lang") == "x-default"]
    assert titles == ["第５回 政策調整会議 議事録（案）"]


def test_serialising_each_stream_once_changes_no_byte(kind, rendered, monkeypatch):
    """The renderer's finisher only saves pydyf's second compression for the /ID hash."""
    context, pdf = rendered[kind.name]
    monkeypatch.setattr(render, "_serialise_streams_once", lambda document, pdf: None)
    assert _render(kind.template, context) == pdf
