"""A confirmation step before each irreversible action on the pages (issue 20): 申込, 受付,
開催済にする, 議事録の確定, 公開. Their button (or a GET of the event's URL) shows what will happen
and who will see it, and changes nothing; only the page's own POST (``confirmed=1``) fires the
event, with the version check as before. The API has no confirmation."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.factories import item_meeting_id, make_item, make_meeting, make_user
from tests.support import API, auth, login
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Meeting
from workflow.services import meetings
from workflow.services.items import CONFLICT_MESSAGE
from workflow.states.states import ItemStatus, MeetingStatus, Role


def _text(response) -> str:
    return response.get_data(as_text=True)


def _flashes(html: str) -> str:
    return " ".join(re.findall(r"<p class=\"flash[^>]*>(.*?)</p>", html, re.S))


def _history_count() -> int:
    return db.session.scalar(select(func.count()).select_from(HistoryEvent))


def _item_at(status: ItemStatus):
    department = make_user(Role.DEPARTMENT)
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(status, department=department, secretariat=secretariat)
    return department, secretariat, item


def _meeting_at(status: MeetingStatus):
    """A meeting in *status* whose one agenda entry has its outcome."""
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.ACCEPTED, secretariat=secretariat)
    meeting = make_meeting(secretariat, item.level_kind)
    meetings.schedule(secretariat, meeting, item, "課長")
    meetings.record_outcome(secretariat, meeting, item, "approved")
    for event in ("hold", "confirm", "publish"):
        if meeting.status == status:
            break
        getattr(meetings, event)(secretariat, meeting)
    assert meeting.status == status
    return secretariat, meeting


# event → (the status before, the words the page must say, the button, the status after)
ITEM_STEPS = {
    "submit": (
        ItemStatus.DRAFT,
        "庁議事務局に申し込みます。申し込んだ後は、差し戻されるまで編集できません。",
        "申し込む",
        ItemStatus.SUBMITTED,
        "申し込みました。庁議事務局が内容を確認します。",
    ),
    "accept": (
        ItemStatus.SUBMITTED,
        "の議題になるのを待ちます",
        "受け付ける",
        ItemStatus.ACCEPTED,
        "受け付けました。",
    ),
}
MEETING_STEPS = {
    "hold": (
        MeetingStatus.PLANNED,
        "議事録を確定できるようになります",
        "開催済にする",
        MeetingStatus.HELD,
        "開催済にしました。",
    ),
    "confirm": (
        MeetingStatus.HELD,
        "審議の記録（出席課・意見・回答・特記事項）は編集できなくなります",
        "確定する",
        MeetingStatus.CONFIRMED,
        "議事録を確定しました。",
    ),
    "publish": (
        MeetingStatus.CONFIRMED,
        "一般に公開され、取り消すまで誰でも閲覧できます",
        "公開する",
        MeetingStatus.PUBLISHED,
        "議事録を公開しました。一般の方が閲覧できます。",
    ),
}


def _assert_confirmation_page(html: str, words: str, button: str, action: str) -> None:
    assert words in html
    assert "見る人" in html
    assert f'action="{action}"' in html
    assert '<input type="hidden" name="confirmed" value="1">' in html
    assert f'<button type="submit" class="button primary">{button}</button>' in html
    assert ">戻る</a>" in html


@pytest.mark.parametrize("event", ITEM_STEPS)
def test_an_item_step_asks_first_then_fires(client: FlaskClient, event: str):
    before, words, button, after, done = ITEM_STEPS[event]
    department, secretariat, item = _item_at(before)
    db.session.commit()
    login(client, department if event == "submit" else secretariat)
    url = f"/items/{item.id}/events/{event}"
    history = _history_count()

    for response in (client.get(url), client.post(url, data={"version": item.version})):
        assert response.status_code == 200
        _assert_confirmation_page(_text(response), words, button, url)
        assert f'name="version" value="{item.version}"' in _text(response)
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == before
    assert _history_count() == history

    # A stale version on the confirmed POST: the conflict message, nothing fired.
    stale = client.post(
        url, data={"version": item.version + 3, "confirmed": "1"}, follow_redirects=True
    )
    assert CONFLICT_MESSAGE in _flashes(_text(stale))
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == before

    fired = client.post(
        url, data={"version": item.version, "confirmed": "1"}, follow_redirects=True
    )
    assert done in _flashes(_text(fired))
    assert "を行いました" not in _text(fired)
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == after
    # Asked again now that it is done: the state's answer, no page.
    again = client.get(url, follow_redirects=True)
    assert "できません" in _flashes(_text(again))


def test_accept_from_the_intake_queue_goes_back_there(client: FlaskClient):
    _department, secretariat, item = _item_at(ItemStatus.SUBMITTED)
    db.session.commit()
    login(client, secretariat)
    url = f"/items/{item.id}/events/accept"
    page = _text(client.post(url, data={"version": item.version, "from": "intake"}))
    assert '<input type="hidden" name="from" value="intake">' in page
    assert 'href="/items/intake">戻る</a>' in page
    assert f"所管課（{item.section.name}）" in page
    done = client.post(url, data={"version": item.version, "from": "intake", "confirmed": "1"})
    assert done.location.endswith("/items/intake")


@pytest.mark.parametrize("event", MEETING_STEPS)
def test_a_meeting_step_asks_first_then_fires(client: FlaskClient, event: str):
    before, words, button, after, done = MEETING_STEPS[event]
    secretariat, meeting = _meeting_at(before)
    db.session.commit()
    login(client, secretariat)
    url = f"/meetings/{meeting.id}/events/{event}"
    history = _history_count()

    for response in (client.get(url), client.post(url, data={"version": meeting.version})):
        assert response.status_code == 200
        _assert_confirmation_page(_text(response), words, button, url)
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == before
    assert _history_count() == history

    fired = client.post(
        url, data={"version": meeting.version, "confirmed": "1"}, follow_redirects=True
    )
    assert done in _flashes(_text(fired))
    db.session.expire_all()
    assert db.session.get(Meeting, meeting.id).status == after


def test_a_step_the_user_may_not_take_shows_no_page(client: FlaskClient):
    department, _secretariat, item = _item_at(ItemStatus.SUBMITTED)
    db.session.commit()
    login(client, department)  # a department does not accept
    response = client.get(f"/items/{item.id}/events/accept", follow_redirects=True)
    assert "申し込みますか" not in _text(response)
    assert "受け付けますか" not in _text(response)
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.SUBMITTED
    # Events without a confirmation take no GET.
    assert client.get(f"/items/{item.id}/events/return").status_code == 405


def test_the_api_fires_without_asking(app):
    department, _secretariat, item = _item_at(ItemStatus.DRAFT)
    headers = auth(department)
    db.session.commit()
    response = app.test_client().post(
        f"{API}/items/{item.id}/events/submit", json={}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "submitted"


def test_hold_is_not_offered_while_an_entry_has_no_outcome(client: FlaskClient):
    """開催済にする stays disabled, and its confirmation page is not shown, until every agenda
    entry has its outcome: the page says why instead of asking first and refusing after."""
    secretariat = make_user(Role.SECRETARIAT)
    department = make_user(Role.DEPARTMENT)
    item = make_item(ItemStatus.SCHEDULED, department=department, secretariat=secretariat)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    db.session.commit()
    login(client, secretariat)
    page = _text(client.get(f"/meetings/{meeting.id}"))
    assert 'disabled aria-describedby="hold-hint"' in page
    asked = client.get(f"/meetings/{meeting.id}/events/hold", follow_redirects=True)
    assert "開催済にしますか" not in _text(asked)
    assert "結果が未登録の議題があります（1番）。" in _flashes(_text(asked))


def test_closing_a_public_comment_waits_for_its_closing_day(client: FlaskClient, monkeypatch):
    """意見募集を終了する is disabled, with the day it may be pressed, until the closing day."""
    from datetime import date

    from workflow.services import public_comment

    _department, secretariat, item = _item_at(ItemStatus.PUBLIC_COMMENT)  # closes 2020-02-04
    db.session.commit()
    login(client, secretariat)
    monkeypatch.setattr(public_comment, "today", lambda: date(2020, 2, 3))
    page = _text(client.get(f"/public-comments/{item.id}"))
    assert 'disabled aria-describedby="close-hint"' in page
    assert "締切日（令和２年２月４日）から、意見募集を終了できます。" in page
    monkeypatch.setattr(public_comment, "today", lambda: date(2020, 2, 4))
    page = _text(client.get(f"/public-comments/{item.id}"))
    assert 'aria-describedby="close-hint"' not in page
