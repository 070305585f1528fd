"""The meeting room keeps what was typed (issue 20): drafts saved as the secretary types, without
an event, a history row or a longer sign-in; restored, discarded, and gone once the entry is saved.
And 出席課 pasted several at once. The browser side is tests/test_room_drafts_browser.py."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import make_item, make_section, make_user
from tests.support import login
from workflow.extensions import db
from workflow.models import HistoryEvent, Meeting, RoomDraft, UserSession
from workflow.services import meetings
from workflow.states.states import ItemStatus, MeetingStatus, Role

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def room(app: Flask) -> dict:
    """A 関係課長会議 with one agenda entry, the secretariat, and three sections to attend."""
    for name in ("企画課", "財政課", "情報政策課"):
        make_section(name)
    department = make_user(Role.DEPARTMENT)
    secretariat = make_user(Role.SECRETARIAT, login="sec")
    item = make_item(ItemStatus.SCHEDULED, department=department, secretariat=secretariat)
    db.session.commit()
    meeting = db.session.scalar(sa.select(Meeting))
    return {
        "meeting": meeting,
        "item": item,
        "sec": secretariat,
        "other_sec": make_user(Role.SECRETARIAT, login="sec2"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
        "department": department,
        "url": f"/meetings/{meeting.id}/room/1",
    }


def text(response) -> str:
    return response.get_data(as_text=True)


def save_draft(client: FlaskClient, room: dict, **fields: str):
    return client.post(f"{room['url']}/draft", data={"draft_base": "", **fields})


def drafts() -> list[RoomDraft]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(RoomDraft)))


def history_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent))


def test_a_draft_is_kept_without_an_event_history_or_a_new_version(client, room):
    db.session.commit()
    login(client, room["sec"])
    version, events = room["meeting"].version, history_count()
    response = save_draft(
        client,
        room,
        version=str(version),
        presenter="企画部長",
        **{"opinions-0-opinion": "進め方を確認したい。", "csrf_token": "x", "save": "1"},
    )
    assert response.status_code == 200
    assert response.json["message"].startswith("下書きを保存しました（")
    [draft] = drafts()
    assert draft.user_id == room["sec"].id
    # The form's fields only: no CSRF token, no button.
    assert draft.data["fields"] == [
        ["version", str(version)],
        ["presenter", "企画部長"],
        ["opinions-0-opinion", "進め方を確認したい。"],
    ]
    db.session.refresh(room["meeting"])
    assert room["meeting"].version == version
    assert history_count() == events
    assert room["meeting"].entries[0].opinions == []  # the record is untouched

    save_draft(client, room, presenter="企画部長（兼）")  # replaces, one draft per entry and user
    [draft] = drafts()
    assert draft.data["fields"] == [["presenter", "企画部長（兼）"]]


def sessions() -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(UserSession)))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_drafts_do_not_keep_an_idle_sign_in_alive(client, room, monkeypatch):
    """Drafts every few minutes for an hour: the session still ends 60 minutes after the last
    real request (SESSION_IDLE_MINUTES), and the draft then answers 401 with the way back."""
    db.session.commit()
    login(client, room["sec"])
    assert client.get(room["url"]).status_code == 200
    [row] = sessions()
    seen = row.last_seen_at
    clock = Clock(seen)
    monkeypatch.setattr("workflow.auth.utcnow", clock)
    for minutes in (5, 20, 40, 59):
        clock.now = seen + timedelta(minutes=minutes, seconds=30)
        assert save_draft(client, room, presenter=f"{minutes}分").status_code == 200
        [row] = sessions()
        assert row.last_seen_at == seen  # not touched
    clock.now = seen + timedelta(minutes=60, seconds=30)
    response = save_draft(client, room, presenter="61分")
    assert response.status_code == 401
    error = response.json["error"]
    assert error["code"] == "unauthorized"
    assert "ログインの有効期限が切れた" in error["message"]
    assert error["details"]["login_url"] == f"/login?next=/meetings/{room['meeting'].id}/room/1"
    # Nothing was kept for an expired sign-in, and the page too asks to sign in again.
    assert [d.data["fields"] for d in drafts()] == [[["presenter", "59分"]]]
    assert client.get(room["url"]).location.startswith("/login?next=")


def test_a_page_request_still_extends_the_sign_in(client, room, monkeypatch):
    """The control: what drafts do not do, a page does."""
    db.session.commit()
    login(client, room["sec"])
    [row] = sessions()
    seen = row.last_seen_at
    clock = Clock(seen + timedelta(minutes=30))
    monkeypatch.setattr("workflow.auth.utcnow", clock)
    assert client.get(room["url"]).status_code == 200
    [row] = sessions()
    assert row.last_seen_at == clock.now


def test_a_visitor_without_sign_in_gets_401_json(client, room):
    response = save_draft(client, room, presenter="x")
    assert response.status_code == 401
    assert response.json["error"]["details"]["login_url"].startswith("/login?next=")
    assert drafts() == []


@pytest.mark.parametrize("who", ["viewer", "department"])
def test_only_the_secretariat_keeps_drafts(client, room, who):
    db.session.commit()
    login(client, room[who])
    response = save_draft(client, room, presenter="x")
    assert response.status_code in (403, 404)
    assert "error" in response.json
    assert drafts() == []


def test_no_draft_for_a_missing_entry(client, room):
    db.session.commit()
    login(client, room["sec"])
    assert client.post(f"/meetings/{room['meeting'].id}/room/2/draft").status_code == 404
    assert client.post("/meetings/999999/room/1/draft").status_code == 404
    assert drafts() == []


def test_a_confirmed_meeting_takes_no_draft(client, room):
    from workflow.services import events

    meeting = room["meeting"]
    meetings.record_outcome(room["sec"], meeting, room["item"], "approved")
    for event in ("hold", "confirm"):
        events.fire_meeting_event(room["sec"], meeting, event)
    db.session.commit()
    assert meeting.status == MeetingStatus.CONFIRMED
    login(client, room["sec"])
    response = save_draft(client, room, presenter="x")
    assert response.status_code == 409
    assert "確定" in response.json["error"]["message"]
    assert drafts() == []
    assert "data-draft-url" not in text(client.get(room["url"]))  # no drafts from a frozen page


def test_a_draft_refuses_what_no_form_sends(client, room):
    db.session.commit()
    login(client, room["sec"])
    response = save_draft(client, room, **{"opinions-0-opinion": "あ" * 20_001})
    assert response.status_code == 422
    assert "opinions-0-opinion" in response.json["error"]["details"]["fields"]
    response = save_draft(client, room, **{"opinions-9999-opinion": "多すぎる行"})
    assert response.status_code == 422
    assert drafts() == []


def test_the_room_restores_ones_own_draft_with_a_notice(client, room):
    db.session.commit()
    login(client, room["sec"])
    base = _base(client, room)
    save_draft(
        client,
        room,
        draft_base=base,
        version="1",
        **{
            "opinions-0-opinion": "一つ目",
            "opinions-1-opinion": "二つ目の意見",
            "opinions-1-response": "回答です",
            "attendance-0-section": "企画課",
            "attendance-0-deputy": "y",
        },
    )
    page = text(client.get(room["url"]))
    assert "保存していない入力内容を復元しました。" in page
    assert "ほかの画面で変更されています" not in page
    assert "二つ目の意見" in page
    assert "回答です" in page
    assert re.search(r'<input checked[^>]*id="attendance-0-deputy"', page)
    # The version is the meeting's as it is now (the draft's own is not trusted).
    assert f'name="version" type="hidden" value="{room["meeting"].version}"' in page

    client.post("/logout")
    login(client, room["other_sec"])
    page = text(client.get(room["url"]))
    assert "二つ目の意見" not in page
    assert "保存していない入力内容" not in page


def _base(client: FlaskClient, room: dict) -> str:
    page = text(client.get(room["url"]))
    return re.search(r'name="draft_base" value="([0-9a-f]+)"', page)[1]


def test_a_draft_opened_on_an_older_record_says_so(client, room):
    db.session.commit()
    login(client, room["sec"])
    base = _base(client, room)
    save_draft(client, room, draft_base=base, **{"opinions-0-opinion": "下書きの意見"})
    meetings.record_deliberation(
        room["sec"], room["meeting"], room["item"], {"presenter": "別の画面で直した説明者"}
    )
    db.session.commit()
    page = text(client.get(room["url"]))
    assert "保存していない入力内容を復元しました。" in page
    assert "この議題の記録は、下書きの後にほかの画面で変更されています。" in page


def test_discarding_shows_the_saved_record(client, room):
    db.session.commit()
    login(client, room["sec"])
    save_draft(client, room, **{"opinions-0-opinion": "要らない下書き"})
    response = client.post(f"{room['url']}/draft/discard")
    assert response.status_code == 302
    assert drafts() == []
    page = text(client.get(room["url"]))
    assert "要らない下書き" not in page
    assert "保存していない入力内容を破棄しました。" in page


def test_saving_the_entry_removes_the_draft(client, room):
    db.session.commit()
    login(client, room["sec"])
    save_draft(client, room, **{"opinions-0-opinion": "記録する意見"})
    response = client.post(
        room["url"],
        data={
            "version": str(room["meeting"].version),
            "opinions-0-opinion": "記録する意見",
            "save": "1",
        },
    )
    assert response.status_code == 302
    assert drafts() == []
    db.session.refresh(room["meeting"])
    assert [o.opinion for o in room["meeting"].entries[0].opinions] == ["記録する意見"]
    assert "保存していない入力内容" not in text(client.get(room["url"]))


def test_a_failed_save_keeps_the_draft(client, room):
    db.session.commit()
    login(client, room["sec"])
    save_draft(client, room, **{"opinions-0-opinion": "まだ残す"})
    response = client.post(
        room["url"],
        data={"version": "999", "opinions-0-opinion": "まだ残す", "save": "1"},
    )
    assert response.status_code == 409
    assert "まだ残す" in text(response)
    assert len(drafts()) == 1


# -- 出席課: type-ahead and several pasted at once ------------------------------------------


def test_the_section_list_is_offered_as_you_type(client, room):
    db.session.commit()
    login(client, room["sec"])
    page = text(client.get(room["url"]))
    assert 'list="section-names"' in page
    for name in ("企画課", "財政課", "情報政策課"):
        assert f'<option value="{name}">' in page


def test_pasted_sections_become_rows_in_one_post(client, room):
    db.session.commit()
    login(client, room["sec"])
    response = client.post(
        room["url"],
        data={
            "attendance-0-section": "",
            "opinions-0-opinion": "打ち込み中の意見",
            "attendance_paste": "企画課\n財政課（代）、情報政策課\t企画課\n",
            "paste_attendance": "1",
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "出席課を3件追加しました。" in page
    assert 'name="attendance-0-section" type="text" value="企画課"' in page
    assert 'value="財政課"' in page
    assert 'value="情報政策課"' in page
    assert 'name="attendance-3-section"' not in page  # 企画課 once; the blank row gone
    assert "打ち込み中の意見" in page
    assert room["meeting"].entries[0].attendance == []  # not saved until 保存


def test_unknown_pasted_names_are_reported_and_kept(client, room):
    db.session.commit()
    login(client, room["sec"])
    response = client.post(
        room["url"],
        data={
            "attendance-0-section": "企画課",
            "attendance_paste": "財政課\n存在しない課\nＸ協議会（代）",
            "save": "1",
        },
    )
    assert response.status_code == 422
    page = text(response)
    assert "「存在しない課」、「Ｘ協議会（代）」は課の一覧にないため、追加していません。" in page
    assert "存在しない課\nＸ協議会（代）</textarea>" in page  # kept in the box
    assert 'value="財政課"' in page  # the known one became a row
    db.session.refresh(room["meeting"])
    assert room["meeting"].entries[0].attendance == []  # nothing half-saved


def test_pasted_names_are_saved_with_the_deputy_marker(client, room):
    db.session.commit()
    login(client, room["sec"])
    response = client.post(
        room["url"],
        data={
            "version": str(room["meeting"].version),
            "attendance-0-section": "企画課",
            "attendance_paste": "財政課(代)\n情報政策課",
            "save": "1",
        },
    )
    assert response.status_code == 302
    db.session.refresh(room["meeting"])
    rows = [(a.section_name, a.deputy) for a in room["meeting"].entries[0].attendance]
    assert rows == [("企画課", False), ("財政課", True), ("情報政策課", False)]


@pytest.mark.parametrize(
    "pasted",
    [
        "企画課\n財政課（代）\n情報政策課",
        "企画課、財政課（代）、情報政策課",
        "企画課,財政課(代),情報政策課",
        "企画課\t財政課 (代)\t情報政策課\r\n",
        "　企画課　，財政課（代）\n\n情報政策課，企画課",  # spaces trimmed, a repeat dropped
    ],
)
def test_pasted_lists_in_the_shapes_people_copy_them(pasted):
    from werkzeug.datastructures import MultiDict

    from workflow.forms.meetings import with_pasted_attendance

    formdata = MultiDict({"presenter": "企画部長", "attendance_paste": pasted})
    data, unknown, added, first = with_pasted_attendance(
        formdata, ["企画課", "財政課", "情報政策課"]
    )
    assert (unknown, added, first) == ([], 3, 0)
    assert data["presenter"] == "企画部長"
    assert data["attendance_paste"] == ""
    rows = [
        (data.get(f"attendance-{i}-section"), f"attendance-{i}-deputy" in data) for i in range(3)
    ]
    assert rows == [("企画課", False), ("財政課", True), ("情報政策課", False)]


def test_a_section_attends_once(app):
    """出席課 typed twice (by hand or pasted beside a typed row) is refused at its row, in the
    service the page and the API share; nothing is recorded."""
    from workflow.errors import ValidationFailed
    from workflow.schemas.meetings import Deliberation
    from workflow.schemas.types import validate

    with pytest.raises(ValidationFailed) as refused:
        validate(
            Deliberation,
            {
                "attendance": [
                    {"section": "情報政策課"},
                    {"section": "財政課"},
                    {"section": "情報政策課 "},
                ]
            },
        )
    assert refused.value.fields == {
        "attendance[2].section": ["出席課「情報政策課」が二度あります。一つにしてください。"]
    }
