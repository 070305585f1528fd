"""The meeting list (会議・議事録) pages through the meetings, 50 at a time, newest first."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import PASSWORD, make_item, make_meeting, make_user
from tests.support import assert_pager, counting
from workflow.extensions import db
from workflow.models import Meeting
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role

# 55 関係課長会議 in 令和2年度 (two on each day: the newer id comes first) and 5 政策調整会議 in
# 令和元年度: 60 meetings, a page of 50 and a page of 10.
SECTION_MANAGERS, POLICY = "section_managers", "policy_coordination"
ROW = re.compile(
    r'<a href="/meetings/(\d+)">[^<]*</a></td>.*?<td data-label="議題">(\d+)件</td>', re.S
)


@pytest.fixture
def world(app: Flask) -> dict:
    secretariat = make_user(Role.SECRETARIAT, login="sec")
    for n in range(55):
        make_meeting(secretariat, kind=SECTION_MANAGERS, on=date(2020, 4, 1) + timedelta(n // 2))
    for n in range(5):
        make_meeting(secretariat, kind=POLICY, on=date(2019, 10, 1) + timedelta(n))
    newest = db.session.scalars(
        sa.select(Meeting).order_by(Meeting.date.desc(), Meeting.id.desc())
    ).all()
    # Agendas of 3, 1 and 0 items, on meetings of the first page and of the second.
    busy, single, policy = newest[0], newest[7], newest[-1]
    department = make_user(Role.DEPARTMENT)
    for meeting, size in ((busy, 3), (single, 1), (policy, 2)):
        for _ in range(size):
            item = make_item(
                ItemStatus.ACCEPTED,
                department=department,
                secretariat=secretariat,
                target_kind=meeting.kind,
                route=[meeting.kind],
            )
            meetings.schedule(secretariat, meeting, item, "担当課長")
    db.session.commit()
    return {
        "secretariat": secretariat,
        "newest": [m.id for m in newest],
        "sizes": {busy.id: 3, single.id: 1, policy.id: 2},
        "policy": [m.id for m in newest if m.kind == POLICY],
        "managers": [m.id for m in newest if m.kind == SECTION_MANAGERS],
    }


@pytest.fixture
def signed_in(app: Flask, world: dict) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"login": "sec", "password": PASSWORD})
    assert response.status_code == 302
    return client


def _rows(response) -> list[tuple[int, int]]:
    """(meeting id, 議題の件数) of each row of the list, in order."""
    assert response.status_code == 200
    return [(int(m), int(n)) for m, n in ROW.findall(response.get_data(as_text=True))]


def _ids(response) -> list[int]:
    return [meeting_id for meeting_id, _ in _rows(response)]


def _page_url(n: int) -> str:
    return f"/meetings/?page={n}"


def test_pages_of_fifty_newest_first(world, signed_in):
    newest = world["newest"]
    first = signed_in.get("/meetings/")
    assert _ids(first) == newest[:50]
    page = first.get_data(as_text=True)
    assert_pager(page, 1, _page_url, has_next=True)
    assert "会議（1～50件目）" in page

    second = signed_in.get("/meetings/?page=2")
    assert _ids(second) == newest[50:]
    page = second.get_data(as_text=True)
    assert_pager(page, 2, _page_url, has_next=False)
    assert "会議（51～60件目）" in page


def test_agenda_count_per_meeting(world, signed_in):
    counts = dict(_rows(signed_in.get("/meetings/")) + _rows(signed_in.get("/meetings/?page=2")))
    assert len(counts) == 60
    assert {m: n for m, n in counts.items() if n} == world["sizes"]


def test_filters_narrow_and_stay_in_the_pager_links(world, signed_in):
    managers = world["managers"]
    first = signed_in.get(f"/meetings/?fy=2020&kind={SECTION_MANAGERS}")
    assert _ids(first) == managers[:50]
    page = first.get_data(as_text=True)
    assert f'href="/meetings/?fy=2020&amp;kind={SECTION_MANAGERS}&amp;page=2" rel="next"' in page
    assert '<option value="2020" selected>' in page
    assert f'<option value="{SECTION_MANAGERS}" selected>' in page

    second = signed_in.get(f"/meetings/?fy=2020&kind={SECTION_MANAGERS}&page=2")
    assert _ids(second) == managers[50:]
    page = second.get_data(as_text=True)
    assert f'href="/meetings/?fy=2020&amp;kind={SECTION_MANAGERS}&amp;page=1" rel="prev"' in page

    # One page only: no pager.
    assert _ids(signed_in.get(f"/meetings/?kind={POLICY}")) == world["policy"]
    assert "ページ目" not in signed_in.get(f"/meetings/?kind={POLICY}").get_data(as_text=True)
    assert _ids(signed_in.get("/meetings/?fy=2019")) == world["policy"]
    # The year list keeps every year with meetings, and the current one.
    page = signed_in.get("/meetings/?fy=2019").get_data(as_text=True)
    assert '<option value="2019" selected>' in page
    assert '<option value="2020" >' in page


def test_third_page_links_to_the_first(app, world, signed_in):
    secretariat = db.session.merge(world["secretariat"])
    for n in range(45):  # 105 meetings: three pages
        make_meeting(secretariat, kind=POLICY, on=date(2019, 4, 1) + timedelta(n))
    db.session.commit()
    page = signed_in.get("/meetings/?kind=&page=3").get_data(as_text=True)
    assert 'href="/meetings/?kind=&amp;page=1">最初のページ</a>' in page
    assert 'href="/meetings/?kind=&amp;page=2" rel="prev"' in page
    assert len(_rows(signed_in.get("/meetings/?page=3"))) == 5


def test_past_the_end_or_unreadable_pages(world, signed_in):
    newest = world["newest"]
    beyond = signed_in.get("/meetings/?page=99")
    assert _ids(beyond) == []
    page = beyond.get_data(as_text=True)
    assert "このページに会議はありません。" in page
    assert '<a href="/meetings/?page=1">最初のページへ</a>' in page
    # The link to the first page keeps the filters.
    page = signed_in.get(f"/meetings/?kind={POLICY}&page=2").get_data(as_text=True)
    assert f'<a href="/meetings/?kind={POLICY}&amp;page=1">最初のページへ</a>' in page
    # Nothing matches at all: the first page says that instead.
    page = signed_in.get("/meetings/?fy=2001").get_data(as_text=True)
    assert "条件に合う会議はありません。" in page
    assert "最初のページへ" not in page
    # Unreadable or absurd page numbers: the first page, or an empty one; never an error.
    assert _ids(signed_in.get("/meetings/?page=0")) == newest[:50]
    assert _ids(signed_in.get("/meetings/?page=-3")) == newest[:50]
    assert _ids(signed_in.get("/meetings/?page=x")) == newest[:50]
    assert _ids(signed_in.get(f"/meetings/?page={10**30}")) == []


def _queries(client: FlaskClient, url: str) -> int:
    client.get(url)  # warm: first-use lookups (templates) are not the page's
    with counting() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def test_a_fixed_number_of_queries_however_many_meetings_and_entries(world, signed_in):
    full = _queries(signed_in, "/meetings/")  # 50 meetings, agendas of 3, 1 and 0
    assert len(_rows(signed_in.get(f"/meetings/?kind={POLICY}&fy=2019"))) == 5
    # The session with its user, the years of the filter, the kinds, the page, the admin's
    # 閉庁日 for every row's 申込締切, and the header's unread count: six.
    assert full == _queries(signed_in, f"/meetings/?kind={POLICY}&fy=2019") == 6
    assert _queries(signed_in, "/meetings/?page=2") == full
    # Past the end: no row, so no 閉庁日 to read.
    assert _queries(signed_in, "/meetings/?page=9") == full - 1
