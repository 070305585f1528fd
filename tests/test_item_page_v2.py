"""The item page, second edition (issue 20): what the reader must act on comes first, addressed
to them; the 手続の流れ is the item's own path, with the whole machine on its own page; the home
page's longest waits and counts.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.factories import item_meeting_id, make_item, make_user
from tests.support import login
from workflow.extensions import db
from workflow.models import Meeting
from workflow.services import items, meetings
from workflow.states.states import ItemStatus, MeetingStatus, Outcome, Role, because

pytestmark = pytest.mark.usefixtures("app")

REASON = "記載が不足しています。"  # what tests.factories returns an item with


@pytest.fixture
def people() -> dict:
    owner = make_user(Role.DEPARTMENT, login="owner", display_name="所管 太郎")
    people = {
        "owner": owner,
        "other": make_user(Role.DEPARTMENT, login="other"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
        "secretariat": make_user(Role.SECRETARIAT, login="sec"),
    }
    db.session.commit()
    return people


def _make(people, status, **fields):
    item = make_item(
        status, department=people["owner"], secretariat=people["secretariat"], **fields
    )
    db.session.commit()
    return item


def _page(client: FlaskClient, user, item) -> str:
    """The item page as *user* reads it (a fresh client each time: one sign-in each)."""
    client = login(client.application.test_client(), user)
    response = client.get(f"/items/{item.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _box(page: str) -> str:
    """The box at the top of the item page: it comes right after the title, before anything."""
    match = re.search(r'<section class="card attention[^"]*"(.*?)</section>', page, re.S)
    assert match is not None
    assert page.index("<h1>") < match.start() < page.index("会議での審議")
    return match.group(1)


def _text(html: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


# -- the box at the top, per return path and per reader ------------------------------------------


def test_a_return_at_intake_tells_the_owner_why_and_what_to_do(client, people):
    item = _make(people, ItemStatus.RETURNED)
    box = _text(_box(_page(client, people["owner"], item)))
    assert "差し戻されました。" in box
    assert f"理由：{REASON}" in box
    assert "修正して、もう一度申し込んでください。" in box


def test_a_return_at_intake_tells_the_secretariat_what_it_waits_for(client, people):
    item = _make(people, ItemStatus.RETURNED)
    box = _text(_box(_page(client, people["secretariat"], item)))
    assert f"理由：{REASON}" in box
    assert "所管課の修正と再度の申込を待っています。" in box
    assert "もう一度申し込んでください" not in box


@pytest.mark.parametrize("who", ["viewer", "other"])
def test_others_read_a_neutral_status_line(client, people, who):
    item = _make(people, ItemStatus.RETURNED)
    box = _text(_box(_page(client, people[who], item)))
    assert "差し戻され、所管課が修正しています。" in box
    assert "もう一度申し込んでください" not in box
    assert REASON not in box


def _remand(people, notes: str = ""):
    item = _make(people, ItemStatus.SCHEDULED)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    if notes:
        meetings.record_deliberation(people["secretariat"], meeting, item, {"special_notes": notes})
    meetings.record_outcome(people["secretariat"], meeting, item, Outcome.REMANDED)
    db.session.commit()
    return item, meeting


def test_a_meetings_remand_is_quoted_with_its_notes_to_the_owner(client, people):
    item, meeting = _remand(people, notes="財源の見通しを示すこと。")
    assert item.status == ItemStatus.RETURNED
    box = _text(_box(_page(client, people["owner"], item)))
    assert "会議で差し戻されました。" in box
    title = meeting.title.replace(" ", "")
    assert f"{title}（令和元年８月２１日）で「差し戻しとする」とされました。" in box
    assert "特記事項：財源の見通しを示すこと。" in box
    assert "修正して、もう一度申し込んでください。" in box


def test_a_meetings_remand_reaches_the_home_task_list_too(client, people):
    item, _meeting = _remand(people, notes="財源の見通しを示すこと。")
    login(client, people["owner"])
    home = client.get("/").get_data(as_text=True)
    assert "差し戻しとする。" in home
    assert "財源の見通しを示すこと。" in home
    assert f"/items/{item.id}" in home


def test_a_returned_amendment_is_quoted_to_the_owner(client, people):
    item = _make(people, ItemStatus.AMENDMENT_SUBMITTED)
    items.return_amendment(people["secretariat"], item, "図表の数値が直っていません。")
    db.session.commit()
    box = _text(_box(_page(client, people["owner"], item)))
    assert "修正版が差し戻されました。" in box
    assert "理由：図表の数値が直っていません。" in box
    assert "もう一度「修正版の提出」をしてください。" in box
    login(client, people["owner"])
    home = _text(client.get("/").get_data(as_text=True))
    assert "修正の差戻しの理由：図表の数値が直っていません。" in home


def test_every_return_path_is_quoted_in_full_on_the_home_page(client, people):
    returned = _make(people, ItemStatus.RETURNED)
    login(client, people["owner"])
    home = client.get("/").get_data(as_text=True)
    assert f"差戻しの理由：{REASON}" in home
    assert f"/items/{returned.id}" in home


def test_the_pending_amendment_is_the_secretariats_to_act_on(client, people):
    item = _make(people, ItemStatus.AMENDMENT_SUBMITTED)
    box = _text(_box(_page(client, people["secretariat"], item)))
    assert "修正版を確認するか、差し戻してください。" in box
    assert f"{item.section.name}から修正版が提出されました。" in box
    owner_box = _text(_box(_page(client, people["owner"], item)))
    assert "庁議事務局の確認をお待ちください。" in owner_box


def test_a_late_request_says_so_to_the_secretariat(client, people):
    item = _make(people, ItemStatus.SUBMITTED)
    item.late = True
    db.session.commit()
    box = _text(_box(_page(client, people["secretariat"], item)))
    assert "申込締切の後に届いた申込です（締切後）。" in box
    assert "受け付けるか、理由を付けて差し戻してください。" in box


def test_waiting_for_a_meeting_names_the_kind(client, people):
    item = _make(people, ItemStatus.ACCEPTED)
    box = _text(_box(_page(client, people["secretariat"], item)))
    assert "「関係課長会議」の付議待ちです。" in box
    assert "「関係課長会議」の会議の議題に加えてください。" in box
    owner_box = _text(_box(_page(client, people["owner"], item)))
    assert "「関係課長会議」の議題に加えられるのを待っています。" in owner_box


def test_the_owners_hints_are_in_the_second_person(client, people):
    """No 「所管課が…」 told to the 所管課 itself: not in the box, the list or the home page."""
    item = _make(people, ItemStatus.RETURNED)
    page = _page(client, people["owner"], item)
    assert "所管課が修正" not in page
    login(client, people["owner"])
    listing = client.get("/items/?mine=1").get_data(as_text=True)
    assert "もう一度申し込んでください。" in listing
    assert "所管課が修正" not in listing
    home = client.get("/").get_data(as_text=True)
    assert "所管課が修正" not in home


def test_the_reason_buttons_say_a_verb(client, people):
    item = _make(people, ItemStatus.SUBMITTED)
    page = _page(client, people["secretariat"], item)
    assert ">差し戻す</button>" in page
    assert ">取り下げる</button>" in page
    assert "取下げする" not in page
    assert "差戻しする" not in page


# -- the item's own path, and the whole flow on its own page -------------------------------------


def _path(page: str) -> list[tuple[str, str]]:
    section = page[page.index('class="item-path"') :]
    section = section[: section.index("</ol>")]
    return [
        (when, _text(label))
        for when, label in re.findall(r'class="step step-(\w+)"[^>]*>(.*?)</li>', section, re.S)
    ]


def test_the_path_shows_what_is_done_where_it_is_and_what_is_to_come(client, people):
    item = _make(people, ItemStatus.SCHEDULED)
    page = _page(client, people["owner"], item)
    steps = _path(page)
    assert steps == [
        ("done", "済作成中"),
        ("done", "済申込済"),
        ("done", "済付議待ち（関係課長会議）"),
        ("current", "現在審議予定（関係課長会議）"),
        ("to_come", "これから付議待ち（政策調整会議）"),
        ("to_come", "これから審議予定（政策調整会議）"),
        ("to_come", "これから承認済"),
        ("to_come", "これから完了"),
    ]
    assert 'aria-current="step"' in page
    # Only the item's path: no 取下げ edge, no full machine, no picture on the item page.
    assert "<svg" not in page
    path = page[page.index('class="item-path"') :]
    assert "取下げ" not in path[: path.index("</ol>")]
    # After the main content: the form's fields come first.
    assert page.index('class="item-path"') > page.index("会議での審議")
    assert 'href="/items/flow"' in page


def test_a_return_is_on_the_path_and_the_way_back_is_to_come(client, people):
    item = _make(people, ItemStatus.RETURNED, public_comment={"planned": True})
    steps = _path(_page(client, people["owner"], item))
    assert [w for w, _ in steps[:4]] == ["done", "done", "current", "to_come"]
    assert steps[2] == ("current", "現在差戻し中")
    assert steps[3] == ("to_come", "これから申込済")
    assert ("to_come", "これから意見募集中") in steps
    assert steps[-1] == ("to_come", "これから完了")


def test_a_withdrawn_item_has_nothing_to_come(client, people):
    item = _make(people, ItemStatus.WITHDRAWN)
    steps = _path(_page(client, people["owner"], item))
    assert steps == [("done", "済作成中"), ("current", "現在取下げ")]


@pytest.mark.parametrize("who", ["owner", "other", "viewer", "secretariat", "admin"])
def test_the_whole_flow_has_its_own_page_for_every_signed_in_role(client, people, who):
    user = people.get(who) or make_user(Role.ADMIN, login="admin")
    db.session.commit()
    login(client, user)
    page = client.get("/items/flow").get_data(as_text=True)
    assert "<h1>手続の流れ全体</h1>" in page
    text = _text(page)
    for status in ItemStatus:
        assert status.label in text
    assert "取下げ→取下げ" in text  # every way out is listed as text
    assert 'role="img"' in page  # and drawn


def test_the_whole_flow_needs_a_sign_in(client):
    response = client.get("/items/flow")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_diagram_labels_are_readable():
    from workflow.states.diagram import item_diagram_svg

    svg = item_diagram_svg()
    sizes = {float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)}
    assert sizes
    assert min(sizes) >= 12
    assert re.search(r'^<svg [^>]*width="\d+pt"', svg)  # drawn at its size; its box scrolls


# -- Japanese -------------------------------------------------------------------------------------


def test_a_state_is_a_reason_in_words_not_a_quoted_label(client, people):
    item = _make(people, ItemStatus.SCHEDULED)
    login(client, people["owner"])
    response = client.get(f"/items/{item.id}/edit", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "この案件は会議の議題に載っているため、編集できません。" in text
    assert "」のため" not in text
    assert because(MeetingStatus.CONFIRMED) == "議事録が確定しているため"


def test_outcomes_on_screen_follow_one_ending_rule():
    labels = [o.screen_label for o in Outcome]
    assert not any(label.endswith("。") for label in labels)
    assert Outcome.APPROVED.label == "原案のとおり承認する。"  # the printed wording stays
    assert (
        Outcome.FORWARDED.screen_wording("政策調整会議")
        == "原案を上部庁議へ付議する（政策調整会議）"
    )


def test_the_room_offers_outcomes_without_a_full_stop(client, people):
    item = _make(people, ItemStatus.SCHEDULED)
    login(client, people["secretariat"])
    page = client.get(f"/meetings/{item_meeting_id(item)}/room/1").get_data(as_text=True)
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]*)</option>', page)
    shown = dict(options)
    assert shown["approved"] == "原案のとおり承認する"
    assert shown["remanded"] == "差し戻しとする"


# -- the header ------------------------------------------------------------------------------------


def test_the_header_names_each_name_once(client):
    from tests.factories import make_section

    section = make_section("経営監理課")
    user = make_user(
        Role.SECRETARIAT, section=section, login="jimu", display_name="庁議事務局（経営監理課）"
    )
    plain = make_user(Role.DEPARTMENT, login="plain", display_name="山田 花子")
    db.session.commit()
    login(client, user)
    page = client.get("/").get_data(as_text=True)
    assert '<span class="who">庁議事務局（経営監理課）</span>' in page
    client.post("/logout", data={})
    login(app_client := client, plain)
    page = app_client.get("/").get_data(as_text=True)
    assert f'<span class="who">山田 花子（所管課職員・{plain.section.name}）</span>' in page


# -- the home page ---------------------------------------------------------------------------------


def _waiting(html: str) -> str:
    start = html.index('id="waiting-h"')
    return html[start : html.index("</section>", start)]


def test_a_departments_long_waits_are_its_own_sections(client, people):
    own = _make(people, ItemStatus.SUBMITTED, title="自課の待ち案件")
    stranger = make_user(Role.DEPARTMENT, login="stranger")
    theirs = make_item(ItemStatus.SUBMITTED, department=stranger, secretariat=people["secretariat"])
    theirs.title = "他課の待ち案件"
    db.session.commit()
    login(client, people["owner"])
    waiting = _waiting(client.get("/").get_data(as_text=True))
    assert "自課の待ち案件" in waiting
    assert "他課の待ち案件" not in waiting
    assert f"/items/{own.id}" in waiting
    # The secretariat still sees every section's.
    client.post("/logout")
    login(client, people["secretariat"])
    waiting = _waiting(client.get("/").get_data(as_text=True))
    assert "自課の待ち案件" in waiting
    assert "他課の待ち案件" in waiting


def test_each_count_by_state_links_to_the_list_of_that_state(client, people):
    _make(people, ItemStatus.SUBMITTED)
    _make(people, ItemStatus.SUBMITTED)
    login(client, people["secretariat"])
    home = client.get("/").get_data(as_text=True)
    counts = home[home.index('id="counts-h"') :]
    links = dict(
        (status, href.replace("&amp;", "&"))
        for href, status in re.findall(
            r'<a href="([^"]+)"><span class="badge badge-(\w+)">', counts
        )
    )
    assert set(links) == {s.value for s in ItemStatus}
    assert links["submitted"] == "/items/?status=submitted"
    listed = client.get(links["submitted"]).get_data(as_text=True)
    assert listed.count('href="/items/') - listed.count('href="/items/?') >= 2
    count = re.search(
        r'badge-submitted">[^<]*</span> <span class="count">(\d+)</span>', counts
    ).group(1)
    assert count == "2"
