"""Issue 20: nothing incomplete goes in. The completeness check on submit (the service, so the
page and the API agree), every missing field at once; a returned request goes again only
changed or answered; the page's error summary; the new request page's pre-fill."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import item_meeting_id, make_item, make_meeting, make_section, make_user
from tests.support import API, BASE_FORM, auth, login
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Notice
from workflow.services import items, public_comment
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

REQUIRED = {
    "title",
    "applied_on",
    "target_kind",
    "route",
    "bureau",
    "summary",
    "discussion_points",
}
COMPLETE = {
    "applied_on": "2019-10-08",
    "target_kind": "policy_coordination",
    "route": ["section_managers", "policy_coordination"],
    "bureau": "企画財政局",
    "summary": "計画を策定するもの。",
    "discussion_points": ["計画の方向性について"],
}


@pytest.fixture
def people():
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    department = make_user(Role.DEPARTMENT, section, login="joho")
    secretariat = make_user(Role.SECRETARIAT, login="jimu")
    db.session.commit()
    return {
        "department": department,
        "secretariat": secretariat,
        "dep": auth(department),
        "sec": auth(secretariat),
    }


def _bare(people, **fields) -> Item:
    """A draft with only its title and section (and *fields*): what the API files unasked."""
    item = items.file_item(
        people["department"], {"title": "案件名だけの申込", "section": "情報政策課", **fields}
    )
    db.session.commit()
    return item


def _history_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(HistoryEvent))


# -- the service -------------------------------------------------------------------------------


def test_an_incomplete_request_names_every_missing_field_at_once(people):
    item = _bare(people)
    before = _history_count()
    with pytest.raises(ValidationFailed) as refused:
        items.submit(people["department"], item)
    db.session.rollback()
    fields = refused.value.fields
    assert set(fields) == REQUIRED - {"title"}
    assert fields["applied_on"] == ["申込日を入力してください。"]
    assert fields["bureau"] == ["局・区を入力してください。"]
    assert fields["route"] == ["審議の経路を一つ以上選んでください。"]
    assert fields["discussion_points"] == ["審議内容（論点）を一つ以上入力してください。"]
    assert "入力してから、もう一度申し込んでください" in refused.value.message
    assert db.session.get(Item, item.id).status == ItemStatus.DRAFT
    assert _history_count() == before  # nothing half-written


def test_a_complete_request_goes_and_nothing_else_is_required(people):
    item = _bare(people, **COMPLETE)  # no 部, 担当者, 内線, 検討経過, 裏面 …
    items.submit(people["department"], item)
    db.session.commit()
    assert item.status == ItemStatus.SUBMITTED


@pytest.mark.parametrize(
    ("target", "route", "words"),
    [
        (
            "policy_decision",
            ["section_managers"],
            "付議先は、審議の経路にある会議から選んでください。",
        ),
        (
            "affairs_coordination",
            ["section_managers", "affairs_coordination", "policy_coordination"],
            "事務事業調整会議は上部庁議へ向かう途中で経由する会議のため",
        ),
    ],
)
def test_the_target_must_be_a_ladder_kind_on_the_route(people, target, route, words):
    item = _bare(people, **{**COMPLETE, "target_kind": target, "route": route})
    with pytest.raises(ValidationFailed) as refused:
        items.submit(people["department"], item)
    assert set(refused.value.fields) == {"target_kind"}
    assert words in refused.value.fields["target_kind"][0]


def test_blank_text_counts_as_missing(people):
    item = _bare(people, **{**COMPLETE, "bureau": "　 ", "summary": "\n"})
    with pytest.raises(ValidationFailed) as refused:
        items.submit(people["department"], item)
    assert set(refused.value.fields) == {"bureau", "summary"}


# -- the API: 422 with every field, and no defaults ---------------------------------------------


def test_the_api_fills_nothing_and_refuses_with_every_field(client, people):
    created = client.post(
        f"{API}/items", json={"title": "案件名だけ", "section": "情報政策課"}, headers=people["dep"]
    )
    assert created.status_code == 201
    body = created.get_json()
    assert (body["route"], body["target_kind"], body["bureau"], body["applied_on"]) == (
        [],
        None,
        "",
        None,
    )
    r = client.post(
        f"{API}/items/{body['id']}/events/submit",
        json={"version": body["version"]},
        headers=people["dep"],
    )
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["details"]["fields"]) == REQUIRED - {"title"}
    assert error["details"]["fields"]["target_kind"] == ["付議先を選んでください。"]
    assert client.get(f"{API}/items/{body['id']}", headers=people["dep"]).get_json()["status"] == (
        "draft"
    )


def test_the_api_submits_a_complete_request(client, people):
    body = client.post(
        f"{API}/items",
        json={"title": "揃った申込", "section": "情報政策課", **COMPLETE},
        headers=people["dep"],
    ).get_json()
    r = client.post(
        f"{API}/items/{body['id']}/events/submit",
        json={"version": body["version"]},
        headers=people["dep"],
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "submitted"


# -- a resubmission after a return ------------------------------------------------------------


def _returned(people) -> Item:
    item = make_item(
        ItemStatus.RETURNED, department=people["department"], secretariat=people["secretariat"]
    )
    db.session.commit()
    return item


def test_an_unchanged_resubmission_is_refused_without_an_answer(client, people):
    item = _returned(people)
    r = client.post(
        f"{API}/items/{item.id}/events/submit",
        json={"version": item.version},
        headers=people["dep"],
    )
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert set(error["details"]["fields"]) == {"comment"}
    assert "変更されていません" in error["message"]
    assert "「差戻しへの回答」" in error["message"]
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.RETURNED


def test_an_answer_to_the_return_lets_it_go_and_is_kept_in_the_history(client, people):
    item = _returned(people)
    answer = "ご指摘の資料は別途お届けします。申込書の記載はこのままでお願いします。"
    r = client.post(
        f"{API}/items/{item.id}/events/submit",
        json={"version": item.version, "comment": answer},
        headers=people["dep"],
    )
    assert r.status_code == 200, r.get_json()
    last = r.get_json()["history"][-1]
    assert (last["event"], last["reason"]) == ("submit", answer)
    login(client, people["department"])
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert f"差戻しへの回答：{answer}" in page
    told = db.session.scalar(
        sa.select(Notice)
        .where(Notice.kind == "submit", Notice.user_id == people["secretariat"].id)
        .order_by(Notice.id.desc())
        .limit(1)
    )
    assert f"差戻しへの回答：{answer}" in told.body  # the secretariat reads it in its notice


def test_a_changed_resubmission_needs_no_answer(people):
    item = _returned(people)
    items.update_item(people["department"], item, {"summary": "差戻しを受けて書き直した概要。"})
    items.submit(people["department"], item)
    db.session.commit()
    assert item.status == ItemStatus.SUBMITTED


def test_a_change_undone_is_no_change(people):
    item = _returned(people)
    was = item.summary
    items.update_item(people["department"], item, {"summary": "一度変えた概要。"})
    items.update_item(people["department"], item, {"summary": was})
    with pytest.raises(ValidationFailed) as refused:
        items.submit(people["department"], item)
    assert set(refused.value.fields) == {"comment"}


def test_a_second_return_asks_again(people):
    item = _returned(people)
    items.update_item(people["department"], item, {"summary": "一回目の修正。"})
    items.submit(people["department"], item)
    items.return_item(people["secretariat"], item, "まだ足りません。")
    with pytest.raises(ValidationFailed):
        items.submit(people["department"], item)  # changed before the first return only
    items.submit(people["department"], item, comment="追加の資料はありません。")
    assert item.status == ItemStatus.SUBMITTED


def test_a_resubmission_must_be_complete_too(people):
    item = _returned(people)
    items.update_item(people["department"], item, {"summary": "", "discussion_points": []})
    with pytest.raises(ValidationFailed) as refused:
        items.submit(people["department"], item, comment="回答")
    assert set(refused.value.fields) == {"summary", "discussion_points"}


# -- the pages -----------------------------------------------------------------------------


def _summary(html: str) -> str:
    match = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


def test_the_form_shows_every_missing_field_in_a_summary_of_links(client, people):
    login(client, people["department"])
    r = client.post(
        "/items/new",
        data={
            "title": "案件名だけ",
            "section": "情報政策課",
            "discussion_points-0": "",
            "save_and_submit": "1",
        },
    )
    # Saved as a draft; its edit page says what 申込 lacks (a reload posts nothing again).
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/edit?check=submit")
    r = client.get(r.headers["Location"])
    html = r.get_data(as_text=True)
    summary = _summary(html)
    assert 'tabindex="-1"' in summary
    assert 'role="alert"' in summary
    assert "入力内容を確認してください" in summary
    links = dict(re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', summary))
    assert links == {
        "applied_on": "申込日を入力してください。",
        "target_kind": "付議先を選んでください。",
        "route-0": "審議の経路を一つ以上選んでください。",
        "bureau": "局・区を入力してください。",
        "summary": "概要を入力してください。",
        "discussion_points-0": "審議内容（論点）を一つ以上入力してください。",
    }
    for target in links:  # each link leads to a control on the page
        assert f'id="{target}"' in html
    # … and each field says it beside itself too
    assert 'id="applied_on-error"' in html
    assert 'id="discussion_points-error"' in html
    assert "js/error_summary.js" in html
    # What was typed is saved as a draft, and the form shown now posts to its edit page.
    (kept,) = db.session.scalars(sa.select(Item)).all()
    assert (kept.title, kept.status) == ("案件名だけ", ItemStatus.DRAFT)
    assert f'action="/items/{kept.id}/edit"' in html
    assert "保存しました。" in summary


def test_submit_from_the_item_page_shows_the_form_with_the_summary(client, people):
    item = _bare(people, summary="概要だけある")
    login(client, people["department"])
    r = client.post(f"/items/{item.id}/events/submit", data={"version": item.version})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    summary = _summary(html)
    assert 'href="#applied_on"' in summary
    assert 'href="#summary"' not in summary
    assert f'action="/items/{item.id}/edit"' in html  # corrected and sent from here
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.DRAFT


def test_the_returned_form_asks_for_an_answer_and_keeps_it(client, people):
    item = _returned(people)
    login(client, people["department"])
    page = client.get(f"/items/{item.id}/edit").get_data(as_text=True)
    assert "差戻しへの回答" in page
    assert "記載が不足しています。" in page
    show = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert 'name="comment"' in show  # the item page's 申込 carries an answer too
    r = client.post(f"/items/{item.id}/events/submit", data={"version": item.version})
    assert r.status_code == 422
    assert 'href="#comment"' in _summary(r.get_data(as_text=True))
    answer = {"version": item.version, "comment": "確認しました。変更はありません。"}
    asked = client.post(f"/items/{item.id}/events/submit", data=answer)
    assert asked.status_code == 200  # the confirmation step, carrying the answer
    assert 'name="comment" value="確認しました。変更はありません。"' in asked.get_data(as_text=True)
    r = client.post(
        f"/items/{item.id}/events/submit", data={**answer, "confirmed": "1"}, follow_redirects=True
    )
    html = r.get_data(as_text=True)
    assert "申し込みました。庁議事務局が内容を確認します。" in html
    assert "差戻しへの回答：確認しました。変更はありません。" in html


def test_a_form_post_with_an_answer_resubmits_unchanged(client, people):
    item = _returned(people)
    login(client, people["department"])
    page = client.get(f"/items/{item.id}/edit").get_data(as_text=True)
    data = _form_fields(page)
    data.update(save_and_submit="1", comment="このままで審議をお願いします。")
    r = client.post(f"/items/{item.id}/edit", data=data)
    # Saved, then the confirmation step of 申込, which posts to the item's 申込 with the answer.
    assert r.status_code == 200, _summary(r.get_data(as_text=True))
    asked = r.get_data(as_text=True)
    assert f'action="/items/{item.id}/events/submit"' in asked
    assert 'name="comment" value="このままで審議をお願いします。"' in asked
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.RETURNED
    version = re.search(r'name="version" value="(\d+)"', asked).group(1)
    r = client.post(
        f"/items/{item.id}/events/submit",
        data={"version": version, "comment": "このままで審議をお願いします。", "confirmed": "1"},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.SUBMITTED


def _form_fields(html: str) -> dict:
    """The item form's values as the page gives them (inputs, checked boxes, selects)."""
    data: dict = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or "csrf" in name.group(1):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="(\w+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag:
            continue
        if kind and kind.group(1) in ("submit", "search"):
            continue
        data.setdefault(name.group(1), []).append(value.group(1) if value else "")
    for name, body in re.findall(
        r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
    ):
        data[name] = [body.lstrip("\n")]
    for name, body in re.findall(r'<select [^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body
        )
        if chosen:
            data[name] = [chosen.group(1) or chosen.group(2)]
    return {k: v if len(v) > 1 else v[0] for k, v in data.items()}


