"""会議資料一式 (DOMAIN §10): the 次第, the meeting's 資料, then per entry its 様式２ and 資料, as one
PDF with an outline and 「－ N －」 on every page; 202 while a 資料 is converted; cached until
anything in it changes; staff only.

The 資料 are small PDFs made here, each page of its own size, so the packet's pages show which
part they came from.
"""

from __future__ import annotations

import io
import re

import pikepdf
import pytest
from pypdf import PdfReader

from tests.factories import make_item, make_meeting, make_user
from tests.support import auth, counting, login
from workflow import storage
from workflow.extensions import db
from workflow.models import Attachment, Meeting, User
from workflow.models._types import utcnow
from workflow.models.attachment import EntryAttachment, StoredFile
from workflow.pdf import packet
from workflow.pdf.documents import agenda_spec, produce, request_form_spec
from workflow.services import meetings
from workflow.states.states import Disclosure, ItemStatus, PdfStatus, Role
from workflow.wareki import to_fullwidth_digits

pytestmark = pytest.mark.usefixtures("app")

API = "/api/v1/meetings/{id}/packet.pdf"
PAGE = "/meetings/{id}/packet.pdf"
NUMBER = re.compile(r"－\s*([０-９]+)\s*－")


def pdf_bytes(pages: int, size: tuple[int, int], *, rotate: int = 0) -> bytes:
    """A PDF of *pages* blank pages of *size* points (its pages tell where they came from)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        page = pdf.add_blank_page(page_size=size)
        if rotate:
            page.rotate(rotate, relative=False)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def stored(pages: int, size: tuple[int, int], status: PdfStatus = PdfStatus.READY, **kw):
    """A stored PDF 資料 whose PDF edition is itself, as a PDF upload gets it."""
    file = storage.store(io.BytesIO(pdf_bytes(pages, size, **kw)), "application/pdf")
    file.pdf_status = status
    if status == PdfStatus.READY:
        file.pdf_file_id, file.pages = file.id, pages
    db.session.flush()
    return file


def office_file(status: PdfStatus) -> StoredFile:
    """A Word file still converting, or whose conversion failed."""
    file = storage.store(io.BytesIO(b"PK\x03\x04 not really a docx"), "application/msword")
    file.pdf_status = status
    db.session.flush()
    return file


def attach(entry, title: str, file: StoredFile, filename: str = "") -> EntryAttachment:
    """A 資料 of the entry's item, frozen with its 様式２ (as scheduling does)."""
    position = len(entry.attachments)
    filename = filename or f"{title}.pdf"
    live = Attachment(
        item_id=entry.item_id, position=position, title=title, filename=filename, file_id=file.id
    )
    db.session.add(live)
    db.session.flush()
    frozen = EntryAttachment(
        entry_id=entry.id,
        attachment_id=live.id,
        position=position,
        title=title,
        filename=filename,
        file_id=file.id,
    )
    entry.attachments.append(frozen)
    db.session.flush()
    return frozen


def agenda(secretariat: User, count: int) -> Meeting:
    """A planned meeting with *count* items on its agenda."""
    items = [make_item(ItemStatus.ACCEPTED, secretariat=secretariat) for _ in range(count)]
    meeting = make_meeting(secretariat, kind=items[0].level_kind)
    for item in items:
        meetings.schedule(secretariat, meeting, item, "担当課長")
    return meeting


@pytest.fixture
def secretariat() -> User:
    user = make_user(Role.SECRETARIAT, login="sec")
    db.session.commit()
    return user


@pytest.fixture
def meeting(secretariat) -> Meeting:
    """Two entries: the first with two 資料 (3 and 2 pages), the second with none; and a 資料
    of the meeting itself (1 page, landscape A4)."""
    meeting = agenda(secretariat, 2)
    first = meeting.entries[0]
    attach(first, "計画（案）", stored(3, (500, 700)))
    attach(first, "概要", stored(2, (400, 600)))
    db.session.add(
        Attachment(
            meeting_id=meeting.id,
            position=0,
            title="会議の進め方",
            filename="進め方.pdf",
            file_id=stored(1, (842, 595)).id,
        )
    )
    db.session.commit()
    return meeting


