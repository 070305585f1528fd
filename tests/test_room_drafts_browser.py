"""The meeting room in Debian's Chromium (issue 20): the sign-in runs out while opinions sit in
the form, drafts keep being saved without keeping it alive, and after 保存, signing in again
and coming back, the text is recorded in full. Also: another user's sign-in picks nothing up, a
draft comes back after leaving the page, 出席課 pasted at once, and the room on a phone (390 px)
and a tablet (820 px). Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.browser import SCREENSHOTS, axe_violations, describe, live_server
from tests.factories import PASSWORD, make_item, make_section, make_user
from tests.support import empty_all_tables, make_app
from workflow.extensions import db
from workflow.models import Meeting, RoomDraft, seed_meeting_kinds
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.slow

IDLE = 60


@pytest.fixture(scope="module")
def server(_schema: str) -> Iterator[dict]:
    app = make_app(
        _schema,
        WTF_CSRF_ENABLED=True,
        SERVER_NAME=None,
        SESSION_IDLE_MINUTES=IDLE,
        ROOM_DRAFT_DELAY_MS=300,  # a draft 0.3 s after typing stops (3 s in use)
    )
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        for name in ("企画課", "財政課", "情報政策課", "市民協働推進課"):
            make_section(name)
        secretariat = make_user(Role.SECRETARIAT, login="sec", display_name="事務局 一郎")
        make_user(Role.SECRETARIAT, login="sec2", display_name="事務局 二郎")
        department = make_user(Role.DEPARTMENT, section=make_section("都市計画課"))
        titles = []
        for _ in range(4):  # four meetings, one entry each: each test has its own
            item = make_item(ItemStatus.SCHEDULED, department=department, secretariat=secretariat)
            titles.append(item.title)
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Meeting.id).order_by(Meeting.id)))
    with live_server(app) as url:
        yield {"app": app, "url": url, "meetings": ids}


def sign_in(page, base: str, login: str) -> None:
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("main [type=submit]")


def opinions_of(app, meeting_id: int) -> list[str]:
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        return [o.opinion for o in meeting.entries[0].opinions]


def wait_for_draft(app, page, text: str) -> None:
    """Until the server holds a draft with *text* (drafts go a moment after typing stops)."""
    for _ in range(50):
        with app.app_context():
            if any(
                text in value
                for d in db.session.scalars(sa.select(RoomDraft))
                for _, value in d.data["fields"]
            ):
                return
        page.wait_for_timeout(100)
    raise AssertionError(f"no draft with {text!r}")


def draft_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(RoomDraft))


def test_text_typed_past_the_idle_limit_is_recorded_after_signing_in_again(server, browser):
    app, base, meeting_id = server["app"], server["url"], server["meetings"][0]
    room = f"{base}/meetings/{meeting_id}/room/1"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(room)
        sign_in(page, base, "sec")
        page.wait_for_url(room)
        opinion = page.locator("#opinions-0-opinion")
        first = "第一に、計画の進め方について関係課で確認したい。"
        opinion.fill(first)
        page.locator("#draft-status", has_text="下書きを保存しました").wait_for()

        # From here the idle limit is 6 seconds, counted from the last page request: typing
        # goes on for longer, drafts are saved as it goes, and the sign-in still runs out.
        app.config["SESSION_IDLE_MINUTES"] = 0.1
        second = "第二に、財源の見通しを示してほしい。"
        for char in second:
            opinion.press("End")
            opinion.type(char)
            page.wait_for_timeout(400)  # a draft after each character (0.3 s after typing)
        alert = page.locator("#room-alert")
        alert.wait_for(state="visible")
        assert "ログインの有効期限が切れた" in alert.inner_text()
        third = "第三に、市民への説明の時期を早めること。"
        opinion.press("End")
        opinion.type(third)
        page.locator("#room-form .form-actions.top [name=save]").click()
        page.wait_for_timeout(500)
        assert page.url == room  # nothing was posted: the text is still here
        assert opinion.input_value() == first + second + third
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "room-sign-in-expired.png"))
        assert opinions_of(app, meeting_id) == []

        # Signing in again (the short limit stays until the text is saved: each request of the
        # way back comes within it).
        page.locator("#room-alert a", has_text="ログインし直す").click()
        page.wait_for_url(lambda url: "/login?next=" in url)
        sign_in(page, base, "sec")
        page.wait_for_url(room)
        page.locator(".flash-success", has_text="議題1の記録を保存しました。").wait_for()
        app.config["SESSION_IDLE_MINUTES"] = IDLE
        assert opinions_of(app, meeting_id) == [first + second + third]
        assert page.locator("#opinions-0-opinion").input_value() == first + second + third
        assert draft_count(app) == 0
        page.goto(f"{base}/meetings/{meeting_id}/minutes")
        assert first + second + third in page.locator("main").inner_text()
    finally:
        app.config["SESSION_IDLE_MINUTES"] = IDLE
        context.close()


def test_another_users_sign_in_picks_nothing_up(server, browser):
    app, base, meeting_id = server["app"], server["url"], server["meetings"][1]
    room = f"{base}/meetings/{meeting_id}/room/1"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(room)
        sign_in(page, base, "sec")
        page.wait_for_url(room)
        app.config["SESSION_IDLE_MINUTES"] = 0.05  # 3 seconds
        page.wait_for_timeout(3500)
        page.locator("#opinions-0-opinion").fill("一郎さんだけの下書き")
        page.locator("#room-form .form-actions.top [name=save]").click()
        page.locator("#room-alert").wait_for(state="visible")
        page.locator("#room-alert a").click()
        page.wait_for_url(lambda url: "/login?next=" in url)
        sign_in(page, base, "sec2")  # someone else at the same browser
        page.wait_for_url(room)
        app.config["SESSION_IDLE_MINUTES"] = IDLE
        page.wait_for_timeout(500)
        assert page.locator("#opinions-0-opinion").input_value() == ""
        assert opinions_of(app, meeting_id) == []
        keys = page.evaluate("Object.keys(sessionStorage)")
        assert [k for k in keys if k.startswith("chogi.room.")] == []
    finally:
        app.config["SESSION_IDLE_MINUTES"] = IDLE
        context.close()


def test_leaving_the_page_keeps_a_draft_that_comes_back(server, browser):
    app, base, meeting_id = server["app"], server["url"], server["meetings"][2]
    room = f"{base}/meetings/{meeting_id}/room/1"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(room)
        sign_in(page, base, "sec")
        page.wait_for_url(room)
        page.locator("button[data-add-row=opinions]").click()  # a row without a reload
        assert page.url == room
        page.locator("#opinions-1-opinion").fill("二つ目の意見（追加した行）")
        page.locator("#opinions-0-opinion").fill("一つ目の意見")
        wait_for_draft(app, page, "一つ目の意見")
        wait_for_draft(app, page, "二つ目の意見（追加した行）")
        context.close()
        # Another browser (no stash of this tab): the server's draft comes back.
        other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        second = other.new_page()
        second.goto(room)
        sign_in(second, base, "sec")
        second.wait_for_url(room)
        assert "保存していない入力内容を復元しました。" in second.locator("main").inner_text()
        assert second.locator("#opinions-1-opinion").input_value() == "二つ目の意見（追加した行）"
        violations = axe_violations(second)
        assert not violations, describe(violations)
        second.locator("button", has_text="下書きを破棄").click()
        second.wait_for_url(room)
        assert second.locator("#opinions-0-opinion").input_value() == ""
        assert draft_count(app) == 0
        other.close()
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 820])
def test_the_room_on_a_phone_and_a_tablet(server, browser, width):
    base, meeting_id = server["url"], server["meetings"][3]
    room = f"{base}/meetings/{meeting_id}/room/1"
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="ja-JP")
    page = context.new_page()
    try:
        page.goto(room)
        sign_in(page, base, "sec")
        page.wait_for_url(room)
        page.fill("#attendance_paste", "企画課\n財政課（代）\n情報政策課\n市民協働推進課")
        page.locator("button[name=paste_attendance]").click()
        page.locator(".flash-success", has_text="出席課を4件追加しました。").wait_for()
        assert page.locator("#attendance-1-section").input_value() == "財政課"
        assert page.locator("#attendance-1-deputy").is_checked()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"room-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        # No button breaks its label over two lines.
        wrapped = page.evaluate(
            """() => Array.from(document.querySelectorAll('main .button, main button'))
                .filter(b => b.offsetParent !== null)
                .filter(b => {
                  const style = getComputedStyle(b);
                  const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
                  const inner = b.clientHeight - parseFloat(style.paddingTop)
                    - parseFloat(style.paddingBottom);
                  return inner > line * 1.5;
                }).map(b => b.textContent.trim())"""
        )
        assert wrapped == []
        violations = axe_violations(page)
        assert not violations, describe(violations)
    finally:
        context.close()
