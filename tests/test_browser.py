"""End to end in Debian's Chromium: the sample item from request to published minutes.

A department files the sample 様式２; the secretariat takes it through 関係課長会議,
事務事業調整会議 and 政策調整会議 recording the sample's opinions, confirms and publishes;
staff download the minutes; an anonymous visitor reads them under /public. axe-core (served
from disk) checks the main pages; screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import (
    SCREENSHOTS,
    axe_violations,
    describe,
    live_server,
)
from tests.factories import PASSWORD, make_section, make_user
from tests.support import empty_all_tables, make_app
from workflow.demo.sample import sample_form, sample_minutes
from workflow.extensions import db
from workflow.models import Item, Meeting, seed_meeting_kinds
from workflow.states.states import ItemStatus, MeetingStatus, Role

pytestmark = pytest.mark.slow

LOGINS = {"department": "joho", "secretariat": "jimukyoku", "viewer": "shokuin"}


@pytest.fixture(scope="module")
def server(_schema: str) -> Iterator[tuple[str, object]]:
    """The real app (CSRF on) on the test database, with one user per role."""
    app = make_app(_schema, WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        empty_all_tables()
        seed_meeting_kinds()
        section = make_section("情報政策課", bureau="企画財政局", division="企画部")
        make_user(Role.DEPARTMENT, section=section, login=LOGINS["department"])
        make_user(Role.SECRETARIAT, login=LOGINS["secretariat"])
        make_user(Role.VIEWER, login=LOGINS["viewer"])
        db.session.commit()
    with live_server(app) as url:
        yield url, app


class Session:
    """One person in their own browser context."""

    def __init__(self, browser, base: str, role: str | None, width: int = 1280) -> None:
        self.base = base
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True, locale="ja-JP"
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: pytest.fail(f"JavaScript error: {exc}"))
        # The Content Security Policy (workflow.security) must block nothing the pages use.
        self.csp_violations: list[str] = []
        self.page.on("console", self._console)
        if role:
            self.goto("/login")
            self.page.fill("#login", LOGINS[role])
            self.page.fill("#password", PASSWORD)
            self.page.click("main [type=submit]")
            self.page.wait_for_url(f"{base}/")

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(f"{self.page.url}: {message.text}")

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None
        assert response.status < 400, f"{path}: HTTP {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"]

    def click(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)

    def flash(self) -> str:
        return " ".join(self.page.locator(".flash").all_inner_texts())

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def check_axe(self, name: str) -> None:
        violations = axe_violations(self.page)
        assert not violations, f"axe on {name}:\n{describe(violations)}"

    def close(self) -> None:
        self.context.close()
        assert self.csp_violations == [], "\n".join(self.csp_violations)


def _rows(s: Session, list_name: str, count: int) -> None:
    """Press 「＋ 追加」 until the list has *count* rows (the form re-renders server-side; the
    meeting room's script adds the row in the page, data-add-row)."""
    while s.page.locator(f"[name^='{list_name}-'][name$='-{_first(list_name)}']").count() < count:
        button = f"button[name='add_{list_name}']"
        if s.page.locator(button).get_attribute("data-add-row"):
            s.page.click(button)
        else:
            s.click(button)


def _first(list_name: str) -> str:
    return {
        "history": "when",
        "coordination": "department",
        "details": "heading",
        "attendance": "section",
        "opinions": "opinion",
    }[list_name]


def _file_sample(s: Session) -> None:
    form = sample_form()
    s.goto("/items/new")
    s.shot("10-department-new-item")
    s.check_axe("様式２ form")
    page = s.page
    page.fill("[name=title]", form["title"])
    page.fill("[name=applied_on]", "令和元年10月8日")
    page.select_option("[name=target_kind]", form["target_kind"])
    for kind in form["route"]:
        page.check(f"input[name=route][value={kind}]")
    page.fill("[name=bureau]", form["bureau"])
    page.fill("[name=division]", form["division"])
    page.fill("[name=summary]", form["summary"])
    page.fill("[name=discussion_points-0]", form["discussion_points"][0])
    page.check("input[name=public_comment_planned][value=yes]")
    page.fill("[name=public_comment_period_text]", form["public_comment"]["period_text"])
    page.select_option("[name=council_channel]", form["council_report"]["channel"])
    page.fill("[name=council_timing]", form["council_report"]["timing"])
    # Rows: add them with the server-side buttons; what was typed above must survive.
    _rows(s, "history", len(form["history"]))
    _rows(s, "coordination", len(form["coordination"]))
    _rows(s, "details", len(form["details"]))
    assert page.input_value("[name=title]") == form["title"]
    assert page.input_value("[name=summary]") == form["summary"]
    for n, row in enumerate(form["history"]):
        for key in ("when", "meeting", "content"):
            page.fill(f"[name=history-{n}-{key}]", row[key])
    for n, row in enumerate(form["coordination"]):
        page.fill(f"[name=coordination-{n}-department]", row["department"])
        page.fill(f"[name=coordination-{n}-content]", row["content"])
        page.select_option(f"[name=coordination-{n}-status]", row["status"])
    for n, row in enumerate(form["details"]):
        page.fill(f"[name=details-{n}-heading]", row["heading"])
        page.fill(f"[name=details-{n}-body]", row["body"])
    s.shot("11-department-filled-form")
    s.click("button[name=save_and_submit]")
    # Saved; 申込 asks first, saying what will happen.
    assert "庁議事務局に申し込みます。" in page.locator("main").inner_text()
    s.check_axe("confirmation (申込)")
    s.click(".confirm-actions button:text-is('申し込む')")
    assert "申し込みました" in s.flash()
    s.shot("12-department-item-submitted")
    s.check_axe("item page")


def _hold_meeting(
    s: Session,
    *,
    kind: str,
    date: str,
    number: int | None,
    joint_name: str,
    presenter: str,
    record: dict,
    shot_prefix: str,
) -> None:
    page = s.page
    s.goto(f"/meetings/new?kind={kind}")
    page.fill("[name=date]", date)
    if number:
        page.fill("[name=number]", str(number))
    page.fill("[name=joint_name]", joint_name)
    s.click("form.narrow-form button[type=submit]")
    assert "登録しました" in s.flash()
    page.fill("input[name=presenter]", presenter)
    s.click("form.add-agenda button[type=submit]")
    assert "議題に加えました" in s.flash()
    s.shot(f"{shot_prefix}-agenda")
    s.click("a:has-text('会議室画面で記録')")
    attendance = record.get("attendance", [])
    if attendance:
        _rows(s, "attendance", len(attendance))
        for n, name in enumerate(attendance):
            page.fill(f"[name=attendance-{n}-section]", name)
    _rows(s, "opinions", len(record["opinions"]))
    for n, op in enumerate(record["opinions"]):
        page.fill(f"[name=opinions-{n}-opinion]", op["opinion"])
        page.fill(f"[name=opinions-{n}-response]", op.get("response") or "")
        page.fill(f"[name=opinions-{n}-follow_up]", op.get("follow_up") or "")
    page.fill("[name=special_notes]", record.get("special_notes") or "")
    page.select_option("[name=outcome]", record["outcome"])
    if record.get("forward_to"):
        # The 上部庁議 named (DOMAIN §8): the review on the way is not a choice here.
        page.select_option("[name=forward_to]", "policy_coordination")
    s.shot(f"{shot_prefix}-room")
    s.click("form.room-form .form-actions.top button[name=save_next]")
    assert "保存しました" in s.flash()
    # Each step asks first (issue 20): its confirmation page's button fires it.
    for label, button, done in (
        ("開催済にする", "開催済にする", "開催済にしました"),
        ("議事録の確定", "確定する", "議事録を確定しました"),
        ("公開", "公開する", "議事録を公開しました"),
    ):
        s.click(f"form.inline button:text-is('{label}')")
        s.click(f".confirm-actions button:text-is('{button}')")
        assert done in s.flash(), s.flash()
    s.shot(f"{shot_prefix}-published")


def test_sample_item_from_request_to_public_minutes(server, browser) -> None:
    base, app = server
    form = sample_form()
    minutes = sample_minutes()

    # -- the department files the sample 様式２ -----------------------------------------
    dept = Session(browser, base, "department")
    dept.shot("01-department-home")
    dept.check_axe("home (department)")
    _file_sample(dept)

    # -- the secretariat takes it in ----------------------------------------------------
    sec = Session(browser, base, "secretariat")
    sec.shot("02-secretariat-home")
    sec.check_axe("home (secretariat)")
    sec.goto("/items/intake")
    sec.shot("20-secretariat-intake")
    sec.check_axe("intake")
    sec.click("button:text-is('受け付ける')")
    sec.check_axe("confirmation (受付)")
    sec.click(".confirm-actions button:text-is('受け付ける')")
    assert "受け付けました" in sec.flash()

    # -- three meetings, as the sample recorded them --------------------------------------
    sm = form["section_managers_meeting"]
    _hold_meeting(
        sec,
        kind="section_managers",
        date="R1.8.21",
        number=2,
        joint_name="ＩＣＴ戦略調整会議",
        presenter=sm["presenter"],
        record={**sm, "special_notes": "なし"},
        shot_prefix="30-section-managers",
    )
    ac = form["affairs_coordination_meeting"]
    _hold_meeting(
        sec,
        kind="affairs_coordination",
        date="2019-10-04",
        number=None,
        joint_name="",
        presenter=ac["presenter"],
        record={**ac, "special_notes": "なし"},
        shot_prefix="40-affairs-coordination",
    )
    entry = minutes["entries"][0]
    _hold_meeting(
        sec,
        kind="policy_coordination",
        date="令和元年10月11日",
        number=minutes["number"],
        joint_name="",
        presenter=entry["presenter"],
        record=entry,
        shot_prefix="50-policy-coordination",
    )
    sec.check_axe("meeting page")

    with app.app_context():
        item = db.session.scalar(db.select(Item))
        assert item.status == ItemStatus.AMENDING
        meetings = db.session.scalars(db.select(Meeting).order_by(Meeting.date)).all()
        assert [m.status for m in meetings] == [MeetingStatus.PUBLISHED] * 3
        assert meetings[-1].title == "第５回 政策調整会議"
        opinions = [o.opinion for o in meetings[-1].entries[0].opinions]
        assert opinions == [o["opinion"] for o in entry["opinions"]]
        item_id, pc_id = item.id, meetings[-1].id

    sec.goto(f"/meetings/{pc_id}/room/1")
    sec.shot("51-meeting-room-frozen")
    sec.goto("/meetings/")
    sec.shot("60-meetings-list")
    sec.check_axe("meetings list")

    # -- the department answers 一部修正承認 with its amendment ---------------------------
    dept.goto(f"/items/{item_id}")
    dept.click("a:text-is('修正する')")
    dept.click(".form-actions.top button[name=save_and_submit]")
    assert "修正版を提出しました" in dept.flash()
    dept.shot("13-department-item-approved")
    dept.close()

    # -- the secretariat's meeting room on a tablet ---------------------------------------
    tablet = Session(browser, base, "secretariat", width=820)
    tablet.goto(f"/meetings/{pc_id}/room/1")
    tablet.shot("52-meeting-room-tablet")
    tablet.check_axe("meeting room")
    tablet.close()

    # -- the secretariat confirms the amendment (修正確認中 → 承認済) -------------------------
    sec.goto(f"/items/{item_id}")
    assert "修正確認中" in sec.page.inner_text("main")
    sec.click("button:text-is('修正の確認')")
    assert "修正を確認しました" in sec.flash()
    assert "承認済" in sec.page.inner_text("main")
    sec.close()

    # -- staff read the minutes and download the PDF ---------------------------------------
    staff = Session(browser, base, "viewer")
    staff.goto("/items/")
    staff.shot("70-viewer-items")
    staff.check_axe("items list")
    staff.goto(f"/items/{item_id}")
    staff.shot("71-viewer-item-timeline")
    assert staff.page.locator("form[action*='/events/']").count() == 0  # no buttons to press
    staff.goto(f"/meetings/{pc_id}/minutes")
    staff.shot("72-viewer-minutes")
    staff.check_axe("minutes page")
    with staff.page.expect_download() as download:
        staff.page.click("a:has-text('PDFをダウンロード')")
    pdf = download.value
    assert pdf.suggested_filename.endswith(".pdf")
    assert Path(pdf.path()).read_bytes().startswith(b"%PDF")
    staff.close()

    # -- the public reads them, without logging in --------------------------------------------
    visitor = Session(browser, base, None)
    visitor.goto("/public/")
    visitor.shot("80-public-index")
    visitor.check_axe("public index")
    visitor.click("a:has-text('第５回 政策調整会議')")
    text = visitor.page.inner_text("main")
    assert entry["opinions"][0]["opinion"] in text
    assert "原案を一部修正し承認する。" in text
    visitor.shot("81-public-minutes")
    visitor.check_axe("public minutes")
    with visitor.page.expect_download() as download:
        visitor.page.click("a:has-text('議事録PDFをダウンロード')")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    visitor.click("main a:has-text('相模原市ＩＣＴ総合戦略の策定について')")
    visitor.shot("82-public-item")
    visitor.check_axe("public item")
    visitor.goto(f"/meetings/{pc_id}")
    assert "/login" in visitor.page.url  # staff pages stay closed
    visitor.close()
