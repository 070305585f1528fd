"""資料 on the pages: the item and meeting pages' 「資料」 section and its forms, the frozen list
per meeting, the public pages' downloads, and the 413 page."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.attachment_files import ooxml_bytes, pdf_bytes, plain_zip
from tests.factories import make_item, make_meeting
from tests.support import attachment_world, login
from workflow.extensions import db
from workflow.models import AgendaEntry, Attachment, HistoryEvent, StoredFile
from workflow.services import meetings
from workflow.states.states import ItemStatus, PdfStatus


@pytest.fixture
def w(app):
    return attachment_world()


def signed_in(app, user):
    return login(app.test_client(), user)


def add(client, item, content: bytes, name: str, **fields):
    data = {"file": (io.BytesIO(content), name), **fields}
    return client.post(
        f"/items/{item.id}/attachments", data=data, content_type="multipart/form-data"
    )


def page(client, item) -> str:
    return client.get(f"/items/{item.id}").get_data(as_text=True)


def test_the_department_adds_and_the_section_lists_them(app, w):
    client = signed_in(app, w["department"])
    item = w["accepted"]
    response = add(client, item, pdf_bytes(3), "計画（案）.pdf", title="計画（案）", public="y")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{item.id}#attachments")
    add(client, item, ooxml_bytes("docx"), "概要.docx", title="概要")
    html = page(client, item)
    assert "資料１" in html
    assert "資料２" in html
    assert "計画（案）.pdf" in html
    assert "3ページ" in html
    assert "概要.docx" in html
    assert "PDFに変換中" in html
    assert "資料を追加" in html
    assert 'enctype="multipart/form-data"' in html
    stored = db.session.scalars(
        select(StoredFile).where(StoredFile.media_type.like("%word%"))
    ).one()
    stored.pdf_status = PdfStatus.FAILED
    db.session.commit()
    assert "（変換できませんでした）" in page(client, item)
    # Unchecked 公開 is not public.
    assert [a.public for a in db.session.scalars(select(Attachment).order_by(Attachment.id))] == [
        True,
        False,
    ]


def test_a_refused_file_is_said_on_the_page_and_nothing_is_written(app, w):
    client = signed_in(app, w["department"])
    item = w["accepted"]
    response = add(client, item, plain_zip(), "表.xlsx")
    assert response.status_code == 302
    html = page(client, item)
    assert "Office Open XML" in html
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_over_the_limit_is_the_japanese_413_page(app, w):
    app.config["ATTACHMENT_MAX_MB"] = 0.05
    client = signed_in(app, w["department"])
    response = add(client, w["accepted"], b"%PDF" + b"\0" * 300_000, "大.pdf")
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "ファイルが大きすぎます" in html
    assert "0.05MBまで" in html
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_edit_move_replace_and_remove_from_the_page(app, w):
    client = signed_in(app, w["department"])
    item = w["accepted"]
    add(client, item, pdf_bytes(1), "一.pdf", title="一", public="y")
    add(client, item, pdf_bytes(2), "二.pdf", title="二", public="y")
    first, second = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    base = f"/items/{item.id}/attachments"

    client.post(f"{base}/{second.id}/move", data={"direction": "up"})
    db.session.expire_all()
    assert (second.position, first.position) == (0, 1)

    client.post(f"{base}/{first.id}/edit", data={"title": "一（改）"})
    db.session.expire_all()
    assert first.title == "一（改）"
    assert first.public is False

    client.post(
        f"{base}/{first.id}/file",
        data={"file": (io.BytesIO(pdf_bytes(4)), "一（差替え）.pdf")},
        content_type="multipart/form-data",
    )
    db.session.expire_all()
    assert first.filename == "一（差替え）.pdf"
    assert first.file.pages == 4

    # Removing asks for a confirmation.
    client.post(f"{base}/{second.id}/remove", data={})
    db.session.expire_all()
    assert second.removed_at is None
    assert "確認のチェックを入れてください" in page(client, item)
    client.post(f"{base}/{second.id}/remove", data={"confirm": "y"})
    db.session.expire_all()
    assert second.removed_at is not None
    assert first.position == 0
    events = db.session.scalars(
        select(HistoryEvent.event).where(HistoryEvent.item_id == item.id).order_by(HistoryEvent.id)
    ).all()
    assert events[-6:] == [
        "attach",
        "attach",
        "update_attachment",
        "update_attachment",
        "replace_attachment",
        "remove_attachment",
    ]
    assert "資料の差替え" in page(client, item)  # the timeline names the events


@pytest.mark.parametrize(
    ("who", "sees_forms", "post"),
    [("department", False, 302), ("viewer", False, 403), ("secretariat", True, 302)],
)
def test_forms_only_for_those_who_may_change(app, w, who, sees_forms, post):
    """The owning section's post from a page left open is sent back with the reason (below)."""
    item = make_item(ItemStatus.SCHEDULED, department=w["department"], secretariat=w["secretariat"])
    db.session.commit()
    client = signed_in(app, w[who])
    html = page(client, item)
    assert 'id="attachments"' in html
    assert ("資料を追加" in html) == sees_forms
    response = add(client, item, pdf_bytes(), "a.pdf")
    assert response.status_code == post
    added = db.session.scalar(select(func.count()).select_from(Attachment))
    assert added == (1 if sees_forms else 0)


