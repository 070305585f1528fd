"""The admin's screens in Debian's Chromium, on a phone (390 px) and a desktop (1280 px): no page
is wider than the screen (a wide table scrolls in its own box), and axe-core finds
nothing. Screenshots go to test-artifacts/screenshots/admin-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tests.browser import (
    SCREENSHOTS,
    axe_violations,
    describe,
    live_server,
)
from tests.factories import PASSWORD, make_section, make_user
from tests.support import empty_all_tables, make_app
from workflow.extensions import db
from workflow.models import seed_meeting_kinds
from workflow.services import admin, meetings
from workflow.states.states import Role

pytestmark = pytest.mark.slow

PAGES = {
    "home": "/admin/",
    "users": "/admin/users",
    "new-user": "/admin/users/new",
    "user": "/admin/users/{user}",
    "sections": "/admin/sections",
    "section": "/admin/sections/{section}",
    "meeting-kinds": "/admin/meeting-kinds",
    "meeting-kind": "/admin/meeting-kinds/section_managers",
    "audit": "/admin/audit",
    # -- issue 19: deadlines --
    "closed-days": "/admin/closed-days",
    "meeting-deadline": "/admin/meetings/{meeting}/deadline",
    # 「CSVファイルの書き方」 opened (as every details below): its example scrolls in its box.
    "imports": "/admin/imports/",
}


@pytest.fixture(scope="module")
def server(_schema: str) -> Iterator[tuple[str, dict]]:
    """The real app (CSRF on) with an admin, a user with a token and some admin changes."""
    app = make_app(_schema, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        me = make_user(Role.ADMIN, login="kanri", display_name="システム管理者")
        section = admin.create_section(
            me, "web", name="情報政策課", bureau="企画財政局", division="企画部"
        )
        user = admin.create_user(
            me,
            "web",
            login="tanaka.taro@city.example.jp",
            display_name="田中太郎",
            role=Role.DEPARTMENT,
            section=section,
            email="tanaka.taro@city.example.jp",
        )
        admin.issue_token(me, "web", user, name="議事録取込スクリプト（毎晩）", days=30)
        admin.update_user(me, "web", user, display_name="田中　太郎（企画財政局情報政策課）")
        make_section("財政課")
        # -- issue 19: deadlines --
        admin.add_closed_day(me, "web", day=date(2026, 6, 1), name="市制記念日")
        secretariat = make_user(Role.SECRETARIAT, login="jimukyoku")
        meeting = meetings.create_meeting(
            secretariat, kind="section_managers", date_=date(2026, 5, 7)
        )
        db.session.commit()
        ids = {"user": user.id, "section": section.id, "meeting": meeting.id}
    with live_server(app) as url:
        yield url, ids


@pytest.mark.parametrize("width", [390, 1280])
def test_admin_pages_fit_the_screen_and_pass_axe(server, browser, width):
    base, ids = server
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#login", "kanri")
    page.fill("#password", PASSWORD)
    page.click("main [type=submit]")
    page.wait_for_url(f"{base}/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for name, path in PAGES.items():
        page.goto(base + path.format(**ids))
        page.wait_for_load_state()
        # Open every 「…」 box, so the forms inside them are measured too.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.screenshot(path=str(SCREENSHOTS / f"admin-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.append(f"{path}: {overflow}px wider than the screen")
        if violations := axe_violations(page):
            problems.append(f"{path}: {describe(violations)}")
    # The temporary password, shown once after 「パスワードをリセット」 (CSRF on: a real form).
    page.goto(base + PAGES["user"].format(**ids))
    page.click("button:has-text('パスワードをリセット')")
    page.wait_for_selector("code.secret")
    page.screenshot(path=str(SCREENSHOTS / f"admin-secret-{width}.png"), full_page=True)
    if page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"):
        problems.append("the temporary password's page is wider than the screen")
    context.close()
    assert problems == []
