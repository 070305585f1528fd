"""Issue 20's request form in Debian's Chromium, on a phone (390 px) and a tablet (820 px): the new
request page pre-filled from the section; a request sent incomplete comes back with the error
summary focused at the top, each link moving the focus to its field; the 申込締切 card follows
the route boxes as they are ticked; no axe-core finding of any impact. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tests.browser import SCREENSHOTS, axe_violations, describe, live_server
from tests.factories import PASSWORD, make_meeting, make_section, make_user
from tests.support import empty_all_tables, make_app
from workflow.extensions import db
from workflow.models import seed_meeting_kinds
from workflow.services import public_comment
from workflow.states.states import Role

pytestmark = pytest.mark.slow

TODAY = date(2026, 4, 1)
WIDTHS = [390, 820]


@pytest.fixture(scope="module")
def server(_schema: str) -> Iterator[str]:
    app = make_app(_schema, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    patch = pytest.MonkeyPatch()
    patch.setattr(public_comment, "today", lambda: TODAY)
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        section = make_section("情報政策課", bureau="企画財政局", division="企画部")
        make_user(Role.DEPARTMENT, section=section, login="joho")
        make_section("財政課", bureau="企画財政局", division="財務部")
        secretariat = make_user(Role.SECRETARIAT, login="jimukyoku")
        make_meeting(secretariat, kind="section_managers", on=date(2026, 4, 21))
        make_meeting(secretariat, kind="policy_decision", on=date(2026, 5, 7))
        db.session.commit()
    with live_server(app) as url:
        yield url
    patch.undo()


@pytest.fixture
def who() -> str:
    """Who signs in (a test parametrizes it for another role): the department."""
    return "joho"


@pytest.fixture(params=WIDTHS)
def page(request, server, browser, who):
    context = browser.new_context(viewport={"width": request.param, "height": 800}, locale="ja-JP")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{server}/login")
    tab.fill("#login", who)
    tab.fill("#password", PASSWORD)
    tab.click("main [type=submit]")
    tab.wait_for_url(f"{server}/")
    tab.goto(f"{server}/items/new")
    tab.width = request.param
    yield tab
    context.close()
    assert errors == [], errors


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"form-{name}-{page.width}.png"), full_page=True)


def _axe(page) -> None:
    violations = axe_violations(page)
    assert not violations, describe(violations)


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_the_new_request_is_prefilled(page):
    assert page.input_value("#bureau") == "企画財政局"
    assert page.input_value("#division") == "企画部"
    assert page.input_value("#section") == "情報政策課"
    assert page.input_value("#applied_on") == "令和8年4月1日"
    assert page.is_checked("input[name=route][value=section_managers]")
    assert page.is_checked("input[name=route][value=policy_coordination]")
    assert not page.is_checked("input[name=route][value=policy_decision]")
    assert page.input_value("#target_kind") == "policy_coordination"
    _axe(page)


def test_an_incomplete_request_comes_back_with_a_focused_summary_of_links(page):
    page.fill("#title", "案件名だけの申込")
    page.fill("#applied_on", "")
    page.fill("#bureau", "")
    page.uncheck("input[name=route][value=section_managers]")
    page.uncheck("input[name=route][value=policy_coordination]")
    with page.expect_navigation():
        page.click(".form-actions.top button[name=save_and_submit]")
    summary = page.locator("[data-error-summary]")
    assert summary.get_attribute("role") == "alert"
    page.wait_for_function(
        "document.activeElement && document.activeElement.hasAttribute('data-error-summary')"
    )
    assert summary.locator("h2").inner_text() == "入力内容を確認してください"
    box = summary.bounding_box()
    assert box is not None
    assert box["y"] < 800  # at the top, seen without scrolling
    assert box["x"] + box["width"] <= page.width
    links = summary.locator("a")
    texts = links.all_inner_texts()
    assert "申込日を入力してください。" in texts
    # 付議先 was let go with the route it was on (js/form.js): no route to be on.
    assert "付議先を選んでください。" in texts
    assert "付議先は、審議の経路にある会議から選んでください。" not in texts
    assert "審議の経路を一つ以上選んでください。" in texts
    assert "局・区を入力してください。" in texts
    assert len(texts) == 6  # 申込日, 付議先, 審議の経路, 局・区, 概要, 論点 — all at once
    _shot(page, "summary")
    _axe(page)
    # Each field also says it beside itself.
    assert "申込日を入力してください。" in page.inner_text("#applied_on-error")
    for text, target in (
        ("申込日を入力してください。", "applied_on"),
        ("審議の経路を一つ以上選んでください。", "route-0"),
        ("局・区を入力してください。", "bureau"),
        ("審議内容（論点）を一つ以上入力してください。", "discussion_points-0"),
    ):
        page.locator("[data-error-summary] a", has_text=text).click()
        assert _focused_id(page) == target
        field = page.locator(f"#{target}").bounding_box()
        assert field is not None
        assert 0 <= field["y"] < 800  # scrolled into view (below the sticky save bar)
        page.evaluate("window.scrollTo(0, 0)")


def test_the_deadline_card_follows_the_route_boxes(page):
    card = page.locator("[data-deadlines]")
    assert "関係課長会議" in card.locator("[data-first-kind]").inner_text()
    assert card.locator("li[data-kind=section_managers]").is_visible()
    assert not card.locator("li[data-kind=policy_decision]").is_visible()
    assert not card.locator("[data-no-script]").is_visible()  # the script shows it live

    page.uncheck("input[name=route][value=section_managers]")
    page.uncheck("input[name=route][value=policy_coordination]")
    assert card.locator("[data-no-route]").is_visible()
    assert "まだ選ばれていません" in card.locator("[data-first-kind]").inner_text()

    page.check("input[name=route][value=policy_decision]")
    assert "政策決定会議" in card.locator("[data-first-kind]").inner_text()
    decision = card.locator("li[data-kind=policy_decision]")
    assert decision.is_visible()
    assert "令和８年５月７日" in decision.inner_text()
    assert "申込締切 令和８年４月２４日" in decision.inner_text()
    assert not card.locator("li[data-kind=section_managers]").is_visible()
    assert not card.locator("[data-no-route]").is_visible()
    _shot(page, "deadlines")
    _axe(page)


def test_target_offers_only_the_meetings_on_the_route(page):
    """付議先 follows 審議の経路: kinds not ticked cannot be chosen, and a choice the route
    lost is let go (申込 then asks for one)."""
    target = page.locator("#target_kind")
    assert target.input_value() == "policy_coordination"  # the usual route's last kind
    assert target.locator("option[value=policy_decision]").is_disabled()
    page.uncheck("input[name=route][value=policy_coordination]")
    assert target.input_value() == ""
    assert target.locator("option[value=policy_coordination]").is_disabled()
    page.check("input[name=route][value=policy_decision]")
    assert not target.locator("option[value=policy_decision]").is_disabled()
    target.select_option("policy_decision")
    assert target.input_value() == "policy_decision"


@pytest.mark.parametrize("who", ["jimukyoku"])
def test_the_secretariat_filing_for_another_section_gets_its_places(page, who):
    assert page.input_value("#section") == "情報政策課"
    assert page.input_value("#division") == "企画部"
    page.select_option("#section", "財政課")
    assert (page.input_value("#bureau"), page.input_value("#division")) == ("企画財政局", "財務部")
    page.fill("#division", "手で書いた部")
    page.select_option("#section", "情報政策課")
    assert page.input_value("#division") == "手で書いた部"  # typed by hand: kept
    assert page.input_value("#bureau") == "企画財政局"
