"""「対応が必要なもの」 on the home page in Debian's Chromium, on a phone (390 px) and a desk
(1280 px): first on the page, a return's reason in full on its lines, nothing wider than the
screen, no axe-core finding of any impact. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import SCREENSHOTS, axe_violations, describe, live_server
from tests.factories import PASSWORD
from tests.support import empty_all_tables, make_app
from tests.tasks_world import REASON, TODAY, build_world
from workflow.extensions import db
from workflow.models import seed_meeting_kinds
from workflow.services import public_comment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(_schema: str) -> Iterator[tuple[str, dict]]:
    app = make_app(_schema, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    patch = pytest.MonkeyPatch()
    patch.setattr(public_comment, "today", lambda: TODAY)
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        world = build_world()
        logins = {who: world[who].login for who in ("own", "sec", "viewer")}
        db.session.commit()
    with live_server(app) as url:
        yield url, logins
    patch.undo()


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("who", ["own", "sec", "viewer"])
def test_the_task_list_reads_well_on_a_phone_and_a_desk(server, browser, who, width):
    base, logins = server
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        page.fill("#login", logins[who])
        page.fill("#password", PASSWORD)
        page.click("main [type=submit]")
        page.wait_for_url(f"{base}/")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"tasks-{who}-{width}.png"))

        first = page.locator("main section").first
        assert first.locator("h2").inner_text().startswith("対応が必要なもの")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        if who == "own":
            reason = first.locator(".task-returned .task-message", has_text="差戻しの理由")
            assert REASON in reason.inner_text()  # the line breaks kept
            box = reason.bounding_box()
            assert box is not None
            assert box["height"] > 3 * 16  # several lines, not one
        if who == "viewer":
            assert "対応が必要なものはありません。" in first.inner_text()
        violations = axe_violations(page)
        assert not violations, describe(violations)
    finally:
        context.close()
