"""会議資料一式 (DOMAIN §10): one PDF of a meeting for the meeting room (ペーパーレス庁議).

The 次第, then the meeting's own 資料, then per agenda entry its frozen 様式２ and the 資料 frozen
with it (``entry.attachments``), each 資料 in its PDF edition. The outline reads 「次第」,
「会議資料」 › 「資料１　…」, 「１　〈案件名〉」 › 「様式２」, 「資料１　…」; every page carries 「－ N －」 at
its foot, N counted over the whole packet (the app's own parts are printed without their own
number for it). A 資料 that could not be converted stands as one page saying so.

The packet is staff material and prints everything the reader may read: it is never public, and
disclosure (公開/非公開) does not cut it. It is cached like the other documents (workflow.pdf.cache,
kind "packet"): its key hashes the keys of the app's parts (each the hash of what it prints), the
stored PDF edition of every 資料, every title, label and their order, so any change builds it
again and nothing else does. While a 資料 is still being converted there is no packet yet
(:class:`Pending`).
"""

from __future__ import annotations

import io
import logging
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date

import pikepdf
import sqlalchemy as sa
from pikepdf import Name, OutlineItem
from sqlalchemy.orm import selectinload

from workflow import storage
from workflow.extensions import db
from workflow.models import AgendaEntry, Attachment, Meeting, User
from workflow.models.attachment import EntryAttachment
from workflow.pdf import cache
from workflow.pdf.documents import (
    FormReads,
    PdfDocument,
    PdfSpec,
    agenda_spec,
    pdf_filename,
    pdf_spec,
    produce,
    request_form_spec,
    unnumbered,
)
from workflow.pdf.render import templates_digest
from workflow.services.attachments import live
from workflow.states.states import PdfStatus
from workflow.wareki import to_fullwidth_digits

__all__ = ["RETRY_AFTER", "Pending", "entry_page", "packet_pdf"]

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait while a 資料 is converted (a conversion takes up to 60 s).
RETRY_AFTER = 10
# Bumped when the assembly below changes what it makes from the same parts.
LAYOUT = 1
NOT_CONVERTED = "（変換できませんでした）"

# The page number 「－ N －」: EM points high, its baseline FOOT points above the page's foot.
EM = 10
FOOT = 16
GLYPHS = "－ ０１２３４５６７８９"
GLYPHS_DATE = date(2026, 12, 4)  # the glyphs' PDF is the same file whenever it is rendered


@dataclass(frozen=True, slots=True)
class Pending:
    """The packet cannot be made yet: these 資料 are still being converted to PDF."""

    titles: tuple[str, ...]

    @property
    def message(self) -> str:
        names = "、".join(f"「{t}」" for t in self.titles)
        return (
            f"資料{names}をPDFに変換中のため、会議資料一式はまだ作成できません。"
            f"{RETRY_AFTER}秒ほどしてから開き直してください。"
        )


@dataclass(slots=True)
class _Piece:
    """One outline entry's pages: an app document (rendered or cached) or a stored PDF."""

    label: str
    spec: PdfSpec | None = None
    file_id: int | None = None
    fingerprint: dict = field(default_factory=dict)
    fallback: PdfSpec | None = None  # a stored PDF's placeholder, should it prove unreadable

    def content(self) -> bytes:
        if self.spec is not None:
            return produce(self.spec).content
        return storage.read_bytes(self.file_id)


@dataclass(slots=True)
class _Section:
    """A top-level outline entry: 「次第」 (one piece, itself), 「会議資料」 or an agenda entry."""

    label: str
    pieces: list[_Piece]
    leaf: bool = False  # the section is its one piece (「次第」), no children


@dataclass(slots=True)
class _Plan:
    sections: list[_Section]
    pending: list[str]  # the titles of the 資料 still being converted


def _number(n: int) -> str:
    return to_fullwidth_digits(str(n))


def _placeholder(label: str, title: str, filename: str, meeting: Meeting) -> PdfSpec:
    context = unnumbered(
        {
            "doc_title": f"{label}　{title}{NOT_CONVERTED}",
            "form_label": "",
            "draft": False,
            "label": label,
            "title": title,
            "filename": filename,
            "meta": {"created": meeting.date, "modified": meeting.date},
        }
    )
    return pdf_spec("packet_placeholder", "packet_placeholder.html", context, "placeholder.pdf")


def _attachment_pieces(
    rows: list[Attachment] | list[EntryAttachment], meeting: Meeting, pending: list[str]
) -> list[_Piece]:
    """The 資料 in order, 資料１ first: the PDF edition, or the page saying it has none."""
    pieces = []
    for n, row in enumerate(rows, start=1):
        label = f"資料{_number(n)}"
        stored = row.file
        fingerprint = {"title": row.title, "filename": row.filename, "sha256": stored.sha256}
        if stored.pdf_status == PdfStatus.PENDING:
            pending.append(row.title)
            pieces.append(_Piece(f"{label}　{row.title}"))
        elif stored.pdf_status == PdfStatus.READY and stored.pdf_file_id is not None:
            fingerprint["pdf_file_id"] = stored.pdf_file_id
            piece = _Piece(f"{label}　{row.title}", file_id=stored.pdf_file_id)
            piece.fingerprint = fingerprint
            piece.fallback = _placeholder(label, row.title, row.filename, meeting)
            pieces.append(piece)
        else:  # failed, or a file no conversion was asked for: listed by name
            spec = _placeholder(label, row.title, row.filename, meeting)
            fingerprint["placeholder"] = spec.key
            pieces.append(
                _Piece(f"{label}　{row.title}{NOT_CONVERTED}", spec=spec, fingerprint=fingerprint)
            )
    return pieces


