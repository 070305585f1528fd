"""Issue 20: every page with a form that can be refused shows all its messages at once in an
error summary at the top (templates/macros/forms.html ``error_summary``), each message a link to
its field, the typed values kept, answering 422 (not a flash and a redirect)."""

from __future__ import annotations

import re

import pytest

from tests.disclosure_scene import build_scene
from tests.factories import PASSWORD
from tests.support import build_world, client_for, login
from workflow.extensions import db
from workflow.models import AgendaEntry, User
from workflow.schemas.limits import REASON_MAX

LONG_REASON = "理" * (REASON_MAX + 1)


def _summary(html: str) -> str:
    start = html.index("data-error-summary")
    return html[start : html.index("</div>", start)]


def check_summary(
    response, *, links: list[str], kept: list[str] = (), top: str = "<h1", status: int = 422
) -> str:
    """422, the summary before *top*, each of *links* (field ids) linked from it to an element of
    the page with that id, every link of it leading somewhere, *kept* still in the page."""
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert html.count("data-error-summary") == 1
    assert html.index("data-error-summary") < html.index(top)
    summary = _summary(html)
    hrefs = re.findall(r'href="#([^"]+)"', summary)
    assert hrefs, summary
    for wanted in links:
        assert wanted in hrefs, (wanted, summary)
    for target in hrefs:
        assert f'id="{target}"' in html, target
    assert "赤字の項目" not in html
    for text in kept:
        assert text in html, text
    return html


@pytest.fixture
def world(app):
    w = build_world()
    db.session.commit()
    return w


# (who, url, data, field ids the summary links to, texts the page still shows)
CASES = [
    (
        "secretariat",
        "/meetings/new",
        {"kind": "section_managers", "date": "あした", "venue": "第二会議室"},
        ["date"],
        ['value="第二会議室"', 'value="あした"'],
    ),
    (
        "secretariat",
        "/meetings/{planned}/edit",
        {"date": "あした", "venue": "第二会議室", "chair": "副市長"},
        ["date"],
        ['value="第二会議室"', 'value="副市長"'],
    ),
    (
        "secretariat",
        "/meetings/{planned}/cancel",
        {"reason": LONG_REASON},
        ["reason"],
        [LONG_REASON],
    ),
    ("secretariat", "/meetings/{planned}/cancel", {"reason": ""}, ["reason"], []),  # the service's
    (
        "admin",
        "/admin/users/new",
        {"login": "", "display_name": "山田花子", "role": "viewer", "email": "yamada@example.jp"},
        ["login"],
        ['value="山田花子"', 'value="yamada@example.jp"'],
    ),
    (
        "admin",
        "/admin/users/{viewer_id}",
        {"display_name": "", "email": "hanako@example.jp", "role": "viewer", "section": ""},
        ["display_name"],
        ['value="hanako@example.jp"'],
    ),
    (
        "admin",
        "/admin/sections",
        {"name": "", "bureau": "総務局", "division": "総務部"},
        ["name"],
        ['value="総務局"', 'value="総務部"'],
    ),
    ("admin", "/admin/sections/{section}/rename", {"rename-name": ""}, ["rename-name"], []),
    (
        "admin",
        "/admin/sections/{section}/move",
        {"move-bureau": "局" * 300, "move-division": "企画部"},
        ["move-bureau"],
        ['value="企画部"'],
    ),
    (
        "admin",
        "/admin/meeting-kinds",
        {"code": "", "name": "臨時会議", "level": "9", "sort_order": "9", "deadline_days": "5"},
        ["code"],
        ['value="臨時会議"'],
    ),
    (
        "admin",
        "/admin/meeting-kinds/section_managers",
        {"name": "", "level": "1", "sort_order": "1", "deadline_days": "5"},
        ["name"],
        [],
    ),
    (
        "admin",
        "/admin/closed-days",
        {"day": "あした", "name": "市制記念日"},
        ["day"],
        ['value="市制記念日"', 'value="あした"'],
    ),
    (
        "admin",
        "/admin/meetings/{planned}/deadline",
        {"submission_deadline": "あした"},
        ["submission_deadline"],
        ['value="あした"'],
    ),
    ("admin", "/admin/imports/", {}, ["file"], []),
    (
        "own",
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short", "new_password_again": "other"},
        ["new_password"],
        [],
    ),
    (
        "secretariat",
        "/public-comments/{approved_pc}/open",
        {"published_on": "あした", "closes_on": "R2.2.4", "how_to_submit": "窓口で受け付けます"},
        ["published_on"],
        ["窓口で受け付けます", 'value="R2.2.4"'],
    ),
    (
        "secretariat",
        "/public-comments/{in_pc}/opinions",
        {"summary": "", "submitter_kind": "市民"},
        ["summary"],
        ['value="市民"'],
    ),
]


