"""資料 (DOMAIN §10) through the API: checks on upload, who may change them, history, frozen
versions and 差替え, what the public may download, and the download's headers."""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.attachment_files import (
    broken_pdf,
    doc_bytes,
    encrypted_pdf,
    exe_bytes,
    jpeg_bytes,
    multipart,
    ooxml_bytes,
    pdf_bytes,
    plain_zip,
    png_bytes,
    zip_bomb_docx,
)
from tests.factories import item_meeting_id, make_item, make_meeting
from tests.support import API, attachment_world, auth
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.files import check_filename
from workflow.models import (
    AgendaEntry,
    Attachment,
    FileChunk,
    HistoryEvent,
    Job,
    Meeting,
    StoredFile,
)
from workflow.services import meetings
from workflow.states.states import Disclosure, ItemStatus


@pytest.fixture
def w(app):
    return attachment_world()


def upload(client, url, user, content: bytes, name: str, *, method="post", **fields):
    body, content_type = multipart(content, name, **fields)
    headers = auth(user) if user is not None else {}
    return client.open(
        url, method=method.upper(), data=body, headers=headers, content_type=content_type
    )


def items_url(item, *rest) -> str:
    return "/".join([f"{API}/items/{item.id}/attachments", *map(str, rest)])


def counts() -> tuple[int, int, int, int, int]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (StoredFile, FileChunk, Attachment, HistoryEvent, Job)
    )