def test_the_new_request_page_is_prefilled_for_the_page_only(client, people, monkeypatch):
    monkeypatch.setattr(public_comment, "today", lambda: date(2026, 5, 7))
    login(client, people["department"])
    html = client.get("/items/new").get_data(as_text=True)
    assert re.search(r'id="bureau"[^>]*value="企画財政局"', html)
    assert re.search(r'id="division"[^>]*value="企画部"', html)
    assert re.search(r'id="applied_on"[^>]*value="令和8年5月7日"', html)
    assert re.search(
        r'value="section_managers"[^>]*checked|checked[^>]*value="section_managers"', html
    )
    assert re.search(
        r'<option selected value="policy_coordination"|value="policy_coordination" selected', html
    )


def test_the_deadline_card_carries_every_kind_and_shows_the_route(client, people, monkeypatch):
    monkeypatch.setattr(public_comment, "today", lambda: date(2026, 4, 1))
    make_meeting(people["secretariat"], kind="policy_decision", on=date(2026, 5, 7))
    db.session.commit()
    login(client, people["department"])
    html = client.get("/items/new").get_data(as_text=True)
    rows = dict(re.findall(r'<li data-kind="(\w+)"[^>]*?( hidden)?>', html))
    assert set(rows) == {
        "section_managers",
        "affairs_coordination",
        "bureau_policy",
        "policy_coordination",
        "policy_decision",
    }
    assert rows["section_managers"] == ""
    assert rows["policy_decision"] == " hidden"
    assert "令和８年４月２４日" in html  # policy_decision's deadline, there for the script
    assert "js/form.js" in html


