"""The public index shows one fiscal year at a time; the public-comment lists (public and staff)
page through every procedure, 50 at a time, newest first: a fixed number of queries each."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.support import assert_pager, counting
from workflow.demo.load import DEMO_PASSWORD
from workflow.extensions import db
from workflow.models import Item, Meeting, PublicComment
from workflow.states.states import ItemStatus, MeetingStatus
from workflow.wareki import fiscal_year_label


@pytest.fixture
def data(app):
    # 700 items give ten years of meetings and more than 50 public-comment procedures.
    result = app.test_cli_runner().invoke(
        args=["demo", "generate", "--items", "700", "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    return app


def queries(client: FlaskClient, url: str) -> int:
    client.get(url)  # warm: first-use lookups are not the page's
    with counting() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def _ids(response, prefix: str) -> list[int]:
    return [int(n) for n in re.findall(rf'href="{prefix}(\d+)"', response.get_data(as_text=True))]


def _secretariat(app) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"login": "secretariat", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


# -- /public/: one fiscal year at a time --------------------------------------------------------


def _published(fy: int) -> list[int]:
    return db.session.scalars(
        sa.select(Meeting.id)
        .where(Meeting.status == MeetingStatus.PUBLISHED, Meeting.fiscal_year == fy)
        .order_by(Meeting.date.desc(), Meeting.id.desc())
    ).all()


def test_the_public_index_shows_the_newest_year_and_links_every_year(data, client):
    years = db.session.scalars(
        sa.select(Meeting.fiscal_year)
        .where(Meeting.status == MeetingStatus.PUBLISHED)
        .distinct()
        .order_by(Meeting.fiscal_year.desc())
    ).all()
    assert len(years) >= 5
    index = client.get("/public/")
    assert index.status_code == 200
    page = index.get_data(as_text=True)
    assert _ids(index, "/public/meetings/") == _published(years[0])
    assert f'<li aria-current="page">{fiscal_year_label(years[0])}</li>' in page
    for year in years[1:]:
        assert f'<a href="/public/?fy={year}">{fiscal_year_label(year)}</a>' in page
    # Every published meeting is one click away, each year on its own page.
    for year in years[1:]:
        other = client.get(f"/public/?fy={year}")
        assert other.status_code == 200
        assert _ids(other, "/public/meetings/") == _published(year)
        assert f'<h2 id="fy-{year}">{fiscal_year_label(year)}</h2>' in other.get_data(as_text=True)
    # A meeting not yet published is on no year's page.
    unpublished = db.session.scalar(
        sa.select(Meeting.id).where(Meeting.status != MeetingStatus.PUBLISHED).limit(1)
    )
    assert unpublished is not None
    for year in years:
        assert unpublished not in _ids(client.get(f"/public/?fy={year}"), "/public/meetings/")


def test_a_year_without_published_meetings_says_so(data, client):
    for fy in ("1999", "0", "-3", str(10**30)):
        missing = client.get(f"/public/?fy={fy}")
        assert missing.status_code == 404, fy
        page = missing.get_data(as_text=True)
        assert "指定の年度に公開された会議はありません。" in page
        assert '<a href="/public/">最新の年度へ</a>' in page
    # Not a number: the newest year, as without it.
    assert client.get("/public/?fy=abc").get_data() == client.get("/public/").get_data()


def test_the_public_index_without_any_published_meeting(app, client):
    page = client.get("/public/")
    assert page.status_code == 200
    assert "公開された会議はまだありません。" in page.get_data(as_text=True)


def test_the_public_index_runs_the_same_queries_for_a_small_and_a_large_year(data, client):
    sizes = db.session.execute(
        sa.select(Meeting.fiscal_year, sa.func.count())
        .where(Meeting.status == MeetingStatus.PUBLISHED)
        .group_by(Meeting.fiscal_year)
        .order_by(sa.func.count())
    ).all()
    (small, few), (large, many) = sizes[0], sizes[-1]
    assert few < many
    counts = {queries(client, f"/public/?fy={fy}") for fy in (small, large)}
    assert counts == {2}  # the years, and the year's meetings with their kinds


# -- /public/comments/ and /public-comments/: 50 a page, newest first ----------------------------


def _public_order() -> list[int]:
    return db.session.scalars(
        sa.select(PublicComment.item_id).order_by(
            PublicComment.published_on.desc(), PublicComment.id.desc()
        )
    ).all()


def _staff_order() -> list[int]:
    # The list's rule, as the page before paging had it.
    return db.session.scalars(
        sa.select(Item.id)
        .where(
            sa.or_(
                (Item.status == ItemStatus.APPROVED) & Item.public_comment_planned,
                Item.status.in_((ItemStatus.PUBLIC_COMMENT, ItemStatus.PUBLIC_COMMENT_CLOSED)),
                Item.id.in_(sa.select(PublicComment.item_id)),
            )
        )
        .order_by(Item.updated_at.desc(), Item.id.desc())
    ).all()


LISTS = {
    "public": (
        "/public/comments/",
        "/public/comments/",
        _public_order,
        "このページに掲載するものはありません。",
    ),
    "staff": (
        "/public-comments/",
        "/public-comments/",
        _staff_order,
        "このページに案件はありません。",
    ),
}


@pytest.mark.parametrize("which", LISTS)
def test_the_comment_lists_page_through_everything_newest_first(data, which):
    url, prefix, order, past_end = LISTS[which]
    client = _secretariat(data) if which == "staff" else data.test_client()
    every = order()
    assert 50 < len(every) <= 150
    seen: list[int] = []
    page = 1
    while True:
        response = client.get(f"{url}?page={page}")
        assert response.status_code == 200
        rows = _ids(response, prefix)
        assert_pager(
            response.get_data(as_text=True),
            page,
            lambda n: f"{url}?page={n}",
            has_next=len(seen) + len(rows) < len(every),
        )
        seen += rows
        if len(seen) >= len(every):
            break
        assert len(rows) == 50
        page += 1
    assert seen == every
    assert _ids(client.get(url), prefix) == every[:50]
    # Past the end: a page that says so with the way back; never an error.
    beyond = client.get(f"{url}?page=99")
    assert beyond.status_code == 200
    assert _ids(beyond, prefix) == []
    assert past_end in beyond.get_data(as_text=True)
    assert f'<a href="{url}?page=1">最初のページへ</a>' in beyond.get_data(as_text=True)
    for odd in ("0", "-2", "x", str(10**30)):
        response = client.get(f"{url}?page={odd}")
        assert response.status_code == 200
        if odd != str(10**30):
            assert _ids(response, prefix) == every[:50]


def test_the_public_list_says_where_each_procedure_stands(data, client):
    text = client.get("/public/comments/").get_data(as_text=True)
    assert "結果公表：" in text or "意見募集中：" in text
    assert "/public-comments/" not in text  # the public never gets the staff's links


@pytest.mark.parametrize("which", LISTS)
def test_the_comment_lists_run_the_same_queries_for_a_full_and_a_short_page(data, which):
    url, _prefix, order, _past_end = LISTS[which]
    client = _secretariat(data) if which == "staff" else data.test_client()
    last = (len(order()) - 1) // 50 + 1
    assert last >= 2
    full, short = queries(client, f"{url}?page=1"), queries(client, f"{url}?page={last}")
    assert full == short
    # The rows (and the signed-in session and the header's unread count).
    assert full <= (1 if which == "public" else 3)
