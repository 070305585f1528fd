"""資料 end to end (issue 16): a Word file uploaded through the API waits 「PDFに変換中」, the
packet answers 202 meanwhile, `flask worker --once` converts it with LibreOffice, and the packet
then carries its pages under its bookmark; the department's later replacement stays out of it."""

from __future__ import annotations

import io
from datetime import date

import pikepdf

from tests.attachment_files import DATA, multipart, pdf_bytes
from tests.factories import make_item, make_meeting, make_section, make_user
from tests.support import API, auth
from workflow.extensions import db
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role


def _upload(client, url, user, content: bytes, name: str, method: str = "POST", **fields):
    body, content_type = multipart(content, name, **fields)
    return client.open(url, method=method, data=body, headers=auth(user), content_type=content_type)


def _outline(pdf: bytes) -> list[tuple[str, list[str]]]:
    with pikepdf.open(io.BytesIO(pdf)) as doc, doc.open_outline() as tree:
        return [(top.title, [child.title for child in top.children]) for top in tree.root]


def _pages(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def test_a_word_file_is_converted_by_the_worker_and_lands_in_the_packet(app, client):
    section = make_section("情報政策課")
    department = make_user(Role.DEPARTMENT, section)
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
    db.session.commit()
    url = f"{API}/items/{item.id}/attachments"

    word = (DATA / "small.docx").read_bytes()
    created = _upload(client, url, department, word, "計画（案）.docx", title="計画（案）")
    assert created.status_code == 201, created.get_data(as_text=True)
    assert (created.json["pdf_status"], created.json["pages"]) == ("pending", None)

    meeting = make_meeting(secretariat, kind=item.level_kind, on=date(2019, 10, 1))
    meetings.schedule(secretariat, meeting, item, "情報政策課長")
    db.session.commit()
    packet = f"{API}/meetings/{meeting.id}/packet.pdf"
    waiting = client.get(packet, headers=auth(secretariat))
    assert waiting.status_code == 202
    assert int(waiting.headers["Retry-After"]) > 0

    db.session.remove()  # the worker is another program: leave SQLite's lock free
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output

    (listed,) = client.get(url, headers=auth(secretariat)).json["attachments"]
    assert listed["pdf_status"] == "ready"
    assert listed["pages"] >= 1
    first = client.get(packet, headers=auth(secretariat))
    assert first.status_code == 200
    assert _outline(first.data)[-1][1] == ["様式２", "資料１　計画（案）"]

    # Before the meeting the secretariat may replace it (差替え): the packet follows.
    replaced = _upload(
        client,
        f"{url}/{listed['id']}/file",
        secretariat,
        pdf_bytes(4),
        "計画（案）.pdf",
        method="PUT",
    )
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    second = client.get(packet, headers=auth(secretariat))
    assert second.status_code == 200
    assert _pages(second.data) == _pages(first.data) - listed["pages"] + 4