def pages_of(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def outline(pdf: bytes) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """The packet's bookmarks: (title, page from 1, [(child title, page from 1)])."""
    with pikepdf.open(io.BytesIO(pdf)) as doc, doc.open_outline() as tree:
        numbers = {page.obj.objgen: n for n, page in enumerate(doc.pages, start=1)}

        def page(item) -> int:
            return numbers[item.destination[0].objgen]

        return [
            (top.title, page(top), [(child.title, page(child)) for child in top.children])
            for top in tree.root
        ]


def get_packet(client, meeting: Meeting, user: User, url: str = API):
    headers = auth(user) if url == API else {}
    db.session.commit()
    return client.get(url.format(id=meeting.id), headers=headers)


def packet_of(client, meeting: Meeting, user: User) -> bytes:
    response = get_packet(client, meeting, user)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    return response.data


def n(number: int) -> str:
    return to_fullwidth_digits(str(number))


def test_outline_and_pages_match_the_parts(client, meeting, secretariat):
    pdf = packet_of(client, meeting, secretariat)
    first, second = meeting.entries
    agenda_pages = pages_of(produce(agenda_spec(meeting, numbered=False)).content)
    forms = [
        pages_of(
            produce(
                request_form_spec(e.item, reader=secretariat, meeting=meeting, numbered=False)
            ).content
        )
        for e in meeting.entries
    ]
    assert agenda_pages >= 1
    assert forms[0] >= 2  # 様式２ has a front and a back

    # 次第, 会議資料 (1), entry 1: 様式２ + 3 + 2, entry 2: 様式２.
    p_meeting = agenda_pages + 1
    p_first = p_meeting + 1
    p_plan = p_first + forms[0]
    p_summary = p_plan + 3
    p_second = p_summary + 2
    total = p_second + forms[1] - 1
    assert pages_of(pdf) == total
    assert outline(pdf) == [
        ("次第", 1, []),
        ("会議資料", p_meeting, [("資料１　会議の進め方", p_meeting)]),
        (
            f"１　{first.item.title}",
            p_first,
            [("様式２", p_first), ("資料１　計画（案）", p_plan), ("資料２　概要", p_summary)],
        ),
        (f"２　{second.item.title}", p_second, [("様式２", p_second)]),
    ]
    # Each part's pages are where the outline says, in order: the 資料 by their own sizes.
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert doc.check_pdf_syntax() == []  # what `qpdf --check` would say
        assert str(doc.docinfo["/Title"]) == f"{meeting.title} 資料一式"
        sizes = [tuple(round(float(v)) for v in page.mediabox[2:]) for page in doc.pages]
    assert sizes[p_meeting - 1] == (842, 595)
    assert sizes[p_plan - 1 : p_summary - 1] == [(500, 700)] * 3
    assert sizes[p_summary - 1 : p_second - 1] == [(400, 600)] * 2
    a4 = (595, 842)
    assert sizes[:agenda_pages] == [a4] * agenda_pages
    assert sizes[p_first - 1 : p_plan - 1] == [a4] * forms[0]


def test_every_page_carries_its_number_over_the_whole_packet(client, meeting, secretariat):
    first = meeting.entries[0]
    attach(first, "横向き", stored(2, (595, 842), rotate=90))  # shown landscape
    pdf = packet_of(client, meeting, secretariat)
    reader = PdfReader(io.BytesIO(pdf))
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        # Its own number only: the 次第 and 様式２ print none of their own inside the packet.
        assert NUMBER.findall(text) == [n(number)], (number, text[-200:])
    # The number sits at the foot as the page is shown, centred: on the rotated pages too.
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            box = pikepdf.Rectangle(page.cropbox)
            assert page.obj.get("/Rotate", 0) % 360 == 0
            [(font, size, x, y, codes)] = _numbers(page)
            assert float(y) == pytest.approx(box.lly + packet.FOOT, abs=0.01)
            width = _width(page.obj.Resources.Font[font], codes) * float(size) / 1000
            assert float(x) + width / 2 == pytest.approx((box.llx + box.urx) / 2, abs=0.01)


def _numbers(page) -> list[tuple]:
    """The page numbers the packet wrote: (font, size, x, y, codes) of each."""
    found = []
    state: dict = {}
    for operands, operator in pikepdf.parse_content_stream(page, "Tf Tm Tj"):
        op = str(operator)
        if op == "Tf":
            state["font"], state["size"] = str(operands[0]), operands[1]
        elif op == "Tm":
            state["x"], state["y"] = operands[4], operands[5]
        elif state.get("font", "").startswith("/Pn"):
            found.append((state["font"], state["size"], state["x"], state["y"], bytes(operands[0])))
    return found


def _width(font, codes: bytes) -> float:
    widths = packet._cid_widths(font.DescendantFonts[0])
    return sum(widths[int.from_bytes(codes[i : i + 2])] for i in range(0, len(codes), 2))


def test_the_packet_prints_the_parts_text(client, meeting, secretariat):
    """The 次第 and each 様式２ are the app's own documents, words and all."""
    pdf = packet_of(client, meeting, secretariat)
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert re.sub(r"\s+", "", f"{meeting.title}次第") in text
    for entry in meeting.entries:
        assert entry.item.title in text
    assert "案件申込書" in text


def test_a_file_that_failed_to_convert_stands_as_one_page(client, meeting, secretariat):
    second = meeting.entries[1]
    attach(second, "事業費の内訳", office_file(PdfStatus.FAILED), "内訳表.xlsx")
    pdf = packet_of(client, meeting, secretariat)
    top = outline(pdf)[-1]
    assert top[2][1][0] == "資料１　事業費の内訳（変換できませんでした）"
    page = top[2][1][1]
    assert page == pages_of(pdf)  # one page, the last
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(pdf)).pages[page - 1].extract_text())
    assert "事業費の内訳" in text
    assert "内訳表.xlsx" in text
    assert "（変換できませんでした）" in text
    assert f"－{n(page)}－" in text


