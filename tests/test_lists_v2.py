"""Lists, second edition (issue 20): search results that tell two items of one title apart (年度,
the last meeting and its date, the state), read in a fixed number of queries; and the list pages'
markup that becomes cards on a phone (tests/test_lists_browser.py measures them in Chromium)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask

from tests.factories import item_meeting_id, make_item, make_meeting, make_section, make_user
from tests.support import counting, login
from workflow.extensions import db
from workflow.models import Item, Meeting
from workflow.queries.search import search, with_meetings
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role

TITLE = "放課後児童クラブの運営方針"


@pytest.fixture
def people(app: Flask) -> dict:
    section = make_section("こども家庭課", bureau="こども未来局", division="こども家庭部")
    people = {
        "department": make_user(Role.DEPARTMENT, section=section, login="dept"),
        "secretariat": make_user(Role.SECRETARIAT, login="sec"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
    }
    db.session.commit()
    return people


def _item(people: dict, status: ItemStatus = ItemStatus.ACCEPTED, **fields) -> Item:
    return make_item(
        status, department=people["department"], secretariat=people["secretariat"], **fields
    )


def _schedule(people: dict, item: Item, on: date) -> Meeting:
    sec = people["secretariat"]
    meeting = make_meeting(sec, kind=item.level_kind, on=on)
    meetings.schedule(sec, meeting, item, "こども家庭部長")
    return meeting


@pytest.fixture
def twins(people: dict) -> dict:
    """Items of one title:令和元年度 (継続審議 at a meeting now published, then on a later one),
    令和８年度 (on a meeting of that year), a draft with neither 申込日 nor meeting, and one
    whose 申込日 was never written (its 年度 is its first meeting's)."""
    sec = people["secretariat"]
    old = _item(people, ItemStatus.SCHEDULED, title=TITLE, applied_on=date(2019, 7, 1))
    first = db.session.get(Meeting, item_meeting_id(old))
    meetings.record_outcome(sec, first, old, "continued")
    meetings.hold(sec, first)
    meetings.confirm(sec, first)
    meetings.publish(sec, first)
    second = _schedule(people, old, date(2019, 9, 18))
    new = _item(people, title=TITLE, applied_on=date(2026, 5, 1))
    latest = _schedule(people, new, date(2026, 6, 10))
    draft = _item(people, ItemStatus.DRAFT, title=TITLE)
    draft.applied_on = None  # a draft not yet dated
    unwritten = _item(people, title=TITLE, applied_on=date(2020, 4, 10))
    _schedule(people, unwritten, date(2020, 5, 20))
    unwritten.applied_on = None  # as an item filed before 申込日 was required
    db.session.commit()
    return {
        "old": old,
        "first": first,
        "second": second,
        "new": new,
        "latest": latest,
        "draft": draft,
        "unwritten": unwritten,
    }


def _results(user, q: str = TITLE) -> dict[int, tuple]:
    found = with_meetings(user, search(user, q))
    return {
        hit.item.id: (hit.fiscal_year, hit.last_meeting.id if hit.last_meeting else None)
        for hit in found.hits
    }


def test_each_hit_has_its_year_and_last_meeting(people, twins):
    """The 年度 of 申込日 (else of the first meeting) and the latest meeting by date."""
    assert _results(people["secretariat"]) == {
        twins["old"].id: (2019, twins["second"].id),
        twins["new"].id: (2026, twins["latest"].id),
        twins["draft"].id: (None, None),
        twins["unwritten"].id: (2020, item_meeting_id(twins["unwritten"])),
    }


def test_the_public_sees_only_published_meetings(people, twins):
    """The public finds the published item, and as its last meeting the published one (the
    later meeting's minutes are not out)."""
    assert _results(None) == {twins["old"].id: (2019, twins["first"].id)}


def _cards(html: str) -> list[str]:
    return re.findall(r'<li class="card">(.*?)</li>', html, re.S)


def _text(card: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", card))


def test_the_results_page_tells_the_twins_apart(client, people, twins):
    login(client, people["secretariat"])
    page = client.get("/search", query_string={"q": TITLE}).get_data(as_text=True)
    cards = {re.search(r'href="/items/(\d+)"', c).group(1): _text(c) for c in _cards(page)}
    assert cards[str(twins["old"].id)].startswith(
        f"{TITLE}状態審議予定年度令和元年度直近の会議第２回関係課長会議（令和元年９月１８日）"
        "所管課こども家庭課"
    )
    assert (
        "年度令和８年度直近の会議第１回関係課長会議（令和８年６月１０日）"
        in cards[str(twins["new"].id)]
    )
    assert "状態審議予定" in cards[str(twins["new"].id)]
    assert "状態作成中年度未定直近の会議未定" in cards[str(twins["draft"].id)]
    assert "年度令和２年度" in cards[str(twins["unwritten"].id)]
    assert '<span class="badge badge-scheduled">審議予定</span>' in page
    assert len(set(cards.values())) == 4  # no two cards alike


def test_the_public_results_page_shows_year_and_meeting_but_no_state(client, twins):
    page = client.get("/search", query_string={"q": TITLE}).get_data(as_text=True)
    (card,) = _cards(page)
    assert _text(card).startswith(
        f"{TITLE}年度令和元年度直近の会議第１回関係課長会議（令和元年８月２１日）"
    )
    assert "badge" not in card  # the public reads no workflow state
    assert "第２回" not in page


def test_the_results_page_reads_as_many_queries_for_one_hit_as_for_many(client, people):
    """The years and meetings of a page come in one query, not one per result."""
    for n in range(6):
        item = _item(people, title=f"公園の再整備 その{n}", applied_on=date(2019, 4, 1 + n))
        _schedule(people, item, date(2019, 5, 1 + n))
    _item(people, title="たった一つの緑地計画")
    db.session.commit()
    login(client, people["secretariat"])

    def queries(q: str) -> int:
        client.get("/search", query_string={"q": q})  # warm: first-use lookups
        with counting() as statements:
            page = client.get("/search", query_string={"q": q})
        assert page.status_code == 200
        return len(statements)

    assert queries("再整備") == queries("緑地計画")
    with counting() as statements:
        with_meetings(people["secretariat"], search(people["secretariat"], "再整備"))
    meeting_reads = [s for s in statements if "agenda_entries" in s and "meetings" in s]
    assert len(meeting_reads) == 1


# -- the list pages' markup: cards on a phone ----------------------------------------------------


def test_list_tables_name_each_cell_for_their_cards(client, people, twins):
    login(client, people["secretariat"])
    items = client.get("/items/?q=").get_data(as_text=True)
    assert '<table class="list cards">' in items
    assert items.count('<td class="card-title"><a href=') == 4
    for label in ("所管課", "状態", "次にすること", "更新"):
        assert items.count(f'data-label="{label}"') == 4, label
    listed = client.get("/meetings/").get_data(as_text=True)
    assert '<table class="list meetings cards">' in listed
    assert "table-wrap" not in listed  # cards on a phone: no box to scroll in
    # The meeting's name first, as a card shows it; then each cell under its column's name.
    headers = re.findall(r'<th scope="col">([^<]+)</th>', listed)
    assert headers == ["会議", "開催日", "申込締切", "議題", "状態"]
    for label in headers[1:]:
        assert f'data-label="{label}"' in listed
    assert "令和８年６月１０日" in listed


def test_intake_cards_name_each_fact(client, people, twins):
    login(client, people["secretariat"])
    _item(people, ItemStatus.SUBMITTED, title="申込中の案件", applied_on=date(2026, 5, 7))
    db.session.commit()
    page = client.get("/items/intake").get_data(as_text=True)
    assert '<dl class="facts">' in page
    assert "<dt>申込日</dt><dd>令和８年５月７日</dd>" in page
    assert "<dt>所管課</dt><dd>こども家庭課</dd>" in page


def test_public_lists_put_each_title_on_its_own_line(client, people, twins):
    index = client.get("/public/").get_data(as_text=True)
    assert '<ul class="entries">' in index
    assert "第１回 関係課長会議" in index
    _item(people, ItemStatus.PUBLIC_COMMENT, title="公園条例の改正案")
    db.session.commit()
    calls = client.get("/public/comments/").get_data(as_text=True)
    assert '<ul class="entries">' in calls
    assert "公園条例の改正案" in calls


def test_the_item_list_shows_each_items_application_date(client, people, twins):
    """Outside search too, two items of one title are told apart: the list shows 申込日."""
    login(client, people["secretariat"])
    html = client.get("/items/?q=" + TITLE).get_data(as_text=True)
    assert '<th scope="col">申込日</th>' in html
    assert '<td class="nowrap" data-label="申込日">R8.5.1</td>' in html  # the new one
    assert '<td class="nowrap" data-label="申込日">未記入</td>' in html  # the draft