def _plan(meeting: Meeting, reader: User) -> _Plan:
    """What the packet holds, in order, each part with what identifies its content."""
    pending: list[str] = []
    agenda = agenda_spec(meeting, numbered=False)
    sections = [_Section("次第", [_Piece("次第", spec=agenda)], leaf=True)]
    own = live(meeting)  # the meeting's own 資料, staff material as all of the packet
    if own:
        sections.append(_Section("会議資料", _attachment_pieces(own, meeting, pending)))
    # The entries with their frozen forms and 資料 in three queries, not three per entry.
    entries = db.session.scalars(
        sa.select(AgendaEntry)
        .where(AgendaEntry.meeting_id == meeting.id)
        .order_by(AgendaEntry.position)
        .options(selectinload(AgendaEntry.form_version), selectinload(AgendaEntry.attachments))
    ).all()
    shared = FormReads.of(entries)
    for n, entry in enumerate(entries, start=1):
        form = request_form_spec(
            entry.item, reader=reader, meeting=meeting, entry=entry, shared=shared, numbered=False
        )
        pieces = [_Piece("様式２", spec=form)]
        pieces += _attachment_pieces(entry.attachments, meeting, pending)
        sections.append(_Section(f"{_number(n)}　{entry.item.title}", pieces))
    return _Plan(sections, pending)


def _key(plan: _Plan) -> str:
    """The packet's cache key: every part's content key or stored file, every label, in order."""
    context = {
        "layout": LAYOUT,
        "pikepdf": pikepdf.__version__,
        "stamp": _stamp_spec().key,
        "sections": [
            {
                "label": section.label,
                "leaf": section.leaf,
                "pieces": [
                    {
                        "label": piece.label,
                        "document": piece.spec.key if piece.spec else None,
                        "file": piece.fingerprint,
                    }
                    for piece in section.pieces
                ],
            }
            for section in plan.sections
        ],
    }
    return cache.content_key("packet", templates_digest(), context)


def _stamp_spec() -> PdfSpec:
    """The page number's glyphs on one line (pdf_templates/packet_stamp.html), cached as any
    document, so that a packet is built without WeasyPrint once they were rendered."""
    context = {
        "doc_title": "頁番号",
        "glyphs": GLYPHS,
        "em": EM,
        "meta": {"created": GLYPHS_DATE, "modified": GLYPHS_DATE},
    }
    return pdf_spec("packet_stamp", "packet_stamp.html", context, "stamp.pdf")


@dataclass(frozen=True, slots=True)
class _NumberFont:
    """The font the glyphs were set in, each glyph's code in it and its width (per 1000 em)."""

    font: pikepdf.Object
    codes: dict[str, bytes]
    widths: dict[str, float]

    def show(self, text: str) -> tuple[bytes, float]:
        """*text*'s codes, and its width in points at EM."""
        codes = b"".join(self.codes[c] for c in text)
        return codes, sum(self.widths[c] for c in text) * EM / 1000


def _number_font(glyphs: pikepdf.Pdf) -> _NumberFont:
    """Read the glyphs' page: the font of its text and the two-byte code (Identity-H, as
    WeasyPrint writes it) of each character of GLYPHS, in order."""
    page = glyphs.pages[0]
    font_name, codes = None, b""
    for operands, operator in pikepdf.parse_content_stream(page, "Tf TJ Tj"):
        if str(operator) == "Tf":
            font_name = operands[0]
        elif str(operator) == "Tj":
            codes += bytes(operands[0])
        else:
            codes += b"".join(bytes(x) for x in operands[0] if isinstance(x, pikepdf.String))
    font = page.obj.Resources.Font[font_name]
    if font.Encoding != Name("/Identity-H") or len(codes) != 2 * len(GLYPHS):
        raise RuntimeError(f"unexpected page-number glyphs: {font.Encoding} {codes!r}")
    by_char = {c: codes[2 * i : 2 * i + 2] for i, c in enumerate(GLYPHS)}
    cid_widths = _cid_widths(font.DescendantFonts[0])
    default = float(font.DescendantFonts[0].get(Name.DW, 1000))
    widths = {c: cid_widths.get(int.from_bytes(code), default) for c, code in by_char.items()}
    return _NumberFont(font, by_char, widths)


def _cid_widths(cid_font: pikepdf.Object) -> dict[int, float]:
    """A CID font's /W array as {cid: width}: ``c [w1 w2 …]`` and ``c_first c_last w`` runs."""
    widths: dict[int, float] = {}
    items = list(cid_font.get(Name.W, []))
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            for offset, width in enumerate(items[i + 1]):
                widths[first + offset] = float(width)
            i += 2
        else:
            for cid in range(first, int(items[i + 1]) + 1):
                widths[cid] = float(items[i + 2])
            i += 3
    return widths