# -- what an upload may be ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "media_type", "pdf_status"),
    [
        ("計画（案）.pdf", pdf_bytes(3), "application/pdf", "ready"),
        (
            "概要.docx",
            ooxml_bytes("docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "pending",
        ),
        (
            "予算.xlsx",
            ooxml_bytes("xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "pending",
        ),
        (
            "説明.pptx",
            ooxml_bytes("pptx"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pending",
        ),
        ("古い文書.doc", doc_bytes(), "application/msword", "pending"),
        ("図.png", png_bytes(), "image/png", "pending"),
        ("写真.JPG", jpeg_bytes(), "image/jpeg", "pending"),
    ],
)
def test_each_allowed_kind_is_stored_with_its_type_from_the_content(
    client, w, name, content, media_type, pdf_status
):
    item = w["accepted"]
    response = upload(client, items_url(item), w["department"], content, name, title="資料名")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["media_type"] == media_type
    assert body["filename"] == name
    assert body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["pdf_status"] == pdf_status
    assert body["position"] == 0
    assert body["public"] is True
    assert body["title"] == "資料名"
    jobs = db.session.scalars(select(Job)).all()
    if pdf_status == "ready":
        assert body["pages"] == 3
        stored = db.session.get(StoredFile, db.session.get(Attachment, body["id"]).file_id)
        assert stored.pdf_file_id == stored.id
        assert jobs == []
    else:
        assert body["pages"] is None
        assert [(j.kind, j.params) for j in jobs] == [
            ("convert_pdf", {"file_id": db.session.get(Attachment, body["id"]).file_id})
        ]


BAD_UPLOADS = [
    ("docx named pdf", "資料.pdf", ooxml_bytes("docx"), "拡張子は「.pdf」"),
    ("pdf named docx", "資料.docx", pdf_bytes(), "拡張子は「.docx」"),
    ("png named jpg", "図.jpg", png_bytes(), "拡張子は「.jpg」"),
    ("exe named exe", "setup.exe", exe_bytes(), "この種類のファイルは添付できません"),
    ("exe named pdf", "資料.pdf", exe_bytes(), "実行ファイル"),
    ("text named docx", "メモ.docx", "ただの文章".encode(), "Word文書（.docx）ではありません"),
    ("plain zip named xlsx", "表.xlsx", plain_zip(), "Office Open XML"),
    ("encrypted pdf", "秘.pdf", encrypted_pdf(), "暗号化"),
    ("broken pdf", "壊れた.pdf", broken_pdf(), "壊れている"),
    ("zip bomb", "爆弾.docx", zip_bomb_docx(), "zip爆弾"),
    ("empty", "空.pdf", b"", "0バイト"),
    ("slash in name", "../../etc/資料.pdf", pdf_bytes(), "フォルダの区切り"),
    ("control character", "資料\x07.pdf", pdf_bytes(), "制御文字"),
    ("name too long", "あ" * 300 + ".pdf", pdf_bytes(), "長すぎ"),
    ("no extension", "資料", pdf_bytes(), "この種類のファイルは添付できません"),
    ("dot file", ".pdf", pdf_bytes(), "ファイル名が正しくありません"),
]


@pytest.mark.parametrize(
    ("name", "content", "says"), [c[1:] for c in BAD_UPLOADS], ids=[c[0] for c in BAD_UPLOADS]
)
def test_a_bad_upload_is_refused_in_japanese_and_nothing_is_written(client, w, name, content, says):
    item = w["accepted"]
    headers_user = w["department"]
    auth(headers_user)  # the token row first: counted before
    before = counts()
    response = upload(client, items_url(item), headers_user, content, name)
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert any(says in m for m in error["details"]["fields"]["file"]), error
    db.session.rollback()
    after = counts()
    assert after[:3] == before[:3]
    assert after[4] == before[4]
    assert db.session.scalar(select(func.count()).where(HistoryEvent.event == "attach")) == 0


@pytest.mark.parametrize(
    "name", ["C:\\temp\\資料.pdf", "a/b.pdf", "資料\n.pdf", "資料\u202e.pdf", "", "  "]
)
def test_unsafe_names_are_refused_whatever_the_transport(app, name):
    """Werkzeug unquotes a multipart file name (a raw backslash is lost on the way): the check
    itself refuses separators, control and format characters, and empty names."""
    with pytest.raises(ValidationFailed) as refused:
        check_filename(name)
    assert list(refused.value.fields) == ["file"]


def test_no_file_is_refused(client, w):
    response = client.post(
        items_url(w["accepted"]),
        data={"title": "資料"},
        headers=auth(w["department"]),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "ファイルを選んでください" in response.json["error"]["details"]["fields"]["file"][0]


def test_public_must_be_true_or_false(client, w):
    response = upload(
        client, items_url(w["accepted"]), w["department"], pdf_bytes(), "a.pdf", public="yes"
    )
    assert response.status_code == 422
    assert "public" in response.json["error"]["details"]["fields"]


def test_over_the_upload_limit_is_a_japanese_413_and_nothing_is_written(app, client, w):
    app.config["ATTACHMENT_MAX_MB"] = 0.05  # 52 KB
    item = w["accepted"]
    user = w["department"]
    auth(user)
    before = counts()
    # Past the file limit but within the body's slack: refused after parsing.
    response = upload(client, items_url(item), user, pdf_bytes() + b"\0" * 60_000, "大.pdf")
    assert response.status_code == 413
    assert "50" not in response.json["error"]["message"]
    assert "0.05MBまで" in response.json["error"]["message"]
    # Past the body limit: refused before the body is read.
    response = upload(client, items_url(item), user, b"%PDF" + b"\0" * 400_000, "大.pdf")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert "0.05MBまで" in response.json["error"]["message"]
    db.session.rollback()
    assert counts()[:3] == before[:3]


def test_the_json_body_limit_stays_as_it_is(app, client, w):
    """A JSON write past 2 MiB is still refused: only upload views take larger bodies."""
    response = client.patch(
        f"{API}/items/{w['accepted'].id}",
        data=b'{"title": "' + b"a" * (3 * 1024 * 1024) + b'"}',
        headers={**auth(w["department"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "2 MiB" in response.json["error"]["message"]


def test_an_upload_larger_than_the_json_limit_is_accepted(client, w):
    content = pdf_bytes() + b"\n%" + b"x" * (3 * 1024 * 1024)  # trailing comment: still a PDF
    response = upload(client, items_url(w["accepted"]), w["department"], content, "大きい.pdf")
    assert response.status_code == 201, response.json
    assert response.json["size"] == len(content)
    chunks = db.session.scalar(select(func.count()).select_from(FileChunk))
    assert chunks == 4  # 1 MiB each


# -- who may change them ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "allowed"),
    [
        ("department", ItemStatus.DRAFT, True),
        ("department", ItemStatus.ACCEPTED, True),
        ("department", ItemStatus.SUBMITTED, False),
        ("department", ItemStatus.SCHEDULED, False),
        ("department", ItemStatus.APPROVED, False),
        ("other", ItemStatus.ACCEPTED, False),
        ("viewer", ItemStatus.ACCEPTED, False),
        ("admin", ItemStatus.ACCEPTED, False),
        ("secretariat", ItemStatus.SUBMITTED, True),
        ("secretariat", ItemStatus.SCHEDULED, True),
        ("secretariat", ItemStatus.CONCLUDED, True),
    ],
)
def test_who_may_add_to_an_item(client, w, who, status, allowed):
    item = make_item(status, department=w["department"], secretariat=w["secretariat"])
    response = upload(client, items_url(item), w[who], pdf_bytes(), "資料.pdf")
    assert response.status_code == (201 if allowed else 403), response.json
    if not allowed:
        assert response.json["error"]["code"] == "forbidden"


def test_writes_need_a_token(client, w):
    response = upload(client, items_url(w["accepted"]), None, pdf_bytes(), "資料.pdf")
    assert response.status_code in (401, 404)


@pytest.mark.parametrize(
    ("who", "allowed"), [("secretariat", True), ("department", False), ("viewer", False)]
)
def test_only_the_secretariat_changes_a_meeting_s_attachments(client, w, who, allowed):
    meeting = make_meeting(w["secretariat"])
    response = upload(
        client, f"{API}/meetings/{meeting.id}/attachments", w[who], pdf_bytes(), "次第補足.pdf"
    )
    assert response.status_code == (201 if allowed else 403)


# -- the list: add, reorder, retitle, replace, remove, with history ------------------------------


def test_changes_keep_the_order_and_write_history(client, w):
    item, user = w["accepted"], w["department"]
    # qpdf stamps each save with an /ID made from the clock: keep the bytes that were uploaded.
    pdfs = {n: pdf_bytes(n) for n in (1, 2, 3)}
    first_pdf = pdfs[1]
    ids = [
        upload(client, items_url(item), user, pdfs[n], f"資料{n}.pdf", title=f"第{n}").json["id"]
        for n in (1, 2, 3)
    ]
    listed = client.get(items_url(item), headers=auth(user)).json["attachments"]
    assert [a["id"] for a in listed] == ids
    assert [a["position"] for a in listed] == [0, 1, 2]

    response = client.patch(
        items_url(item, ids[2]),
        json={"position": 0, "title": "一番目", "public": False},
        headers=auth(user),
    )
    assert response.status_code == 200, response.json
    listed = client.get(items_url(item), headers=auth(user)).json["attachments"]
    assert [a["id"] for a in listed] == [ids[2], ids[0], ids[1]]
    assert listed[0]["title"] == "一番目"
    assert listed[0]["public"] is False

    new = ooxml_bytes("xlsx")
    response = upload(client, items_url(item, ids[0], "file"), user, new, "表.xlsx", method="put")
    assert response.status_code == 200, response.json
    assert response.json["filename"] == "表.xlsx"
    assert response.json["pdf_status"] == "pending"
    assert response.json["sha256"] == hashlib.sha256(new).hexdigest()

    assert client.delete(items_url(item, ids[2]), headers=auth(user)).status_code == 200
    listed = client.get(items_url(item), headers=auth(user)).json["attachments"]
    assert [(a["id"], a["position"]) for a in listed] == [(ids[0], 0), (ids[1], 1)]
    removed = db.session.get(Attachment, ids[2])
    assert removed.removed_at is not None  # soft: frozen versions may still list it

    rows = db.session.scalars(
        select(HistoryEvent)
        .where(
            HistoryEvent.item_id == item.id,
            HistoryEvent.event.in_(
                ["attach", "update_attachment", "replace_attachment", "remove_attachment"]
            ),
        )
        .order_by(HistoryEvent.id)
    ).all()
    assert [r.event for r in rows] == ["attach"] * 3 + [
        "update_attachment",
        "replace_attachment",
        "remove_attachment",
    ]
    assert all(r.from_state == r.to_state == "accepted" for r in rows)
    assert all(r.actor_id == user.id for r in rows)
    assert rows[4].params["attachment_id"] == ids[0]
    assert rows[4].params["sha256"] == hashlib.sha256(new).hexdigest()
    assert rows[4].params["previous_sha256"] == hashlib.sha256(first_pdf).hexdigest()
    assert rows[3].params["position"] == 0
    assert rows[3].params["public"] is False


def test_a_bad_patch_is_refused(client, w):
    item, user = w["accepted"], w["department"]
    aid = upload(client, items_url(item), user, pdf_bytes(), "a.pdf").json["id"]
    for body, field in (
        ({"position": 5}, "position"),
        ({"title": ""}, "title"),
        ({"public": "yes"}, "public"),
        ({"colour": "red"}, "colour"),
    ):
        response = client.patch(items_url(item, aid), json=body, headers=auth(user))
        assert response.status_code == 422, body
        assert field in response.json["error"]["details"]["fields"], response.json
    assert client.patch(items_url(item, 999), json={}, headers=auth(user)).status_code == 404


def test_a_meeting_s_attachments_write_meeting_history(client, w):
    meeting = make_meeting(w["secretariat"])
    user = w["secretariat"]
    aid = upload(
        client, f"{API}/meetings/{meeting.id}/attachments", user, pdf_bytes(), "席次.pdf"
    ).json["id"]
    assert (
        client.delete(
            f"{API}/meetings/{meeting.id}/attachments/{aid}", headers=auth(user)
        ).status_code
        == 200
    )
    rows = db.session.scalars(
        select(HistoryEvent).where(HistoryEvent.meeting_id == meeting.id).order_by(HistoryEvent.id)
    ).all()
    assert [(r.event, r.from_state, r.to_state) for r in rows][-2:] == [
        ("attach", "planned", "planned"),
        ("remove_attachment", "planned", "planned"),
    ]


def test_idempotency_key_replays_an_upload(client, w):
    item, user = w["accepted"], w["department"]
    headers = {**auth(user), "Idempotency-Key": "upload-1"}
    body, content_type = multipart(pdf_bytes(), "資料.pdf", title="t")
    send = lambda: client.post(  # noqa: E731
        items_url(item), data=body, headers=headers, content_type=content_type
    )
    first, second = send(), send()
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json == second.json
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1


# -- frozen versions and 差替え -----------------------------------------------------------------


def _schedule(w, item) -> Meeting:
    meeting = make_meeting(w["secretariat"], kind=item.level_kind, on=date(2019, 10, 1))
    meetings.schedule(w["secretariat"], meeting, item, "担当課長")
    db.session.commit()
    return meeting


def test_a_frozen_version_keeps_its_attachments_after_replacement_and_removal(client, w):
    item, dept, sec = w["accepted"], w["department"], w["secretariat"]
    original = pdf_bytes(2)
    a1 = upload(client, items_url(item), dept, original, "計画（案）.pdf", title="計画").json["id"]
    a2 = upload(client, items_url(item), dept, pdf_bytes(1), "概要.pdf", title="概要").json["id"]
    meeting = _schedule(w, item)
    meetings.record_outcome(sec, meeting, item, "continued")  # held: no more 差替え
    meetings.hold(sec, meeting)
    assert item.status == ItemStatus.ACCEPTED  # the department may change the live list again

    replacement = pdf_bytes(5)
    assert (
        upload(
            client, items_url(item, a1, "file"), dept, replacement, "計画（修正）.pdf", method="put"
        ).status_code
        == 200
    )
    assert client.delete(items_url(item, a2), headers=auth(dept)).status_code == 200

    frozen = client.get(items_url(item) + f"?meeting={meeting.id}", headers=auth(sec)).json
    assert [(a["id"], a["filename"], a["pages"]) for a in frozen["attachments"]] == [
        (a1, "計画（案）.pdf", 2),
        (a2, "概要.pdf", 1),
    ]
    response = client.get(items_url(item, a1) + f"?meeting={meeting.id}", headers=auth(sec))
    assert response.data == original
    response = client.get(items_url(item, a2) + f"?meeting={meeting.id}", headers=auth(sec))
    assert response.status_code == 200  # removed from the live list, kept in the version
    assert response.data.startswith(b"%PDF")
    live = client.get(items_url(item), headers=auth(sec)).json["attachments"]
    assert [(a["id"], a["filename"], a["pages"]) for a in live] == [(a1, "計画（修正）.pdf", 5)]
    assert client.get(items_url(item, a2), headers=auth(sec)).status_code == 404


def test_the_secretariat_s_changes_before_the_meeting_reach_the_frozen_list(client, w):
    item, sec = w["accepted"], w["secretariat"]
    a1 = upload(client, items_url(item), w["department"], pdf_bytes(1), "旧.pdf").json["id"]
    meeting = _schedule(w, item)
    entry = db.session.scalar(select(AgendaEntry).where(AgendaEntry.meeting_id == meeting.id))
    assert [a.attachment_id for a in entry.attachments] == [a1]

    assert (
        upload(
            client, items_url(item, a1, "file"), sec, pdf_bytes(4), "新.pdf", method="put"
        ).status_code
        == 200
    )
    a2 = upload(client, items_url(item), sec, pdf_bytes(2), "追加.pdf", title="追加資料").json["id"]
    client.patch(items_url(item, a2), json={"position": 0, "public": False}, headers=auth(sec))
    frozen = client.get(items_url(item) + f"?meeting={meeting.id}", headers=auth(sec)).json
    assert [(a["id"], a["filename"], a["public"]) for a in frozen["attachments"]] == [
        (a2, "追加.pdf", False),
        (a1, "新.pdf", True),
    ]
    client.delete(items_url(item, a1), headers=auth(sec))
    frozen = client.get(items_url(item) + f"?meeting={meeting.id}", headers=auth(sec)).json
    assert [a["id"] for a in frozen["attachments"]] == [a2]
    # The department cannot change a scheduled item's 資料 at all.
    assert upload(client, items_url(item), w["department"], pdf_bytes(), "x.pdf").status_code == 403


def test_after_the_meeting_is_held_the_secretariat_changes_only_the_live_list(client, w):
    item, sec = w["accepted"], w["secretariat"]
    a1 = upload(client, items_url(item), w["department"], pdf_bytes(1), "旧.pdf").json["id"]
    meeting = _schedule(w, item)
    meetings.record_outcome(sec, meeting, item, "approved")
    meetings.hold(sec, meeting)
    upload(client, items_url(item, a1, "file"), sec, pdf_bytes(3), "新.pdf", method="put")
    frozen = client.get(items_url(item) + f"?meeting={meeting.id}", headers=auth(sec)).json
    assert [a["filename"] for a in frozen["attachments"]] == ["旧.pdf"]


# -- who may read them ---------------------------------------------------------------------------


def _published(client, w, *, disclosure: Disclosure = Disclosure.PUBLIC):
    """An item with a public and a not-public 資料, deliberated at a published meeting."""
    item, sec = w["accepted"], w["secretariat"]
    public_id = upload(client, items_url(item), w["department"], pdf_bytes(1), "公開資料.pdf").json[
        "id"
    ]
    hidden_id = upload(
        client, items_url(item), w["department"], pdf_bytes(1), "内部資料.pdf", public="false"
    ).json["id"]
    meeting = _schedule(w, item)
    entry = db.session.scalar(select(AgendaEntry).where(AgendaEntry.meeting_id == meeting.id))
    entry.disclosure = disclosure
    meetings.record_outcome(sec, meeting, item, "approved")
    meetings.hold(sec, meeting)
    meetings.confirm(sec, meeting)
    meetings.publish(sec, meeting)
    db.session.commit()  # an error answer rolls the request's session back: keep the setup
    return item, meeting, public_id, hidden_id


def test_the_public_sees_only_public_attachments_of_a_published_entry(client, w):
    item, meeting, public_id, hidden_id = _published(client, w)
    listed = client.get(items_url(item)).json["attachments"]
    assert [a["id"] for a in listed] == [public_id]
    assert client.get(items_url(item, public_id)).data.startswith(b"%PDF")
    response = client.get(items_url(item, hidden_id))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    # Staff see both.
    staff = client.get(items_url(item) + f"?meeting={meeting.id}", headers=auth(w["viewer"])).json
    assert {a["id"] for a in staff["attachments"]} == {public_id, hidden_id}


def test_the_public_sees_the_deliberated_version_not_later_changes(client, w):
    item, meeting, public_id, _hidden = _published(client, w)
    sec = w["secretariat"]
    upload(
        client, items_url(item, public_id, "file"), sec, pdf_bytes(9), "後の版.pdf", method="put"
    )
    upload(client, items_url(item), sec, pdf_bytes(1), "後から追加.pdf")
    listed = client.get(items_url(item)).json["attachments"]
    assert [(a["id"], a["filename"], a["pages"]) for a in listed] == [
        (public_id, "公開資料.pdf", 1)
    ]


def test_a_closed_entry_shows_the_public_nothing(client, w):
    item, meeting, public_id, _hidden = _published(client, w, disclosure=Disclosure.CLOSED)
    assert client.get(items_url(item)).status_code == 404  # the item is not public at all
    assert client.get(items_url(item, public_id)).status_code == 404
    assert client.get(items_url(item) + f"?meeting={meeting.id}").status_code == 404


def test_the_public_gets_nothing_before_publication(client, w):
    item = w["accepted"]
    aid = upload(client, items_url(item), w["department"], pdf_bytes(), "a.pdf").json["id"]
    assert client.get(items_url(item)).status_code == 404
    assert client.get(items_url(item, aid)).status_code == 404


def test_meeting_attachments_for_the_public_once_published_and_public(client, w):
    sec = w["secretariat"]
    item = make_item(ItemStatus.SCHEDULED, department=w["department"], secretariat=sec)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    base = f"{API}/meetings/{meeting.id}/attachments"
    shown = upload(client, base, sec, pdf_bytes(), "次第補足.pdf").json["id"]
    hidden = upload(client, base, sec, pdf_bytes(), "内部.pdf", public="false").json["id"]
    assert client.get(base).status_code == 404  # not published yet
    meetings.record_outcome(sec, meeting, item, "approved")
    meetings.hold(sec, meeting)
    meetings.confirm(sec, meeting)
    meetings.publish(sec, meeting)
    db.session.commit()
    assert [a["id"] for a in client.get(base).json["attachments"]] == [shown]
    assert client.get(f"{base}/{hidden}").status_code == 404
    assert client.get(f"{base}/{shown}").data.startswith(b"%PDF")
    assert len(client.get(base, headers=auth(w["viewer"])).json["attachments"]) == 2


def test_a_department_cannot_read_another_section_s_draft_attachments(client, w):
    draft = make_item(department=w["department"], secretariat=w["secretariat"])
    aid = upload(client, items_url(draft), w["department"], pdf_bytes(), "a.pdf").json["id"]
    assert client.get(items_url(draft, aid), headers=auth(w["other"])).status_code == 403
    assert client.get(items_url(draft, aid), headers=auth(w["department"])).data.startswith(b"%PDF")


# -- the download ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "disposition", "fallback"),
    [
        ("計画（案）.pdf", pdf_bytes(), "inline", 'filename="attachment.pdf"'),
        ("写真.jpeg", jpeg_bytes(), "inline", 'filename="attachment.jpeg"'),
        ("Plan 2019.docx", ooxml_bytes("docx"), "attachment", 'filename="Plan_2019.docx"'),
        ("予算表.xlsx", ooxml_bytes("xlsx"), "attachment", 'filename="attachment.xlsx"'),
    ],
)
def test_the_download_s_headers(client, w, name, content, disposition, fallback):
    item, user = w["accepted"], w["department"]
    body = upload(client, items_url(item), user, content, name).json
    response = client.get(items_url(item, body["id"]), headers=auth(user))
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Length"] == str(len(content))
    assert response.headers["Content-Type"].startswith(body["media_type"])
    assert response.headers["ETag"] == f'"{body["sha256"]}"'
    header = response.headers["Content-Disposition"]
    assert header.startswith(disposition + ";")
    assert fallback in header
    from urllib.parse import quote

    assert f"filename*=UTF-8''{quote(name, safe='')}" in header
    again = client.get(
        items_url(item, body["id"]), headers={**auth(user), "If-None-Match": f'"{body["sha256"]}"'}
    )
    assert again.status_code == 304
    assert again.data == b""


def test_a_chunked_upload_is_never_cut_short(app, client, w):
    """A body sent without Content-Length (chunked) to an upload view is not sized by reading it
    into memory up to the JSON limit (a cut multipart body could pass as a shorter file): it is
    refused whole, and nothing is written."""
    app.config["ATTACHMENT_MAX_MB"] = 0.5
    body, content_type = multipart(pdf_bytes() + b"\n%" + b"x" * (2 * 1024 * 1024), "大.pdf")
    response = client.post(
        items_url(w["accepted"]),
        headers={
            **auth(w["department"]),
            "Content-Type": content_type,
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert "0.5MBまで" in response.json["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_once_the_outcome_is_recorded_the_frozen_list_is_final(client, w):
    item, sec = w["accepted"], w["secretariat"]
    a1 = upload(client, items_url(item), w["department"], pdf_bytes(1), "審議した.pdf").json["id"]
    meeting = _schedule(w, item)
    meetings.record_outcome(sec, meeting, item, "approved")  # the meeting is still 予定
    db.session.commit()
    upload(client, items_url(item, a1, "file"), sec, pdf_bytes(2), "後で差替え.pdf", method="put")
    frozen = client.get(items_url(item) + f"?meeting={meeting.id}", headers=auth(sec)).json
    assert [a["filename"] for a in frozen["attachments"]] == ["審議した.pdf"]


def test_the_department_s_changes_go_into_the_next_version(client, w):
    item, dept, sec = w["accepted"], w["department"], w["secretariat"]
    a1 = upload(client, items_url(item), dept, pdf_bytes(1), "第1回.pdf").json["id"]
    first = _schedule(w, item)
    meetings.record_outcome(sec, first, item, "continued")
    meetings.hold(sec, first)
    db.session.commit()
    upload(client, items_url(item, a1, "file"), dept, pdf_bytes(2), "第2回.pdf", method="put")
    upload(client, items_url(item), dept, pdf_bytes(1), "追加.pdf")
    second = make_meeting(sec, kind=item.level_kind, on=date(2019, 11, 1))
    meetings.schedule(sec, second, item, "担当課長")
    db.session.commit()
    lists = {
        m.id: [
            a["filename"]
            for a in client.get(items_url(item) + f"?meeting={m.id}", headers=auth(sec)).json[
                "attachments"
            ]
        ]
        for m in (first, second)
    }
    assert lists == {first.id: ["第1回.pdf"], second.id: ["第2回.pdf", "追加.pdf"]}


# -- what the probe of issue 16 found ---------------------------------------------------------


def test_a_meeting_s_attachments_are_fixed_once_it_is_held_but_their_public_flag_until_published(
    client, w
):
    sec = w["secretariat"]
    item = make_item(ItemStatus.SCHEDULED, department=w["department"], secretariat=sec)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    base = f"{API}/meetings/{meeting.id}/attachments"
    aid = upload(client, base, sec, pdf_bytes(), "次第補足.pdf").json["id"]
    meetings.record_outcome(sec, meeting, item, "approved")
    meetings.hold(sec, meeting)
    db.session.commit()

    refused = [
        upload(client, base, sec, pdf_bytes(), "開催後.pdf"),
        upload(client, f"{base}/{aid}/file", sec, pdf_bytes(2), "差替.pdf", method="put"),
        client.patch(f"{base}/{aid}", json={"title": "改題"}, headers=auth(sec)),
        client.delete(f"{base}/{aid}", headers=auth(sec)),
    ]
    for response in refused:
        assert response.status_code == 409, response.json
        assert "開催済" in response.json["error"]["message"]
    flag = client.patch(f"{base}/{aid}", json={"public": False}, headers=auth(sec))
    assert flag.status_code == 200
    assert flag.json["public"] is False

    meetings.confirm(sec, meeting)
    meetings.publish(sec, meeting)
    db.session.commit()
    late = client.patch(f"{base}/{aid}", json={"public": True}, headers=auth(sec))
    assert late.status_code == 409
    assert "公開取消" in late.json["error"]["message"]
    assert client.get(f"{base}/{aid}").status_code == 404  # still held back from the public
    assert [a["title"] for a in client.get(base, headers=auth(sec)).json["attachments"]] == [
        "次第補足"
    ]


def test_the_secretariat_sets_public_of_a_frozen_attachment_until_publication(client, w):
    item, dept, sec = w["accepted"], w["department"], w["secretariat"]
    aid = upload(client, items_url(item), dept, pdf_bytes(), "計画.pdf", title="計画").json["id"]
    meeting = _schedule(w, item)
    meetings.record_outcome(sec, meeting, item, "approved")
    meetings.hold(sec, meeting)
    meetings.confirm(sec, meeting)
    db.session.commit()
    frozen = items_url(item, aid) + f"?meeting={meeting.id}"

    assert client.patch(frozen, json={"public": False}, headers=auth(dept)).status_code == 403
    only_public = client.patch(frozen, json={"title": "別名"}, headers=auth(sec))
    assert only_public.status_code == 422
    hidden = client.patch(frozen, json={"public": False}, headers=auth(sec))
    assert hidden.status_code == 200, hidden.json
    assert hidden.json["public"] is False
    history = db.session.scalars(
        select(HistoryEvent).where(HistoryEvent.event == "update_attachment")
    ).all()
    assert history[-1].params["frozen_public"] is False
    assert history[-1].params["meeting_id"] == meeting.id
    live = client.get(items_url(item), headers=auth(sec)).json["attachments"]
    assert live[0]["public"] is True  # the live list is the department's

    meetings.publish(sec, meeting)
    db.session.commit()
    assert client.get(items_url(item, aid)).status_code == 404  # held back from the public
    late = client.patch(frozen, json={"public": True}, headers=auth(sec))
    assert late.status_code == 409


def test_the_api_names_attachment_events_in_japanese(client, w):
    item = w["accepted"]
    upload(client, items_url(item), w["department"], pdf_bytes(), "計画.pdf")
    history = client.get(f"{API}/items/{item.id}", headers=auth(w["secretariat"])).json["history"]
    assert {"attach": "資料の追加"}.items() <= {
        h["event"]: h["event_label"] for h in history
    }.items()


def test_a_long_file_name_without_a_title_gives_a_title_that_fits(client, w):
    name = "あ" * 240 + ".pdf"
    response = upload(client, items_url(w["accepted"]), w["department"], pdf_bytes(), name)
    assert response.status_code == 201, response.json
    assert response.json["filename"] == name
    assert response.json["title"] == "あ" * 200
