"""One read rule, everywhere: every list, count, search, export and document a reader gets is the
set the Python rule (workflow.permissions) gives, for each role, on the engine the suite runs on.

The world holds an item in every state in two sections, on meetings in every state, with what
was said at them; each expected set below is derived from ``can_read_item`` /
``can_read_meeting`` / ``can_read_minutes`` and plain Python filters, never written out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.factories import item_meeting_id, make_item, make_section, make_user
from tests.support import API, login
from workflow.extensions import db
from workflow.models import AgendaEntry, ApiToken, HistoryEvent, Item, Meeting, Opinion
from workflow.permissions import (
    can_read_entry,
    can_read_item,
    can_read_meeting,
    can_read_minutes,
    can_read_opinion,
    public_entries,
    public_sees_entry,
    readable_entries,
    readable_items,
    readable_meetings,
    readable_minutes,
    readable_opinions,
)
from workflow.queries.item_view import item_entries
from workflow.search_index import fold
from workflow.services import meetings
from workflow.states.states import ItemStatus, MeetingStatus, Role

ROLES = ("secretariat", "admin", "own", "other", "viewer", "anonymous")
STAFF = ROLES[:-1]
WORD = "読取規則"  # in every item's title: a search for it finds every item the reader may read
# Meeting states given in turn to the meetings the items were decided at.
MEETING_STATES = (
    MeetingStatus.PUBLISHED,
    MeetingStatus.CONFIRMED,
    MeetingStatus.HELD,
    MeetingStatus.PUBLISHED,
)
APPLIED = (date(2019, 6, 3), date(2020, 3, 31), date(2020, 4, 1), None)


@dataclass
class World:
    users: dict[str, object]
    items: list[Item]
    meetings: list[Meeting]
    tokens: dict[str, str]

    def user(self, role: str):
        return self.users.get(role)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role in self.tokens else {}


@pytest.fixture
def world(app) -> World:
    own, other = make_section("情報政策課"), make_section("財政課")
    secretariat = make_user(Role.SECRETARIAT, login="secretariat")
    users = {
        "secretariat": secretariat,
        "admin": make_user(Role.ADMIN, login="admin"),
        "own": make_user(Role.DEPARTMENT, own, login="own"),
        "other": make_user(Role.DEPARTMENT, other, login="other"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
    }
    items = []
    for n, status in enumerate(ItemStatus):
        for department in (users["own"], users["other"]):
            # ＩＣＴ in some titles and ict in some summaries: q folds both to "ict".
            title = f"{WORD}{len(items) + 1}" + ("ＩＣＴ推進" if n % 3 == 0 else "")
            summary = "ictの活用" if n % 3 == 1 else "概要"
            applied_on = APPLIED[len(items) % len(APPLIED)]
            item = make_item(
                status,
                department=department,
                secretariat=secretariat,
                title=title,
                summary=summary,
                applied_on=applied_on or date(2019, 6, 3),
            )
            item.applied_on = applied_on  # None: as an item filed before 申込日 was required
            items.append(item)
    decided = [i for i in items if item_entries(i) and item_entries(i)[-1].outcome is not None]
    for n, item in enumerate(decided):
        meeting = db.session.get(Meeting, item_meeting_id(item))
        meetings.record_deliberation(
            secretariat,
            meeting,
            item,
            {"opinions": [{"opinion": f"{WORD}についての意見{n}", "response": "回答"}]},
        )
        target = MEETING_STATES[n % len(MEETING_STATES)]
        steps = {
            MeetingStatus.HELD: [meetings.hold],
            MeetingStatus.CONFIRMED: [meetings.hold, meetings.confirm],
            MeetingStatus.PUBLISHED: [meetings.hold, meetings.confirm, meetings.publish],
        }[target]
        for step in steps:
            step(secretariat, meeting)
    tokens = {}
    for role, user in users.items():
        row, tokens[role] = ApiToken.issue(user)
        db.session.add(row)
    db.session.commit()
    all_meetings = list(db.session.scalars(select(Meeting)))
    assert {m.status for m in all_meetings} >= set(MEETING_STATES) | {MeetingStatus.PLANNED}
    return World(users, items, all_meetings, tokens)


def _client(app, world: World, role: str) -> FlaskClient:
    client = app.test_client()
    return client if role == "anonymous" else login(client, world.user(role))


def _newest_first(items) -> list[int]:
    return [i.id for i in sorted(items, key=lambda i: (i.updated_at, i.id), reverse=True)]


def _readable(world: World, role: str) -> list[Item]:
    return [i for i in world.items if can_read_item(world.user(role), i)]


def _page_ids(client: FlaskClient, url: str) -> list[int]:
    """Every item the list page shows, following its pager to the end."""
    ids: list[int] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        page = response.get_data(as_text=True)
        table = page.partition("<tbody>")[2].partition("</tbody>")[0]
        ids += [int(n) for n in re.findall(r'href="/items/(\d+)"', table)]
        following = re.search(r'href="([^"]+)" rel="next"', page)
        url = following.group(1).replace("&amp;", "&") if following else ""
    return ids


@pytest.mark.parametrize("role", ROLES)
def test_each_rule_and_its_sql_twin_agree(world, role):
    user = world.user(role)
    in_sql = set(db.session.scalars(select(Item.id).where(readable_items(user))))
    assert in_sql == {i.id for i in _readable(world, role)}
    seen = set(db.session.scalars(select(Meeting.id).where(readable_meetings(user))))
    assert seen == {m.id for m in world.meetings if can_read_meeting(user, m)}
    said = set(db.session.scalars(select(Meeting.id).where(readable_minutes(user))))
    assert said == {m.id for m in world.meetings if can_read_minutes(user, m)}


# Each filter of the item list, with what it means in Python.
FILTERS = {
    "none": ({}, lambda i, user: True),
    "status": ({"status": "draft"}, lambda i, user: i.status == ItemStatus.DRAFT),
    "status2": ({"status": "accepted"}, lambda i, user: i.status == ItemStatus.ACCEPTED),
    "kind": ({"kind": "section_managers"}, lambda i, user: i.level_kind == "section_managers"),
    "kind2": (
        {"kind": "policy_coordination"},
        lambda i, user: i.level_kind == "policy_coordination",
    ),
    "q": ({"q": "ict"}, lambda i, user: "ict" in fold(i.title) or "ict" in fold(i.summary)),
    "q_fullwidth": (
        {"q": "ＩＣＴ"},
        lambda i, user: "ict" in fold(i.title) or "ict" in fold(i.summary),
    ),
    "q_title": ({"q": f"{WORD}1"}, lambda i, user: f"{WORD}1" in i.title),
    "section": ({"section": "財政課"}, lambda i, user: i.section.name == "財政課"),
    "fiscal_year": (
        {"fiscal_year": "2019"},
        lambda i, user: (
            i.applied_on is not None and date(2019, 4, 1) <= i.applied_on < date(2020, 4, 1)
        ),
    ),
    "mine": ({"mine": "1"}, lambda i, user: i.section_id == getattr(user, "section_id", -1)),
    "combined": (
        {"q": "ict", "section": "情報政策課", "mine": "0"},
        lambda i, user: (
            ("ict" in fold(i.title) or "ict" in fold(i.summary)) and i.section.name == "情報政策課"
        ),
    ),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_list_page_and_the_api_give_the_same_items_in_the_same_order(app, world, role):
    user = world.user(role)
    client = _client(app, world, role)
    for name, (args, means) in FILTERS.items():
        expected = _newest_first(i for i in _readable(world, role) if means(i, user))
        query = "&".join(f"{k}={v}" for k, v in args.items())
        api = app.test_client().get(
            f"{API}/items?per_page=200&{query}", headers=world.headers(role)
        )
        assert api.status_code == 200, (name, api.get_json())
        assert [row["id"] for row in api.get_json()["items"]] == expected, name
        assert api.get_json()["total"] == len(expected), name
        if role == "anonymous":
            assert client.get(f"/items/?{query}").status_code == 302, name  # to sign in
        else:
            assert _page_ids(client, f"/items/?{query or 'q='}") == expected, name


def test_a_department_list_opens_at_its_own_items(app, world):
    client = _client(app, world, "own")
    response = client.get("/items/")
    assert response.status_code == 302
    assert response.location.endswith("/items/?mine=1")
    own = world.user("own")
    expected = _newest_first(i for i in world.items if i.section_id == own.section_id)
    assert _page_ids(client, "/items/?mine=1") == expected
    # Others start from everything they may read, with no redirect.
    assert _client(app, world, "viewer").get("/items/").status_code == 200


WRONG_FILTERS = [
    ({"status": "nonsense"}, "status"),
    ({"kind": "no_such_kind"}, "kind"),
    ({"section": "存在しない課"}, "section"),
    ({"fiscal_year": "R1"}, "fiscal_year"),
    ({"mine": "maybe"}, "mine"),
    ({"q": "x" * 201}, "q"),
]


def test_a_wrong_filter_is_refused_alike_by_page_and_api(app, world):
    client = _client(app, world, "viewer")
    for args, field in WRONG_FILTERS:
        query = "&".join(f"{k}={v}" for k, v in args.items())
        api = app.test_client().get(f"{API}/items?{query}", headers=world.headers("viewer"))
        assert api.status_code == 422, field
        message = api.get_json()["error"]["details"]["fields"][field][0]
        page = client.get(f"/items/?{query}")
        assert page.status_code == 422, field
        assert message in page.get_data(as_text=True), field


HOME_COUNT = re.compile(r'<a href="(/items/\?status=[a-z_]+)">.*?<span class="count">(\d+)</span>')


@pytest.mark.parametrize("role", STAFF)
def test_the_home_page_counts_what_its_links_list(app, world, role):
    client = _client(app, world, role)
    page = client.get("/").get_data(as_text=True)
    counts = {url: int(n) for url, n in HOME_COUNT.findall(page)}
    assert len(counts) == len(ItemStatus)
    readable = _readable(world, role)
    for status in ItemStatus:
        url = f"/items/?status={status.value}"
        assert counts[url] == sum(i.status == status for i in readable), status
        assert len(_page_ids(client, url)) == counts[url], status


@pytest.mark.parametrize("role", ROLES)
def test_search_finds_exactly_what_the_reader_may_read(app, world, role):
    response = app.test_client().get(
        f"{API}/search?q={WORD}&limit=200", headers=world.headers(role)
    )
    assert response.status_code == 200
    found = {hit["item_id"] for hit in response.get_json()["results"]}
    assert found == {i.id for i in _readable(world, role)}


def test_open_data_is_what_the_public_may_read(app, world):
    rows = app.test_client().get(f"{API}/minutes.json").get_json()["rows"]
    expected = set()
    for item in world.items:
        for entry in item_entries(item):
            if (
                entry.opinions
                and can_read_minutes(None, entry.meeting)
                and can_read_item(None, item)
            ):
                expected.add((entry.meeting_id, item.id))
    assert expected  # the world publishes some minutes
    assert {(r["meeting_id"], r["item_id"]) for r in rows} == expected
    csv = app.test_client().get(f"{API}/minutes.csv").get_data(as_text=True)
    assert csv.count("\r\n") - 1 == len(rows)


@pytest.mark.parametrize("role", ROLES)
def test_the_meeting_list_is_what_the_reader_may_see(app, world, role):
    user = world.user(role)
    response = app.test_client().get(f"{API}/meetings", headers=world.headers(role))
    ids = [m["id"] for m in response.get_json()["meetings"]]
    assert set(ids) == {m.id for m in world.meetings if can_read_meeting(user, m)}


@pytest.mark.parametrize("role", ROLES)
def test_each_item_shows_its_reader_only_what_they_may_read(app, world, role):
    """The item page, the API's item and 様式２ answer by the same rule, and show the meetings
    and what was said there by the meeting and minutes rules."""
    user = world.user(role)
    client, api = _client(app, world, role), app.test_client()
    refused = 404 if role == "anonymous" else 403
    for item in world.items:
        readable = can_read_item(user, item)
        response = api.get(f"{API}/items/{item.id}", headers=world.headers(role))
        assert response.status_code == (200 if readable else refused), (item.status, role)
        if role != "anonymous":
            assert client.get(f"/items/{item.id}").status_code == (200 if readable else 403)
        if not readable:
            continue
        entries = [e for e in item_entries(item) if can_read_meeting(user, e.meeting)]
        body = response.get_json()
        assert [d["meeting_id"] for d in body["deliberations"]] == [e.meeting_id for e in entries]
        for shown, entry in zip(body["deliberations"], entries, strict=True):
            said = can_read_minutes(user, entry.meeting)
            assert shown["minutes_readable"] is said
            assert len(shown["opinions"]) == (len(entry.opinions) if said else 0)
        assert [g["meeting_id"] for g in body["prior_opinions"]] == [
            e.meeting_id
            for e in entries
            if e.outcome is not None and can_read_minutes(user, e.meeting)
        ]
        events = db.session.scalars(select(HistoryEvent).where(HistoryEvent.item_id == item.id))
        assert len(body["history"]) == (0 if role == "anonymous" else len(events.all()))


@pytest.mark.parametrize("role", ROLES)
def test_the_request_form_pdf_follows_the_item_rule(app, world, role):
    user = world.user(role)
    refused = 404 if role == "anonymous" else 403
    # One item of each answer, so the rule is checked without rendering every form.
    readable = next(i for i in world.items if can_read_item(user, i))
    hidden = next((i for i in world.items if not can_read_item(user, i)), None)
    api = app.test_client()
    assert (
        api.get(f"{API}/items/{readable.id}/form.pdf", headers=world.headers(role)).status_code
        == 200
    )
    if hidden is not None:
        response = api.get(f"{API}/items/{hidden.id}/form.pdf", headers=world.headers(role))
        assert response.status_code == refused


# -- disclosure (DOMAIN §10): entries and opinions ------------------------------------------


@pytest.fixture
def disclosure_world(app) -> World:
    """Meetings in every state, each with entries 公開 / 一部非公開 / 非公開 whose opinions are
    public or held back: every pair of the entry and opinion rules meets each case."""
    secretariat = make_user(Role.SECRETARIAT, login="secretariat")
    users = {
        "secretariat": secretariat,
        "admin": make_user(Role.ADMIN, login="admin"),
        "own": make_user(Role.DEPARTMENT, make_section("情報政策課"), login="own"),
        "viewer": make_user(Role.VIEWER, login="viewer"),
    }
    steps = {
        MeetingStatus.PLANNED: [],
        MeetingStatus.HELD: [meetings.hold],
        MeetingStatus.CONFIRMED: [meetings.hold, meetings.confirm],
        MeetingStatus.PUBLISHED: [meetings.hold, meetings.confirm, meetings.publish],
    }
    items = []
    for state, fire in steps.items():
        first = make_item(ItemStatus.SCHEDULED, department=users["own"], secretariat=secretariat)
        meeting = db.session.get(Meeting, item_meeting_id(first))
        on_it = [first]
        for _ in range(2):
            more = make_item(ItemStatus.ACCEPTED, department=users["own"], secretariat=secretariat)
            meetings.schedule(secretariat, meeting, more)
            on_it.append(more)
        for item, disclosure in zip(on_it, ("public", "partial", "closed"), strict=True):
            body = {
                "opinions": [
                    {"opinion": f"{WORD}公開の意見"},
                    {"opinion": f"{WORD}伏せた意見", "public": False},
                ],
                "disclosure": disclosure,
                "disclosure_reason": "" if disclosure == "public" else "第７条第２号",
            }
            meetings.record_deliberation(secretariat, meeting, item, body)
            if state != MeetingStatus.PLANNED:
                meetings.record_outcome(secretariat, meeting, item, "approved")
        for step in fire:
            step(secretariat, meeting)
        items += on_it
    db.session.commit()
    return World(users, items, list(db.session.scalars(select(Meeting))), {})


@pytest.mark.parametrize("role", ["secretariat", "admin", "own", "viewer", "anonymous"])
def test_the_entry_and_opinion_rules_and_their_sql_twins_agree(disclosure_world, role):
    user = disclosure_world.user(role)
    entries = list(db.session.scalars(select(AgendaEntry)))
    assert len(entries) == 12
    in_sql = set(db.session.scalars(select(AgendaEntry.id).where(readable_entries(user))))
    assert in_sql == {e.id for e in entries if can_read_entry(user, e)}
    public = set(db.session.scalars(select(AgendaEntry.id).where(public_entries())))
    assert public == {e.id for e in entries if public_sees_entry(e)}
    assert len(public) == 2  # the published meeting's 公開 and 一部非公開 entries
    opinions = db.session.execute(
        select(Opinion.id)
        .join(AgendaEntry, AgendaEntry.id == Opinion.entry_id)
        .join(Meeting, Meeting.id == AgendaEntry.meeting_id)
        .where(readable_opinions(user))
    )
    expected = {o.id for e in entries for o in e.opinions if can_read_opinion(user, e, o)}
    assert set(opinions.scalars()) == expected
    if role == "anonymous":
        assert len(expected) == 2  # one public opinion of each of the two entries it sees
    # The item rule follows: the public reads the items of the entries it sees, no other.
    readable = set(db.session.scalars(select(Item.id).where(readable_items(user))))
    assert readable == {i.id for i in disclosure_world.items if can_read_item(user, i)}