@pytest.mark.parametrize("content", [b"%PDF-1.7 broken", pdf_bytes(0, (595, 842))])
def test_a_stored_pdf_that_cannot_be_read_stands_as_one_page(client, meeting, secretariat, content):
    file = storage.store(io.BytesIO(content), "application/pdf", pdf_status=PdfStatus.READY)
    file.pdf_file_id, file.pages = file.id, 1
    attach(meeting.entries[1], "壊れた資料", file, "broken.pdf")
    pdf = packet_of(client, meeting, secretariat)
    title, page = outline(pdf)[-1][2][1]
    assert title == "資料１　壊れた資料（変換できませんでした）"
    assert page == pages_of(pdf)
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(pdf)).pages[page - 1].extract_text())
    assert "broken.pdf" in text


@pytest.mark.parametrize("url", [API, PAGE])
def test_while_a_file_converts_the_packet_answers_202(client, meeting, secretariat, url):
    attach(meeting.entries[1], "説明資料", office_file(PdfStatus.PENDING), "説明.pptx")
    if url == PAGE:
        login(client, secretariat)
    response = get_packet(client, meeting, secretariat, url)
    assert response.status_code == 202
    assert int(response.headers["Retry-After"]) == packet.RETRY_AFTER
    assert response.mimetype != "application/pdf"
    if url == API:
        body = response.get_json()
        assert body["status"] == "pending"
        assert body["pending"] == ["説明資料"]
        assert "変換中" in body["message"]
    else:
        page = response.get_data(as_text=True)
        assert "「説明資料」をPDFに変換中" in page
        assert response.headers["Refresh"] == str(packet.RETRY_AFTER)  # the page asks again
    # Once converted, the packet is there.
    file = db.session.get(StoredFile, meeting.entries[1].attachments[0].file_id)
    pdf = stored(4, (300, 400))
    file.pdf_status, file.pdf_file_id, file.pages = PdfStatus.READY, pdf.id, 4
    response = get_packet(client, meeting, secretariat, url)
    assert response.status_code == 200
    assert outline(response.data)[-1][2][1][0] == "資料１　説明資料"


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """How many packets were assembled (not served from the cache)."""
    calls = []
    assemble = packet._assemble

    def counting(meeting, plan):
        calls.append(meeting.id)
        return assemble(meeting, plan)

    monkeypatch.setattr(packet, "_assemble", counting)
    return calls


