"""Issue 20 in Debian's Chromium on a phone (390 px): a clerk submits through the confirmation
page; the secretariat edits a planned meeting and cancels it with a reason. Each page fits the
screen and has no axe-core finding of any impact. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import SCREENSHOTS, axe_violations, describe, live_server
from tests.factories import PASSWORD, item_meeting_id, make_item, make_section, make_user
from tests.support import empty_all_tables, make_app
from workflow.extensions import db
from workflow.models import Item, Meeting, seed_meeting_kinds
from workflow.states.states import ItemStatus, MeetingStatus, Role

pytestmark = pytest.mark.slow

REASON = "市長の公務が入ったため"


@pytest.fixture(scope="module")
def server(_schema: str) -> Iterator[tuple[str, object, dict]]:
    """The real app (CSRF on): a clerk with a draft, the secretariat with a planned meeting whose
    agenda has an item of the clerk's section."""
    app = make_app(_schema, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        section = make_section("情報政策課", bureau="企画財政局", division="企画部")
        clerk = make_user(Role.DEPARTMENT, section=section, login="joho")
        secretariat = make_user(Role.SECRETARIAT, login="jimukyoku")
        draft = make_item(
            ItemStatus.DRAFT, department=clerk, secretariat=secretariat, title="窓口の電子申請"
        )
        scheduled = make_item(
            ItemStatus.SCHEDULED,
            department=clerk,
            secretariat=secretariat,
            title="庁内ネットワークの更新",
        )
        approved = make_item(ItemStatus.APPROVED, department=clerk, secretariat=secretariat)
        world = {
            "draft": draft.id,
            "scheduled": scheduled.id,
            "meeting": item_meeting_id(scheduled),
            "decided": item_meeting_id(approved),  # planned, its one entry decided
        }
        db.session.commit()
    with live_server(app) as url:
        yield url, app, world


class Phone:
    """One person on a 390 px screen."""

    def __init__(self, browser, base: str, login: str) -> None:
        self.base = base
        self.context = browser.new_context(
            viewport={"width": 390, "height": 844}, locale="ja-JP", is_mobile=True
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: pytest.fail(f"JavaScript error: {exc}"))
        self.page.goto(f"{base}/login")
        self.page.fill("#login", login)
        self.page.fill("#password", PASSWORD)
        self.page.click("main [type=submit]")
        self.page.wait_for_url(f"{base}/")

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None
        assert response.status < 400, f"{path}: HTTP {response.status}"

    def click(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def flash(self) -> str:
        return " ".join(self.page.locator(".flash").all_inner_texts())

    def check(self, name: str) -> None:
        """Fits 390 px, no axe finding; a screenshot for the record."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"issue20-{name}-390.png"), full_page=True)
        overflow = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: {overflow}px wider than the screen"
        violations = axe_violations(self.page)
        assert not violations, f"axe on {name}:\n{describe(violations)}"

    def close(self) -> None:
        self.context.close()


def test_a_clerk_submits_through_the_confirmation_page(server, browser):
    base, app, world = server
    clerk = Phone(browser, base, "joho")
    try:
        clerk.goto(f"/items/{world['draft']}")
        clerk.click(".attention form.inline button:text-is('申込')")
        page = clerk.page
        assert "/events/submit" in page.url
        text = page.locator("main").inner_text()
        assert "庁議事務局に申し込みます。申し込んだ後は、差し戻されるまで編集できません。" in text
        clerk.check("confirm-submit")
        with app.app_context():  # nothing happened yet
            assert db.session.get(Item, world["draft"]).status == ItemStatus.DRAFT
        # 「戻る」 goes back without a change.
        clerk.click(".confirm-actions a:text-is('戻る')")
        assert page.url.endswith(f"/items/{world['draft']}")
        clerk.click(".attention form.inline button:text-is('申込')")
        button = page.locator(".confirm-actions button:text-is('申し込む')")
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= 24  # a target a thumb can press (WCAG 2.5.8)
        clerk.click(".confirm-actions button:text-is('申し込む')")
        assert "申し込みました。庁議事務局が内容を確認します。" in clerk.flash()
        with app.app_context():
            assert db.session.get(Item, world["draft"]).status == ItemStatus.SUBMITTED
    finally:
        clerk.close()


def test_the_secretariat_edits_and_cancels_a_meeting(server, browser):
    base, app, world = server
    sec = Phone(browser, base, "jimukyoku")
    meeting_id = world["meeting"]
    try:
        sec.goto(f"/meetings/{meeting_id}")
        sec.click("a:text-is('会議を変更する')")
        sec.check("meeting-edit")
        sec.page.fill("[name=venue]", "本庁舎５階 第一会議室")
        sec.page.fill("[name=start_time]", "10:00")
        sec.click("form.narrow-form button:text-is('変更を保存する')")
        assert "を変更しました" in sec.flash()
        assert "本庁舎５階 第一会議室" in sec.page.locator("main").inner_text()

        sec.click("a:text-is('会議を中止する')")
        text = sec.page.locator("main").inner_text()
        assert "付議待ちに戻ります" in text
        assert "庁内ネットワークの更新" in text
        sec.check("meeting-cancel")
        # Without a reason: said beside the field, nothing changed.
        sec.click(".confirm-actions button:text-is('中止する')")
        assert "中止の理由を入力してください。" in sec.page.locator("main").inner_text()
        sec.check("meeting-cancel-error")
        with app.app_context():
            assert db.session.get(Meeting, meeting_id).status == MeetingStatus.PLANNED
        sec.page.fill("[name=reason]", REASON)
        sec.click(".confirm-actions button:text-is('中止する')")
        assert "中止にしました" in sec.flash()
        assert REASON in sec.page.locator("main").inner_text()
        with app.app_context():
            assert db.session.get(Meeting, meeting_id).status == MeetingStatus.CANCELLED
            assert db.session.get(Item, world["scheduled"]).status == ItemStatus.ACCEPTED
        sec.goto("/meetings/")
        row = sec.page.locator("table.meetings tr", has_text=REASON)
        assert "中止" in row.inner_text()
        sec.check("meeting-list-cancelled")

        # A cancelled meeting is not held: refused before any confirmation page.
        sec.goto(f"/meetings/{meeting_id}/events/hold")
        assert "中止されたため" in sec.flash()

        # A meeting step's confirmation page fits the phone too.
        sec.goto(f"/meetings/{world['decided']}")
        sec.click("form.inline button:text-is('開催済にする')")
        assert "議事録を確定できるようになります" in sec.page.locator("main").inner_text()
        sec.check("confirm-hold")
        sec.click(".confirm-actions button:text-is('開催済にする')")
        assert "開催済にしました。" in sec.flash()
    finally:
        sec.close()