@pytest.mark.parametrize(
    ("who", "url", "data", "links", "kept"),
    CASES,
    ids=[
        "meeting-new",
        "meeting-edit",
        "meeting-cancel-long",
        "meeting-cancel-empty",
        "user-new",
        "user-edit",
        "section-new",
        "section-rename",
        "section-move",
        "kind-new",
        "kind-edit",
        "closed-day",
        "meeting-deadline",
        "import-upload",
        "password",
        "comment-open",
        "comment-opinion",
    ],
)
def test_a_refused_form_shows_every_message_at_the_top(app, world, who, url, data, links, kept):
    ids = {
        **{k: v for k, v in world.items() if isinstance(v, int)},
        "viewer_id": world["users"]["viewer"].id,
        "section": db.session.get(User, world["users"]["own"].id).section_id,
    }
    client = client_for(app, world, who)
    response = client.post(url.format(**ids), data=data)
    check_summary(response, links=links, kept=kept)


def test_a_name_already_taken_is_in_the_summary_beside_its_field(app, world):
    client = client_for(app, world, "admin")
    response = client.post("/admin/sections", data={"name": "情報政策課", "bureau": "総務局"})
    html = check_summary(response, links=["name"], kept=['value="総務局"'], status=409)
    assert 'class="flash flash-error"' not in html  # said once, in the summary


def test_a_meeting_not_planned_says_why_in_words(app, world):
    client = client_for(app, world, "secretariat")
    response = client.get(f"/meetings/{world['published']}/edit", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "議事録が公開されているため、変更も中止もできません。" in html
    assert "「" + "公開" not in html.split("変更も中止も")[0][-20:]


def test_the_rooms_disclosure_form_has_its_summary_too(app):
    scene = build_scene(publish=False)
    client = login(app.test_client(), scene.secretariat)
    n = 1 + next(i for i, e in enumerate(scene.meeting.entries) if e.item_id == scene.open_item.id)
    entry_id = scene.meeting.entries[n - 1].id
    before = db.session.get(AgendaEntry, entry_id).disclosure
    url = f"/meetings/{scene.meeting.id}/room/{n}/disclosure"
    response = client.post(url, data={"pub-disclosure": "closed", "pub-disclosure_reason": ""})
    html = check_summary(response, links=["pub-disclosure_reason"], top='id="disclosure"')
    assert "理由" in _summary(html)
    db.session.expire_all()
    assert db.session.get(AgendaEntry, entry_id).disclosure == before


def test_a_service_refusal_lands_beside_its_field(app, world):
    """ValidationFailed.fields from the service (a call that closes before it opens) go beside
    their fields and into the summary, in 和暦."""
    client = client_for(app, world, "secretariat")
    response = client.post(
        f"/public-comments/{world['approved_pc']}/open",
        data={"published_on": "R2.2.4", "closes_on": "R2.1.6", "how_to_submit": "窓口"},
    )
    html = check_summary(response, links=["closes_on"], kept=['value="R2.1.6"'])
    assert not re.search(r"\d{4}-\d{2}-\d{2}", _summary(html))


def test_a_refused_answer_to_an_opinion_comes_back_with_what_was_typed(app, world):
    """市の考え方 too long: the page again (not a redirect), the summary linking to the
    opinion's own box, the text and the chosen 対応区分 kept."""
    client = client_for(app, world, "secretariat")
    too_long = "考" * 20_001
    response = client.post(
        f"/public-comments/{world['answering']}/opinions/1",
        data={"city_view": too_long, "handling": "revise"},
    )
    html = check_summary(response, links=["view-1"], kept=[too_long])
    assert '<option value="revise" selected>' in html
    assert 'id="view-1-error"' in html