def test_the_meeting_room_lists_its_errors_as_links(client, people):
    item = make_item(
        ItemStatus.SCHEDULED, department=people["department"], secretariat=people["secretariat"]
    )
    db.session.commit()
    meeting_id = item_meeting_id(item)
    login(client, people["secretariat"])
    page = client.get(f"/meetings/{meeting_id}/room/1").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    r = client.post(
        f"/meetings/{meeting_id}/room/1",
        data={"version": version, "outcome": "forwarded", "forward_to": "", "save": "1"},
    )
    assert r.status_code == 422
    summary = _summary(r.get_data(as_text=True))
    assert '<a href="#forward_to">' in summary


def test_an_empty_form_names_every_missing_field_at_once(client, people):
    """The form's own check (案件名 missing) and what 申込 needs, in one summary."""
    login(client, people["department"])
    r = client.post(
        "/items/new",
        data={"title": "", "section": "情報政策課", "applied_on": "", "save_and_submit": "1"},
    )
    assert r.status_code == 422
    links = dict(re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', _summary(r.get_data(as_text=True))))
    assert {"title", "applied_on", "target_kind", "bureau", "summary"} <= set(links)
    assert any(k.startswith("discussion_points") for k in links)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0


def test_withdraw_and_conclude_ask_first(client, people):
    item = make_item(
        ItemStatus.ACCEPTED, department=people["department"], secretariat=people["secretariat"]
    )
    db.session.commit()
    login(client, people["department"])
    asked = client.post(
        f"/items/{item.id}/events/withdraw", data={"version": item.version, "reason": "事業中止"}
    )
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "取り下げると、この案件の手続は終わり、元に戻せません。" in html
    assert "取下げの理由：事業中止" in html  # what was typed, shown back before it counts
    assert 'name="reason" value="事業中止"' in html
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.ACCEPTED
    done = client.post(
        f"/items/{item.id}/events/withdraw",
        data={"version": item.version, "reason": "事業中止", "confirmed": "1"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Item, item.id).status == ItemStatus.WITHDRAWN


def test_a_complete_new_request_asks_by_get_so_a_reload_files_nothing_twice(client, people):
    """「保存して申し込む」 on a new request saves it and redirects to the confirmation page
    (a GET): reloading it does not post /items/new again."""
    login(client, people["department"])
    r = client.post("/items/new", data={**BASE_FORM, "save_and_submit": "1"})
    (item,) = db.session.scalars(sa.select(Item)).all()
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/items/{item.id}/events/submit")
    for _ in range(2):  # the page, and its reload
        page = client.get(r.headers["Location"])
        assert page.status_code == 200
        assert "庁議事務局に申し込みます。" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 1
    assert db.session.get(Item, item.id).status == ItemStatus.DRAFT


def test_target_offers_no_review_kind(client, people):
    """付議先 is a rung of the ladder: 事務事業調整会議 (passed on the way) is not offered."""
    login(client, people["department"])
    html = client.get("/items/new").get_data(as_text=True)
    target = re.search(r'<select[^>]*id="target_kind".*?</select>', html, re.S).group(0)
    assert 'value="affairs_coordination"' not in target
    assert 'value="policy_decision"' in target
