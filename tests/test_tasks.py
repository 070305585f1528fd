"""「対応が必要なもの」 (workflow.queries.tasks, GET /api/v1/me/tasks, the home page): each role's
list matches its definition, a task ends when what it asks is done, and a department never sees
another section's item."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from tests.factories import make_item, make_meeting, make_user
from tests.support import auth, counting, login
from tests.tasks_world import AMEND_REASON, REASON, TODAY, build_world, decide, scheduled
from workflow.extensions import db
from workflow.queries.tasks import tasks_for
from workflow.services import items, meetings, public_comment
from workflow.states.states import ItemStatus, Role


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(public_comment, "today", lambda: TODAY)
    return TODAY


def kinds(user) -> set[tuple[str, int]]:
    return {(t.kind, t.item_id or t.meeting_id) for t in tasks_for(user)}


def by_id(user, subject_id: int, kind: str):
    [task] = [
        t for t in tasks_for(user) if t.kind == kind and subject_id in (t.item_id, t.meeting_id)
    ]
    return task


@pytest.fixture
def world(app, today):
    return build_world()


@pytest.mark.parametrize("who", ["own", "other", "sec", "viewer", "admin"])
def test_each_roles_list_matches_its_definition(world, who):
    assert kinds(world[who]) == world["expected"][who]


def test_a_department_never_sees_another_sections_item(world):
    other_ids = {world["other_draft"].id, world["other_returned"].id}
    assert not other_ids & {t.item_id for t in tasks_for(world["own"])}
    own_ids = {t.item_id for t in tasks_for(world["own"])}
    assert not own_ids & {t.item_id for t in tasks_for(world["other"])}


def test_the_anonymous_have_no_tasks(world):
    assert tasks_for(None) == []


def test_a_return_carries_its_reason_in_full_first_and_sent_back_work_comes_first(world):
    own = world["own"]
    task = by_id(own, world["returned"].id, "returned")
    assert task.message.startswith(f"差戻しの理由：{REASON}\n")
    assert task.url == f"/items/{world['returned'].id}"
    assert task.title == world["returned"].title
    returned = tasks_for(own)[:3]
    assert {t.kind for t in returned} == {"returned", "amendment_returned"}
    later = tasks_for(own)[3:]
    assert [t.since for t in later] == sorted(t.since for t in later)
    amendment = by_id(own, world["amendment_returned"].id, "amendment_returned")
    assert amendment.message.startswith(f"修正の差戻しの理由：{AMEND_REASON}\n")


def test_the_messages_name_the_meeting_and_what_to_do(world):
    own, sec = world["own"], world["sec"]
    forwarded = by_id(own, world["forwarded"].id, "forwarded")
    assert "原案を上部庁議へ付議する（政策調整会議）" in forwarded.message
    assert "次は政策調整会議に付議されます" in forwarded.message
    assert world["forwarded_meeting"].title in forwarded.message
    remanded = by_id(own, world["remanded"].id, "returned")
    assert "差し戻しとする。" in remanded.message
    amend = by_id(own, world["amending"].id, "amend")
    assert "原案を一部修正し承認する。" in amend.message
    assert "修正版の提出" in amend.message
    late = by_id(sec, world["late"].id, "intake")
    assert late.title == world["late"].title  # the item's own title; the message says it
    assert late.message.startswith("申込締切の後に届いた申込です（締切後）。")
    on_time = by_id(sec, world["submitted"].id, "intake")
    assert on_time.title == world["submitted"].title
    assert "締切後" not in on_time.message
    empty = by_id(sec, world["empty_soon"].id, "empty_agenda")
    assert empty.title == f"{world['empty_soon'].title}（令和２年２月７日）"
    assert "あと5日" in empty.message
    assert empty.url == f"/meetings/{world['empty_soon'].id}"
    closing = by_id(sec, world["comment_closing"].id, "public_comment_closing")
    assert "令和２年２月４日" in closing.message
    assert "あと2日" in closing.message
    assert closing.url == f"/public-comments/{world['comment_closing'].id}"
    minutes = by_id(sec, world["held"].id, "minutes")
    assert "議事録" in minutes.message


def test_what_is_to_be_filed_names_the_next_meetings_deadline(world, monkeypatch):
    own = world["own"]
    # The next 関係課長会議 sits today (a Sunday): its deadline, five 開庁日 before, has passed.
    draft = by_id(own, world["draft"].id, "draft")
    assert draft.message.endswith(
        f"次の{world['empty_today'].title}（令和２年２月２日）の申込締切（令和２年１月２７日）は"
        "過ぎています。いま申し込むと「締切後」の扱いになります。"
    )
    forwarded = by_id(own, world["forwarded"].id, "forwarded")
    assert f"次の{world['empty_soon'].title}（令和２年２月７日）の申込締切" in forwarded.message
    monkeypatch.setattr(public_comment, "today", lambda: date(2020, 1, 20))
    returned = by_id(own, world["returned"].id, "returned")
    assert returned.message.startswith(f"差戻しの理由：{REASON}\n")
    assert returned.message.endswith("（令和２年１月３１日）の申込締切は令和２年１月２４日です。")
    # Nothing to file for an amendment.
    assert "申込締切" not in by_id(own, world["amending"].id, "amend").message


def test_a_public_comment_past_its_closing_day_and_not_closed_stays(world, monkeypatch):
    monkeypatch.setattr(public_comment, "today", lambda: date(2020, 2, 10))
    task = by_id(world["sec"], world["comment_closing"].id, "public_comment_closing")
    assert "過ぎています" in task.message
    # A week before its closing day: not yet.
    monkeypatch.setattr(public_comment, "today", lambda: date(2020, 1, 28))
    assert ("public_comment_closing", world["comment_closing"].id) not in kinds(world["sec"])


def test_a_task_ends_when_what_it_asks_is_done(world):
    own, sec = world["own"], world["sec"]
    expected = {who: set(world["expected"][who]) for who in ("own", "sec")}

    def done(who: str, removed: set, added: set = frozenset()) -> None:
        expected[who] = (expected[who] - removed) | added
        db.session.commit()
        assert kinds(world[who]) == expected[who]

    returned = world["returned"]
    items.submit(own, returned, comment="ご指摘の点を確認しました。")
    done("own", {("returned", returned.id)})
    done("sec", set(), {("intake", returned.id)})
    items.accept(sec, returned)
    done("sec", {("intake", returned.id)})

    draft = world["draft"]
    items.submit(own, draft)
    done("own", {("draft", draft.id)})
    items.return_item(sec, draft, "もう一度")
    done("own", set(), {("returned", draft.id)})
    done("sec", set())

    amending = world["amending"]
    items.submit_amendment(own, amending)
    done("own", {("amend", amending.id)})
    done("sec", set(), {("amendment_to_confirm", amending.id)})
    items.confirm_amendment(sec, amending)
    done("sec", {("amendment_to_confirm", amending.id)})

    again = world["amendment_returned"]
    items.submit_amendment(own, again)
    done("own", {("amendment_returned", again.id)})
    done("sec", set(), {("amendment_to_confirm", again.id)})

    forwarded = world["forwarded"]
    meetings.schedule(sec, world["empty_soon"], forwarded, "担当課長")
    done("own", {("forwarded", forwarded.id)})
    done("sec", {("empty_agenda", world["empty_soon"].id)})

    meetings.confirm(sec, world["held"])
    done("sec", {("minutes", world["held"].id)})

    closing = world["comment_closing"]
    public_comment.close(sec, closing, on=date(2020, 2, 4))
    done(
        "sec",
        {("public_comment_closing", closing.id)},
        {("public_comment_results", closing.id)},
    )
    for item in (closing, world["comment_closed"]):
        public_comment.publish_results(sec, item, on=date(2020, 2, 20))
        done("sec", {("public_comment_results", item.id)})


def test_a_forwarded_item_waits_until_its_form_is_revised(world):
    own, forwarded = world["own"], world["forwarded"]
    items.update_item(own, forwarded, {"title": forwarded.title})  # nothing changed: no version
    db.session.commit()
    assert ("forwarded", forwarded.id) in kinds(own)
    items.update_item(own, forwarded, {"summary": "政策調整会議に向けて見直した概要"})
    db.session.commit()
    assert ("forwarded", forwarded.id) not in kinds(own)


def _statements(user) -> int:
    db.session.expire_all()
    with counting() as statements:
        tasks_for(user)
    return len(statements)


def test_the_number_of_statements_stays_flat_as_items_grow(app, today):
    dept = make_user(Role.DEPARTMENT)
    sec = make_user(Role.SECRETARIAT)

    def add_some() -> None:
        for status in (ItemStatus.DRAFT, ItemStatus.RETURNED, ItemStatus.SUBMITTED):
            make_item(status, department=dept, secretariat=sec)
        amending = scheduled(dept, sec)
        held = decide(sec, amending, "approved_with_amendments")
        meetings.hold(sec, held)
        forwarded = scheduled(dept, sec)
        decide(sec, forwarded, "forwarded", "policy_coordination")
        make_meeting(sec, on=date(2020, 2, 5))
        make_item(ItemStatus.PUBLIC_COMMENT_CLOSED, department=dept, secretariat=sec)
        db.session.commit()

    add_some()
    few = _statements(dept), _statements(sec)
    for _ in range(3):
        add_some()
    assert (_statements(dept), _statements(sec)) == few
    assert len(tasks_for(dept)) == 4 * 4
    assert len(tasks_for(sec)) == 4 * 4


# -- the API ---------------------------------------------------------------------------------------


def test_the_api_answers_exactly_the_documented_keys(client, world):
    body = client.get("/api/v1/me/tasks", headers=auth(world["own"])).get_json()
    assert set(body) == {"tasks"}
    assert [(t["kind"], t["item_id"]) for t in body["tasks"]] == [
        (t.kind, t.item_id) for t in tasks_for(world["own"])
    ]
    for task in body["tasks"]:
        assert set(task) == {"kind", "item_id", "title", "message", "url", "since"}
        assert datetime.fromisoformat(task["since"]).tzinfo is not None
    returned = next(t for t in body["tasks"] if t["item_id"] == world["returned"].id)
    assert returned == {
        "kind": "returned",
        "item_id": world["returned"].id,
        "title": world["returned"].title,
        "message": by_id(world["own"], world["returned"].id, "returned").message,
        "url": f"/items/{world['returned'].id}",
        "since": returned["since"],
    }
    assert REASON in returned["message"]

    sec = client.get("/api/v1/me/tasks", headers=auth(world["sec"])).get_json()["tasks"]
    meeting_tasks = [t for t in sec if t["kind"] in ("empty_agenda", "minutes")]
    assert {t["meeting_id"] for t in meeting_tasks} == {
        world["empty_soon"].id,
        world["empty_today"].id,
        world["held"].id,
    }
    for task in meeting_tasks:
        assert set(task) == {"kind", "meeting_id", "title", "message", "url", "since"}
    assert {(t["kind"], t.get("item_id") or t.get("meeting_id")) for t in sec} == world["expected"][
        "sec"
    ]


def test_the_api_wants_a_token_and_gives_viewers_an_empty_list(client, world):
    response = client.get("/api/v1/me/tasks")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert client.get("/api/v1/me/tasks", headers=auth(world["viewer"])).get_json() == {"tasks": []}


# -- the home page ---------------------------------------------------------------------------------


def test_the_home_page_shows_the_tasks_first_with_a_returns_reason_in_full(client, world):
    login(client, world["own"])
    html = client.get("/").get_data(as_text=True)
    heading = html.index("対応が必要なもの")
    assert heading < html.index("自課の進行中の案件") < html.index("今後の会議")
    assert f"{len(world['expected']['own'])}件" in html[heading : heading + 200]
    assert REASON in html  # every line, the breaks kept (shown pre-line)
    assert html.index(REASON) < html.index("自課の進行中の案件")
    assert f'href="/items/{world["returned"].id}"' in html
    assert re.search(r"令和[０-９元]+年[０-９]+月[０-９]+日から", html[heading:])  # since, in 和暦
    assert world["other_returned"].title not in html


def test_the_home_page_says_when_nothing_waits(client, world):
    login(client, world["viewer"])
    html = client.get("/").get_data(as_text=True)
    assert "対応が必要なものはありません。" in html
    assert html.index("対応が必要なもの") < html.index("今後の会議")


def test_the_secretariats_home_marks_late_requests(client, world):
    login(client, world["sec"])
    html = client.get("/").get_data(as_text=True)
    section = html[html.index("対応が必要なもの") : html.index("事務局の作業")]
    late = section[section.index(f">{world['late'].title}</a>") :]
    assert late.split("</p>")[0].endswith('<span class="badge badge-late">締切後</span>')
    assert len(re.findall(r'<li class="task task-', section)) == len(world["expected"]["sec"])
