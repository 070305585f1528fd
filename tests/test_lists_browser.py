"""The lists in Debian's Chromium on a phone (390 px, and 700 px held sideways), a tablet
(820 px) and a desk (1280 px): no page is wider than the screen, each row's title reads across
the card on a phone (not 2–3 characters a line), a list table keeps its header row and readable
columns on a tablet and a desk, and axe-core finds nothing. Screenshots go to
test-artifacts/screenshots/lists-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest

from tests.browser import SCREENSHOTS, axe_violations, describe, live_server
from tests.factories import PASSWORD, make_item, make_item_published_then_held
from tests.support import empty_all_tables, make_app
from tests.tasks_world import TODAY, build_world
from workflow.extensions import db
from workflow.models import seed_meeting_kinds
from workflow.services import public_comment
from workflow.states.states import ItemStatus

pytestmark = pytest.mark.slow

# A title as long as the city writes them: the case that a squeezed column wraps worst.
LONG_TITLE = "市立小中学校施設の長寿命化改修事業に係る基本計画の策定及び関係条例の一部改正について"

# (name, path, who signs in (None: the public), each row's title: its line, as a block)
PAGES = [
    ("items", "/items/?q=", "sec", "table.cards td.card-title"),
    ("items-own", "/items/?mine=1", "own", "table.cards td.card-title"),
    ("intake", "/items/intake", "sec", ".intake h2"),
    ("meetings", "/meetings/", "sec", "table.cards td.card-title"),
    ("notices", "/notices/", "own", ".notice .notice-head"),
    ("comments", "/public-comments/", "sec", "table.cards td.card-title"),
    ("search", "/search?q=長寿命化", "sec", ".search-results h3"),
    ("public-index", "/public/", None, ".entries li"),
    ("public-comments", "/public/comments/", None, ".entries li"),
    ("public-search", "/search?q=案件", None, ".search-results h3"),
]


@pytest.fixture(scope="module")
def server(_schema: str) -> Iterator[tuple[str, dict]]:
    """The real app (CSRF on) over the world of 「対応が必要なもの」, a published meeting, and
    long-titled items in several states."""
    app = make_app(_schema, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    patch = pytest.MonkeyPatch()
    patch.setattr(public_comment, "today", lambda: TODAY)
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        world = build_world()
        make_item_published_then_held(world["sec"], world["own"])
        for status in (ItemStatus.SUBMITTED, ItemStatus.SCHEDULED, ItemStatus.DRAFT):
            make_item(
                status,
                department=world["own"],
                secretariat=world["sec"],
                title=LONG_TITLE,
                applied_on=date(2019, 7, 1),
            )
        logins = {who: world[who].login for who in ("own", "sec")}
        db.session.commit()
    with live_server(app) as url:
        yield url, logins
    patch.undo()


# The fewest characters a line in any cell that wraps: its text's length over its lines.
CHARACTERS_A_LINE = """s => Math.min(99, ...[...document.querySelectorAll(s)].map(cell => {
  const tops = [], walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0) tops.push(r.top);
  }
  tops.sort((a, b) => a - b);
  const lines = tops.filter((top, i) => i === 0 || top - tops[i - 1] > 8).length;
  return lines > 1 ? cell.innerText.trim().length / lines : 99;
}))"""


def _signed_in(browser, base: str, who: str | None, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="ja-JP")
    page = context.new_page()
    if who is not None:
        page.goto(f"{base}/login")
        page.fill("#login", who)
        page.fill("#password", PASSWORD)
        page.click("main [type=submit]")
        page.wait_for_url(f"{base}/")
    return context, page


def _widths(page, selector: str) -> list[float]:
    return page.evaluate(
        "s => [...document.querySelectorAll(s)].map(e => e.getBoundingClientRect().width)",
        selector,
    )


@pytest.mark.parametrize("width", [390, 700, 820, 1280])
@pytest.mark.parametrize("who", ["sec", "own", None])
def test_lists_fit_the_screen_read_well_and_pass_axe(server, browser, who, width):
    base, logins = server
    context, page = _signed_in(browser, base, logins.get(who), width)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    try:
        for name, path, reader, title in PAGES:
            if reader != who:
                continue
            page.goto(base + path)
            page.wait_for_load_state()
            page.screenshot(path=str(SCREENSHOTS / f"lists-{name}-{width}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                problems.append(f"{path}: {overflow}px wider than the screen")
            widths = _widths(page, title)
            if not widths:
                problems.append(f"{path}: no row found ({title})")
            if width == 390:
                # Each title has a line of its own across the card (the card's padding aside).
                if narrow := [w for w in widths if w < 0.7 * width]:
                    problems.append(f"{path}: titles squeezed to {min(narrow):.0f}px")
                # A long title wraps across that whole line, not in a narrow column.
                links = page.locator(f"{title} a", has_text=LONG_TITLE)
                for n in range(links.count()):
                    box = links.nth(n).bounding_box()
                    if box is not None and box["width"] < 0.7 * width:
                        problems.append(f"{path}: a long title is {box['width']:.0f}px wide")
            elif "table.cards" in title and width >= 768:
                # A tablet and a desk: a table, its header row shown, each title a readable width.
                heads = page.locator("table.cards thead")
                header = heads.first.bounding_box() if heads.count() else None
                if header is None or header["height"] < 10:
                    problems.append(f"{path}: no header row at {width}px")
                if min(widths, default=0) < 150:
                    problems.append(f"{path}: a title column {min(widths):.0f}px wide")
                # No column squeezed to two or three characters a line (a section's name).
                if (fewest := page.evaluate(CHARACTERS_A_LINE, "table.cards td")) < 4:
                    problems.append(f"{path}: a cell of {fewest} characters a line")
            if violations := axe_violations(page):
                problems.append(f"{path}: {describe(violations)}")
    finally:
        context.close()
    assert problems == []


def test_on_a_phone_each_cell_is_named_by_its_column(server, browser):
    """A card says what each value is (「状態：」, 「開催日：」), as the table's header did."""
    base, logins = server
    context, page = _signed_in(browser, base, logins["sec"], 390)
    try:
        for path, label in (("/items/?q=", "所管課"), ("/meetings/", "開催日")):
            page.goto(base + path)
            before = page.evaluate(
                "l => getComputedStyle(document.querySelector(`td[data-label='${l}']`),"
                " '::before').content",
                label,
            )
            assert before == f'"{label}："', path
            # Still a table to a screen reader, each cell named with its column's name.
            tree = page.locator("table.cards").first.aria_snapshot()
            assert "columnheader" in tree, path
            assert re.search(rf'cell "{label}：[^"]+"', tree), path
            assert not page.locator("table.cards thead").first.is_visible() or (
                page.locator("table.cards thead").first.bounding_box()["height"] <= 1
            )
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + "/items/?q=")
        assert page.evaluate(
            "getComputedStyle(document.querySelector('td[data-label]'), '::before').content"
        ) in ("none", "normal")
    finally:
        context.close()