def test_a_second_download_comes_from_the_cache(client, meeting, secretariat, builds, monkeypatch):
    first = get_packet(client, meeting, secretariat)

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr("workflow.pdf.documents.render_pdf", no_rendering)
    second = get_packet(client, meeting, secretariat)
    assert builds == [meeting.id]
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"] == "private, no-cache"
    assert "filename*=UTF-8''" in second.headers["Content-Disposition"]
    again = client.get(
        API.format(id=meeting.id),
        headers={**auth(secretariat), "If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304


def _retitle(meeting: Meeting, secretariat: User) -> None:
    meeting.entries[0].attachments[1].title = "概要（改訂）"


def _replace(meeting: Meeting, secretariat: User) -> None:
    frozen = meeting.entries[0].attachments[0]
    frozen.file_id = stored(5, (500, 700)).id  # 差替え: a new stored file
    db.session.expire(frozen, ["file"])


def _reorder(meeting: Meeting, secretariat: User) -> None:
    order = [e.item_id for e in meeting.entries][::-1]
    meetings.reorder_agenda(secretariat, meeting, order)


def _rename_item(meeting: Meeting, secretariat: User) -> None:
    meeting.venue = "第二会議室"  # the 次第 prints it


@pytest.mark.parametrize("change", [_retitle, _replace, _reorder, _rename_item])
def test_a_change_to_any_part_builds_it_again(client, meeting, secretariat, builds, change):
    before = get_packet(client, meeting, secretariat)
    change(meeting, secretariat)
    db.session.commit()
    after = get_packet(client, meeting, secretariat)
    assert after.status_code == 200
    assert builds == [meeting.id, meeting.id]
    assert after.headers["ETag"] != before.headers["ETag"]
    titles = [(t, [c for c, _ in children]) for t, _, children in outline(after.data)]
    entries = db.session.get(Meeting, meeting.id).entries
    assert [t for t, _ in titles[2:]] == [
        f"{n(i)}　{e.item.title}" for i, e in enumerate(entries, start=1)
    ]
    if change is _retitle:
        assert titles[2][1][2] == "資料２　概要（改訂）"
    if change is _replace:
        assert pages_of(after.data) == pages_of(before.data) + 2
    # … and the new one is served from the cache in turn.
    get_packet(client, meeting, secretariat)
    assert len(builds) == 2


@pytest.mark.parametrize("url", [API, "/public/meetings/{id}/packet.pdf"])
def test_the_public_gets_no_packet(client, meeting, secretariat, url):
    for entry in meeting.entries:
        meetings.record_outcome(secretariat, meeting, entry.item, "approved")
    meetings.hold(secretariat, meeting)
    meetings.confirm(secretariat, meeting)
    meetings.publish(secretariat, meeting)
    db.session.commit()
    assert client.get(f"/api/v1/meetings/{meeting.id}/agenda.pdf").status_code == 200
    assert client.get(url.format(id=meeting.id)).status_code == 404


def test_the_page_route_sends_the_public_to_sign_in(client, meeting):
    response = client.get(PAGE.format(id=meeting.id))
    assert response.status_code == 302
    assert response.location.startswith("/login")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("url", [API, PAGE])
def test_staff_read_the_packet(client, meeting, role, url):
    user = make_user(role)
    db.session.commit()
    if url == PAGE:
        login(client, user)
    response = get_packet(client, meeting, user, url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    if url == PAGE:  # opened in the browser, where #page=N works
        assert response.headers["Content-Disposition"].startswith("inline;")
    assert outline(response.data)[0][0] == "次第"


def test_each_entry_links_to_its_first_page(client, meeting, secretariat):
    login(client, secretariat)
    show = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}/packet.pdf"' in show
    room = client.get(f"/meetings/{meeting.id}/room/2").get_data(as_text=True)
    assert f'href="/meetings/{meeting.id}/packet.pdf?entry=2"' in room
    pdf = client.get(PAGE.format(id=meeting.id)).data
    tops = outline(pdf)
    for number in (1, 2):
        link = f"/meetings/{meeting.id}/packet.pdf?entry={number}"
        assert f'href="{link}"' in show
        response = client.get(link)
        assert response.status_code == 302
        expected = tops[1 + number][1]  # after 次第 and 会議資料
        assert response.location == f"/meetings/{meeting.id}/packet.pdf#page={expected}"
    assert tops[3][1] > tops[2][1] > 1
    assert client.get(f"/meetings/{meeting.id}/packet.pdf?entry=3").status_code == 404


def test_a_cached_packet_costs_the_same_queries_however_long_the_agenda(client, secretariat):
    """Each entry's form and 資料 are read together for all entries (no query per entry)."""
    counts = []
    for size in (1, 4):
        meeting = agenda(secretariat, size)
        for entry in meeting.entries:
            attach(entry, "資料", stored(1, (595, 842)))
        get_packet(client, meeting, secretariat)  # built and cached
        headers = auth(secretariat)
        db.session.commit()
        with counting() as statements:
            response = client.get(API.format(id=meeting.id), headers=headers)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_the_packet_prints_every_readable_part_but_no_removed_one(client, meeting, secretariat):
    """Staff material: a 資料 not public and a 非公開 entry are in it; a meeting's 資料 its owner
    removed is not."""
    first, second = meeting.entries
    attach(second, "内部検討資料", stored(1, (595, 842))).public = False
    second.disclosure, second.disclosure_reason = Disclosure.CLOSED, "第７条第５号"
    db.session.add(
        Attachment(
            meeting_id=meeting.id,
            position=1,
            title="差し替え前の進め方",
            filename="old.pdf",
            file_id=stored(1, (595, 842)).id,
            removed_at=utcnow(),
        )
    )
    db.session.commit()
    tops = outline(packet_of(client, meeting, secretariat))
    assert tops[1][2] == [("資料１　会議の進め方", tops[1][1])]
    assert tops[3][0] == f"２　{second.item.title}"
    assert [title for title, _ in tops[3][2]] == ["様式２", "資料１　内部検討資料"]
