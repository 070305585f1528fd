"""The item page and the chrome around it in Debian's Chromium, on a phone (390 px) and a tablet
(820 px): a return's reason above the fold; a compact header on the phone with ログアウト on one
line; disabled buttons that look disabled; the sticky save bar never covering the field focus
moves back to (WCAG 2.4.11); no axe-core finding of any impact. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import SCREENSHOTS, axe_violations, describe, live_server
from tests.factories import PASSWORD, make_item, make_section, make_user
from tests.support import empty_all_tables, make_app
from workflow.extensions import db
from workflow.models import seed_meeting_kinds
from workflow.services import items
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.slow

REASON = "概要に事業費の内訳がありません。財源の欄も書き足してください。"
HEIGHTS = {390: 844, 820: 1180}  # a phone's and a tablet's screen, portrait

# A full request, so the pages are as long as a real one.
FIELDS = {
    "summary": "市民向け窓口の予約を電子化し、待ち時間を減らす。\n" * 6,
    "discussion_points": ["予約システムの導入費用", "窓口職員の配置", "高齢者への配慮"],
    "history": [
        {"when": "R1.7.5", "meeting": "課内会議", "content": "方針の確認"},
        {"when": "R1.8.1", "meeting": "部内会議", "content": "同上"},
    ],
    "coordination": [
        {"department": "財政課", "content": "予算の調整", "status": "in_progress"},
        {"department": "情報政策課", "content": "システムの調整", "status": "done"},
    ],
    "bureau": "市民局",
    "division": "市民部",
    "contact": "窓口担当",
    "extension": "1234",
}


@pytest.fixture(scope="module")
def server(_schema: str) -> Iterator[tuple[str, dict]]:
    app = make_app(_schema, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        owner = make_user(Role.DEPARTMENT, login="owner", display_name="窓口 花子")
        secretariat = make_user(
            Role.SECRETARIAT,
            section=make_section("経営監理課"),
            login="jimu",
            display_name="庁議事務局（経営監理課）",
        )
        item = make_item(ItemStatus.SUBMITTED, department=owner, secretariat=secretariat, **FIELDS)
        items.return_item(secretariat, item, REASON)
        world = {"owner": owner.login, "secretariat": secretariat.login, "item": item.id}
        db.session.commit()
    with live_server(app) as url:
        yield url, world


def _signed_in(browser, base: str, login: str, width: int):
    context = browser.new_context(
        viewport={"width": width, "height": HEIGHTS[width]}, locale="ja-JP"
    )
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("main [type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"item-v2-{name}.png"))


@pytest.mark.parametrize("width", [390, 820])
def test_the_return_reason_is_above_the_fold(server, browser, width):
    base, world = server
    context, page = _signed_in(browser, base, world["owner"], width)
    try:
        page.goto(f"{base}/items/{world['item']}")
        _shot(page, f"returned-owner-{width}")
        reason = page.locator(".attention .callout", has_text="理由：")
        assert REASON in reason.inner_text()
        box = reason.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= HEIGHTS[width]  # seen without scrolling
        todo = page.locator(".attention", has_text="修正して、もう一度申し込んでください。")
        assert todo.count() == 1
        # The item's own path comes after the content and has no picture.
        assert page.locator("main svg").count() == 0
        assert page.locator(".item-path [aria-current=step]").inner_text().endswith("差戻し中")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        violations = axe_violations(page)
        assert not violations, describe(violations)
        page.goto(f"{base}/items/flow")
        _shot(page, f"flow-{width}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0  # the drawing scrolls in its own box
        violations = axe_violations(page)
        assert not violations, describe(violations)
    finally:
        context.close()


def test_the_header_is_compact_on_a_phone(server, browser):
    base, world = server
    context, page = _signed_in(browser, base, world["secretariat"], 390)
    try:
        header = page.locator(".site-header").bounding_box()
        assert header is not None
        assert header["height"] <= 0.15 * HEIGHTS[390], header
        assert page.locator(".user-box").is_hidden()
        _shot(page, "header-closed-390")
        page.click(".menu-toggle")
        assert page.locator(".menu-toggle").get_attribute("aria-expanded") == "true"
        logout = page.locator(".user-box button", has_text="ログアウト")
        assert logout.is_visible()
        one_line = page.evaluate(
            """() => {
                const b = [...document.querySelectorAll('.user-box button')]
                    .find(e => e.textContent.trim() === 'ログアウト');
                const range = document.createRange();
                range.selectNodeContents(b);
                const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                return tops.size;
            }"""
        )
        assert one_line == 1
        who = page.locator(".user-box .who").inner_text()
        assert who == "庁議事務局（経営監理課）"  # each name once
        assert page.locator(".main-nav a", has_text="受付").is_visible()
        _shot(page, "header-open-390")
        violations = axe_violations(page)
        assert not violations, describe(violations)
    finally:
        context.close()


def test_the_header_is_whole_on_a_tablet(server, browser):
    base, world = server
    context, page = _signed_in(browser, base, world["owner"], 820)
    try:
        assert page.locator(".menu-toggle").is_hidden()
        assert page.locator(".user-box button", has_text="ログアウト").is_visible()
        assert page.locator(".main-nav").is_visible()
        assert "窓口 花子（所管課職員・" in page.locator(".user-box .who").inner_text()
    finally:
        context.close()


def test_a_disabled_button_looks_disabled(server, browser):
    base, world = server
    context, page = _signed_in(browser, base, world["owner"], 820)
    try:
        page.goto(f"{base}/items/{world['item']}/edit")
        styles = page.evaluate(
            """() => {
                const look = e => { const s = getComputedStyle(e);
                    return {bg: s.backgroundColor, color: s.color, cursor: s.cursor,
                            opacity: s.opacity}; };
                const off = document.querySelector('.item-form button.button[disabled]');
                const on = [...document.querySelectorAll('.item-form button.button.small')]
                    .find(e => !e.disabled);
                return {off: look(off), on: look(on)};
            }"""
        )
        off, on = styles["off"], styles["on"]
        assert off["color"] != on["color"]
        assert off["bg"] != on["bg"]
        assert off["cursor"] == "not-allowed"
        grey = [int(x) for x in off["color"][4:-1].split(",")[:3]]
        assert max(grey) - min(grey) <= 12  # a grey, not the accent blue
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 820])
def test_tabbing_back_never_hides_focus_under_the_sticky_bar(server, browser, width):
    base, world = server
    context, page = _signed_in(browser, base, world["owner"], width)
    try:
        page.goto(f"{base}/items/{world['item']}/edit")
        page.evaluate(
            """() => {
                const form = document.querySelector('.item-form');
                const all = [...form.querySelectorAll('input:not([type=hidden]), select, '
                    + 'textarea, button, a[href]')].filter(e => !e.disabled);
                all[all.length - 1].focus();
            }"""
        )
        covered, stops = [], 0
        for _ in range(200):
            page.keyboard.press("Shift+Tab")
            state = page.evaluate(
                """() => {
                    const e = document.activeElement;
                    const form = document.querySelector('.item-form');
                    const bar = form.querySelector('.form-actions.top');
                    if (!form.contains(e) || bar.contains(e)) { return null; }
                    const r = e.getBoundingClientRect(), b = bar.getBoundingClientRect();
                    return {name: e.name || e.id || e.textContent.trim(), top: r.top,
                            bottom: r.bottom, barBottom: b.bottom, barTop: b.top};
                }"""
            )
            if state is None:
                break
            stops += 1
            if state["bottom"] > state["barTop"] and state["top"] < state["barBottom"] - 1:
                covered.append(state)
        assert stops >= 20, stops  # the walk went through the form
        assert covered == [], covered[:5]
    finally:
        context.close()