def test_the_item_page_shows_the_list_frozen_for_each_meeting(app, w):
    client = signed_in(app, w["department"])
    item, sec = w["accepted"], w["secretariat"]
    add(client, item, pdf_bytes(2), "付議時.pdf", title="付議時の資料", public="y")
    meeting = make_meeting(sec, kind=item.level_kind, on=date(2019, 10, 1))
    meetings.schedule(sec, meeting, item, "担当課長")
    meetings.record_outcome(sec, meeting, item, "continued")
    db.session.commit()
    attachment = db.session.scalars(select(Attachment)).one()
    client.post(
        f"/items/{item.id}/attachments/{attachment.id}/file",
        data={"file": (io.BytesIO(pdf_bytes(5)), "修正後.pdf")},
        content_type="multipart/form-data",
    )
    html = page(client, item)
    assert "この会議に付議した資料" in html
    assert "付議時.pdf" in html
    assert "修正後.pdf" in html
    frozen = client.get(f"/items/{item.id}/attachments/{attachment.id}?meeting={meeting.id}")
    assert frozen.status_code == 200
    assert frozen.data.startswith(b"%PDF")
    entry = db.session.scalar(select(AgendaEntry).where(AgendaEntry.meeting_id == meeting.id))
    assert frozen.headers["ETag"] == f'"{entry.attachments[0].file.sha256}"'


def test_the_meeting_page_s_own_attachments(app, w):
    sec = w["secretariat"]
    meeting = make_meeting(sec)
    db.session.commit()
    client = signed_in(app, sec)
    response = client.post(
        f"/meetings/{meeting.id}/attachments",
        data={"file": (io.BytesIO(pdf_bytes()), "席次表.pdf"), "title": "席次表"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    html = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "席次表.pdf" in html
    assert "資料を追加" in html
    viewer = signed_in(app, w["viewer"])
    html = viewer.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "席次表.pdf" in html
    assert "資料を追加" not in html
    attachment = db.session.scalars(select(Attachment)).one()
    download = viewer.get(f"/meetings/{meeting.id}/attachments/{attachment.id}")
    assert download.status_code == 200
    assert download.data.startswith(b"%PDF")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_public_pages_list_and_serve_only_public_attachments(app, w):
    client = signed_in(app, w["department"])
    item, sec = w["accepted"], w["secretariat"]
    add(client, item, pdf_bytes(), "公開資料.pdf", public="y")
    add(client, item, ooxml_bytes("docx"), "内部資料.docx")  # 公開 unchecked
    meeting = make_meeting(sec, kind=item.level_kind, on=date(2019, 10, 1))
    meetings.schedule(sec, meeting, item, "担当課長")
    meetings.record_outcome(sec, meeting, item, "approved")
    meetings.hold(sec, meeting)
    meetings.confirm(sec, meeting)
    meetings.publish(sec, meeting)
    db.session.commit()
    shown, hidden = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    anonymous = app.test_client()
    html = anonymous.get(f"/public/items/{item.id}").get_data(as_text=True)
    assert "公開資料.pdf" in html
    assert "内部資料.docx" not in html
    response = anonymous.get(f"/public/items/{item.id}/attachments/{shown.id}")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert anonymous.get(f"/public/items/{item.id}/attachments/{hidden.id}").status_code == 404
    # The staff route is not a way around it.
    assert anonymous.get(f"/items/{item.id}/attachments/{hidden.id}").status_code in (302, 401, 404)
    # A docx downloads as an attachment, never inline.
    response = client.get(f"/items/{item.id}/attachments/{hidden.id}")
    assert response.data.startswith(b"PK")
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_a_meeting_id_past_any_integer_is_not_found_not_a_server_error(app, w):
    client = signed_in(app, w["secretariat"])
    item = w["accepted"]
    add(client, item, pdf_bytes(), "計画.pdf", title="計画")
    aid = db.session.scalar(select(Attachment.id))
    huge = "99999999999999999999"
    assert client.get(f"/items/{item.id}/attachments/{aid}?meeting={huge}").status_code == 404
    assert client.get(f"/items/{item.id}/form.pdf?meeting={huge}").status_code == 404


def test_staff_see_why_a_conversion_failed(app, w):
    client = signed_in(app, w["department"])
    item = w["accepted"]
    add(client, item, ooxml_bytes("docx"), "概要.docx", title="概要")
    stored = db.session.scalars(select(StoredFile)).one()
    stored.pdf_status = PdfStatus.FAILED
    stored.pdf_error = "LibreOffice が60秒以内に終わりませんでした。"
    db.session.commit()
    html = page(client, item)
    assert "（変換できませんでした）" in html
    assert "60秒以内に終わりませんでした" in html


def test_a_page_left_open_after_scheduling_says_why_the_department_cannot_change_it(app, w):
    client = signed_in(app, w["department"])
    item = w["accepted"]
    add(client, item, pdf_bytes(), "計画.pdf", title="計画")
    meeting = make_meeting(w["secretariat"], kind=item.level_kind, on=date(2019, 10, 1))
    meetings.schedule(w["secretariat"], meeting, item, "担当課長")
    db.session.commit()
    response = add(client, item, pdf_bytes(), "追加.pdf", title="追加")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{item.id}#attachments")
    assert "様式２を編集できる間" in page(client, item)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1