def _stamp(packet: pikepdf.Pdf, glyphs: pikepdf.Pdf) -> None:
    """Put 「－ N －」 at the foot of every page, centred, N from 1 over the whole packet.

    One font (the glyphs' subset of IPAex明朝) is shared by every page. A page's own content is
    wrapped in q/Q so that whatever state it leaves cannot move the number, which is marked as
    a pagination artifact (no part of the tagged text). A rotated page is first turned
    upright (its content rotated instead), so that its foot is the foot the reader sees.
    """
    number_font = _number_font(glyphs)
    font = packet.copy_foreign(number_font.font)
    for n, page in enumerate(packet.pages, start=1):
        if page.obj.get(Name.Rotate, 0) % 360:
            page.flatten_rotation()
        box = pikepdf.Rectangle(page.cropbox)
        codes, width = number_font.show(f"－ {_number(n)} －")
        x = (box.llx + box.urx - width) / 2
        y = box.lly + FOOT
        name = page.add_resource(font, Name.Font, prefix="Pn")
        number = (
            f"\nQ\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC q 0 g BT {name} {EM} Tf "
            f"1 0 0 1 {x:.2f} {y:.2f} Tm <{codes.hex()}> Tj ET Q EMC\n"
        )
        page.contents_add(pikepdf.Stream(packet, b"q\n"), prepend=True)
        page.contents_add(pikepdf.Stream(packet, number.encode()))


def _open(piece: _Piece) -> pikepdf.Pdf:
    """The piece's PDF; for a stored PDF that pikepdf cannot read or that has no page (which
    the upload's check should have refused), its placeholder page, and the outline says so."""
    try:
        part = pikepdf.open(io.BytesIO(piece.content()))
    except pikepdf.PdfError as exc:
        if piece.fallback is None:
            raise
        logger.warning("packet: stored PDF %s unreadable (%s)", piece.file_id, exc)
    else:
        if len(part.pages) or piece.fallback is None:
            return part
        part.close()
        logger.warning("packet: stored PDF %s has no page", piece.file_id)
    piece.label += NOT_CONVERTED
    return pikepdf.open(io.BytesIO(produce(piece.fallback).content))


def _assemble(meeting: Meeting, plan: _Plan) -> bytes:
    """The parts as one PDF with its outline and page numbers."""
    packet = pikepdf.new()
    outline: list[tuple[_Section, int, list[int]]] = []
    # A copied page's streams are read from its source when the packet is saved: keep every
    # source open until then.
    with ExitStack() as sources:
        for section in plan.sections:
            starts = []
            for piece in section.pieces:
                starts.append(len(packet.pages))
                packet.pages.extend(sources.enter_context(_open(piece)).pages)
            outline.append((section, starts[0], starts))
        glyphs = sources.enter_context(pikepdf.open(io.BytesIO(produce(_stamp_spec()).content)))
        _stamp(packet, glyphs)
        with packet.open_outline() as tree:
            for section, first, starts in outline:
                top = OutlineItem(section.label, first)
                if not section.leaf:
                    for piece, start in zip(section.pieces, starts, strict=True):
                        top.children.append(OutlineItem(piece.label, start))
                tree.root.append(top)
        packet.Root.PageMode = Name.UseOutlines
        packet.Root.Lang = pikepdf.String("ja")
        packet.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
        packet.docinfo[Name.Title] = f"{meeting.title} 資料一式"
        out = io.BytesIO()
        # The same parts give the same bytes: the file /ID is made from the content.
        packet.save(out, deterministic_id=True, compress_streams=True)
    return out.getvalue()


def packet_pdf(meeting: Meeting, reader: User) -> PdfDocument | Pending:
    """The 会議資料一式 of *meeting* as *reader* (staff) reads it, from the cache or built now;
    :class:`Pending` while a 資料 is still being converted."""
    plan = _plan(meeting, reader)
    if plan.pending:
        return Pending(tuple(plan.pending))
    key = _key(plan)
    filename = pdf_filename(meeting.title, "資料一式")
    content = cache.lookup(key)
    if content is not None:
        return PdfDocument(content, key, filename, cached=True)
    content = _assemble(meeting, plan)
    cache.store(key, "packet", content)
    return PdfDocument(content, key, filename, cached=False)


def entry_page(meeting: Meeting, document: PdfDocument, n: int) -> int | None:
    """The page (from 1) where agenda entry *n* (from 1) begins in *document*, read from its
    outline; None when there is no such entry."""
    if not 1 <= n <= len(meeting.entries):
        return None
    with pikepdf.open(io.BytesIO(document.content)) as pdf, pdf.open_outline() as tree:
        sections = tree.root
        index = len(sections) - len(meeting.entries) + n - 1
        target = sections[index].destination[0]
        for number, page in enumerate(pdf.pages, start=1):
            if page.obj.objgen == target.objgen:
                return number
    return None
