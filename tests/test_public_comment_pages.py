"""/public/comments: the call for comments while open, the results once published (§39, §43)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import make_item, make_section, make_user
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.models import PdfCache
from workflow.services import items
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def actors():
    return make_user(Role.DEPARTMENT, make_section("情報政策課")), make_user(Role.SECRETARIAT)


def test_an_open_call_is_public_but_its_opinions_are_not_yet(client, actors):
    path = play_sample(*actors, until="public_comment_open")
    db.session.commit()
    listing = client.get("/public/comments/")
    assert listing.status_code == 200
    assert path.item.title in listing.text
    page = client.get(f"/public/comments/{path.item.id}")
    assert page.status_code == 200
    assert "令和元年１２月２日から令和２年１月２０日まで" in page.text
    assert "情報政策課へ持参" in page.text
    assert "行政手続のオンライン化を早期に" not in page.text  # a received opinion
    assert client.get(f"/public/comments/{path.item.id}/results.pdf").status_code == 404


def test_published_results_show_every_opinion_with_the_citys_view_and_a_pdf(client, actors):
    path = play_sample(*actors)
    db.session.commit()
    page = client.get(f"/public/comments/{path.item.id}")
    assert "提出者数：２人　意見数：２件" in page.text
    assert "電子申請の拡充を基本目標１に掲げ" in page.text
    assert "案を修正" in page.text
    assert "施策１－３にデジタル機器に不慣れな方への支援を追記した。" in page.text
    pdf = client.get(f"/public/comments/{path.item.id}/results.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")
    # The page download keeps its rendering in the shared cache.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PdfCache)) >= 1


def test_an_abandoned_draft_says_so_publicly(client, actors):
    department, secretariat = actors
    item = make_item(ItemStatus.PUBLIC_COMMENT, department=department, secretariat=secretariat)
    items.withdraw(department, item, "国の制度改正を待って見直すため")
    db.session.commit()
    page = client.get(f"/public/comments/{item.id}")
    assert "案の取下げ" in page.text
    assert "国の制度改正を待って見直すため" in page.text
    assert item.comment_process.closes_on == date(2020, 2, 4)


def test_an_item_without_public_comment_is_not_found(client, actors):
    item = make_item(ItemStatus.SUBMITTED, department=actors[0])
    db.session.commit()
    assert client.get(f"/public/comments/{item.id}").status_code == 404
