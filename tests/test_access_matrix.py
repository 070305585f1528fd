"""Every route × every kind of visitor, with the answer each must get (OWASP ASVS V4).

The table below names every rule and method of ``app.url_map`` (static files aside); a route added
without an entry here fails :func:`test_every_route_has_an_expectation`. Each case runs on a
realistic database (the real sample's whole path, plus items and meetings in the other states),
so every URL parameter names a real row. Codes:

- ``"login"``: a redirect to the sign-in page, to come back after signing in;
- ``"302"``: a redirect elsewhere, nothing changed (a refusal shown as a flash message, or the
  sign-in page sending a signed-in user home); ``"302+"``: a redirect after a change was made;
- any other number: that status; with ``+`` the database changed, without it nothing did.

GET routes must never change anything (every case checks the database before and after).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import _empty_all_tables
from tests.factories import item_meeting_id, make_item, make_section, make_user
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.models import (
    ApiToken,
    LoginAttempt,
    Meeting,
    PdfCache,
    UserSession,
    seed_meeting_kinds,
)
from workflow.services import meetings, public_comment
from workflow.states.states import ItemStatus, Role

WHO = ("anonymous", "viewer", "own", "other", "secretariat", "admin")
PASSWORD = "correct-horse-battery"

# Bookkeeping a read may write: the PDF cache, sign-in attempts. Not state.
_NOT_STATE = {PdfCache.__tablename__, LoginAttempt.__tablename__}
# When a session or an API token was last used (written at most once a minute).
_BOOKKEEPING_COLUMNS = {"last_seen_at", "last_used_at"}


def build_world() -> dict[str, Any]:
    """Users of every kind, and a row in every state a URL can name."""
    own_section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    users = {
        "viewer": make_user(Role.VIEWER, login="viewer"),
        "own": make_user(Role.DEPARTMENT, own_section, login="own"),
        "other": make_user(Role.DEPARTMENT, make_section("財政課"), login="other"),
        "secretariat": make_user(Role.SECRETARIAT, login="secretariat"),
        "admin": make_user(Role.ADMIN, login="admin"),
    }
    own, sec = users["own"], users["secretariat"]

    def item(status: ItemStatus, **kw):
        return make_item(status, department=own, secretariat=sec, **kw)

    sample = play_sample(own, sec)  # concluded; its meetings and comment results published
    w: dict[str, Any] = {"users": users, "sample": sample.item.id}
    w["published"] = sample.meetings["policy_coordination"].id
    draft = item(ItemStatus.DRAFT)
    w["draft"], w["draft_version"] = draft.id, draft.version
    w["submitted"] = item(ItemStatus.SUBMITTED).id
    scheduled = item(ItemStatus.SCHEDULED)
    w["scheduled"], w["planned"] = scheduled.id, item_meeting_id(scheduled)
    w["accepted"] = item(ItemStatus.ACCEPTED).id
    amending = item(ItemStatus.AMENDING)
    w["amending"] = amending.id
    held = db.session.get(Meeting, item_meeting_id(amending))
    meetings.hold(sec, held)
    w["held"] = held.id
    approved = item(ItemStatus.APPROVED)
    w["approved"] = approved.id
    confirmed = db.session.get(Meeting, item_meeting_id(approved))
    meetings.hold(sec, confirmed)
    meetings.confirm(sec, confirmed)
    w["confirmed"] = confirmed.id
    w["approved_pc"] = item(
        ItemStatus.APPROVED, public_comment={"planned": True, "period_text": "令和2年1月"}
    ).id
    in_pc = item(ItemStatus.PUBLIC_COMMENT)
    public_comment.add_opinion(sec, in_pc, summary="意見です。", submitter_kind="個人")
    w["in_pc"] = in_pc.id
    w["closed_pc"] = item(ItemStatus.PUBLIC_COMMENT_CLOSED).id
    answering = item(ItemStatus.PUBLIC_COMMENT)  # closed, with an opinion to answer
    public_comment.add_opinion(sec, answering, summary="反対です。", submitter_kind="団体")
    public_comment.close(sec, answering, on=date(2020, 2, 5))
    w["answering"] = answering.id
    w["tokens"] = {}
    for who, user in users.items():
        row, token = ApiToken.issue(user)
        db.session.add(row)
        w["tokens"][who] = token
    db.session.commit()
    return w


def fresh_world() -> dict[str, Any]:
    db.session.rollback()
    _empty_all_tables()
    seed_meeting_kinds()
    db.session.commit()
    return build_world()


def fingerprint() -> dict[str, str]:
    """A digest of every row of every table (what a read may touch for bookkeeping left out)."""
    db.session.expire_all()
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name in _NOT_STATE:
            continue
        columns = [c for c in table.c if c.name not in _BOOKKEEPING_COLUMNS]
        rows = db.session.execute(sa.select(*columns).order_by(*table.primary_key.columns))
        out[table.name] = hashlib.sha256(repr(rows.all()).encode()).hexdigest()
    return out


# -- the table ----------------------------------------------------------------------------------


@dataclass
class Case:
    path: Callable[[dict], str]
    expect: dict[str, str]
    data: Callable[[dict], dict] | None = None
    json: Callable[[dict], dict] | None = None
    extra: dict = field(default_factory=dict)


def E(anonymous, viewer, own, other, secretariat, admin) -> dict[str, str]:  # noqa: N802
    return dict(zip(WHO, (anonymous, viewer, own, other, secretariat, admin), strict=True))


STAFF_200 = E("login", "200", "200", "200", "200", "200")
SECRETARIAT_ONLY = E("login", "403", "403", "403", "200", "403")
EVERYONE_200 = E("200", "200", "200", "200", "200", "200")


def item_edit_data(w: dict) -> dict:
    return {"title": "修正後の案件名", "section": "情報政策課", "version": "1"}


CASES: dict[tuple[str, str], Case] = {
    # -- sign-in --
    ("auth.login", "GET"): Case(lambda w: "/login", E("200", "302", "302", "302", "302", "302")),
    ("auth.login", "POST"): Case(
        lambda w: "/login",
        E("302+", "302", "302", "302", "302", "302"),
        data=lambda w: {"login": "own", "password": PASSWORD},
    ),
    ("auth.logout", "POST"): Case(
        lambda w: "/logout", E("login", "302+", "302+", "302+", "302+", "302+")
    ),
    # -- pages: home, items --
    ("main.index", "GET"): Case(lambda w: "/", STAFF_200),
    ("items.index", "GET"): Case(lambda w: "/items/?q=", STAFF_200),
    ("items.intake", "GET"): Case(lambda w: "/items/intake", SECRETARIAT_ONLY),
    ("items.show", "GET"): Case(
        lambda w: f"/items/{w['draft']}", E("login", "403", "200", "403", "200", "200")
    ),
    ("items.form_pdf", "GET"): Case(
        lambda w: f"/items/{w['draft']}/form.pdf", E("login", "403", "200", "403", "200", "200")
    ),
    ("items.new", "GET"): Case(
        lambda w: "/items/new", E("login", "403", "200", "200", "200", "403")
    ),
    ("items.new", "POST"): Case(
        lambda w: "/items/new",
        E("login", "403", "302+", "403", "302+", "403"),
        data=lambda w: {"title": "新しい案件", "section": "情報政策課"},
    ),
    ("items.edit", "GET"): Case(
        lambda w: f"/items/{w['draft']}/edit", E("login", "403", "200", "403", "200", "403")
    ),
    ("items.edit", "POST"): Case(
        lambda w: f"/items/{w['draft']}/edit",
        E("login", "403", "302+", "403", "302+", "403"),
        data=item_edit_data,
    ),
    ("items.fire", "POST"): Case(
        lambda w: f"/items/{w['submitted']}/events/accept",
        E("login", "302", "302", "302", "302+", "302"),
        data=lambda w: {"version": "2"},
    ),
    # -- pages: meetings --
    ("meetings.index", "GET"): Case(lambda w: "/meetings/", STAFF_200),
    ("meetings.new", "GET"): Case(lambda w: "/meetings/new", SECRETARIAT_ONLY),
    ("meetings.new", "POST"): Case(
        lambda w: "/meetings/new",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"kind": "section_managers", "date": "令和2年4月1日"},
    ),
    ("meetings.show", "GET"): Case(lambda w: f"/meetings/{w['planned']}", STAFF_200),
    ("meetings.agenda_pdf", "GET"): Case(
        lambda w: f"/meetings/{w['planned']}/agenda.pdf", STAFF_200
    ),
    ("meetings.agenda_add", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/agenda/add",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"item_id": str(w["accepted"]), "presenter": "情報政策課長"},
    ),
    ("meetings.agenda_move", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/agenda/remove",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"item_id": str(w["scheduled"])},
    ),
    ("meetings.fire", "POST"): Case(
        lambda w: f"/meetings/{w['held']}/events/confirm",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {},
    ),
    ("meetings.room", "GET"): Case(lambda w: f"/meetings/{w['planned']}/room/1", SECRETARIAT_ONLY),
    ("meetings.room", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/room/1",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {
            "presenter": "情報政策課長",
            "opinions-0-opinion": "進め方を確認したい。",
            "special_notes": "",
        },
    ),
    ("meetings.minutes", "GET"): Case(
        lambda w: f"/meetings/{w['planned']}/minutes", E("login", "403", "403", "403", "200", "200")
    ),
    ("meetings.minutes_pdf", "GET"): Case(
        lambda w: f"/meetings/{w['planned']}/minutes.pdf",
        E("login", "403", "403", "403", "200", "200"),
    ),
    # -- pages: public comment (the secretariat's screens) --
    ("comments.index", "GET"): Case(lambda w: "/public-comments/", SECRETARIAT_ONLY),
    ("comments.show", "GET"): Case(lambda w: f"/public-comments/{w['in_pc']}", SECRETARIAT_ONLY),
    ("comments.results_pdf", "GET"): Case(
        lambda w: f"/public-comments/{w['in_pc']}/results.pdf", SECRETARIAT_ONLY
    ),
    ("comments.open_", "POST"): Case(
        lambda w: f"/public-comments/{w['approved_pc']}/open",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {
            "published_on": "令和2年1月6日",
            "closes_on": "令和2年2月4日",
            "how_to_submit": "電子メール",
        },
    ),
    ("comments.add_opinion", "POST"): Case(
        lambda w: f"/public-comments/{w['in_pc']}/opinions",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"summary": "賛成です。", "submitter_kind": "個人"},
    ),
    ("comments.answer", "POST"): Case(
        lambda w: f"/public-comments/{w['answering']}/opinions/1",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"city_view": "ご意見として承ります。", "handling": ""},
    ),
    ("comments.close", "POST"): Case(
        lambda w: f"/public-comments/{w['in_pc']}/close",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {},
    ),
    ("comments.publish", "POST"): Case(
        lambda w: f"/public-comments/{w['closed_pc']}/publish",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"changes_made": "なし"},
    ),
    # -- probes for the load balancer: open to all, no data --
    ("health.healthz", "GET"): Case(lambda w: "/healthz", EVERYONE_200),
    # The test schema comes from create_all, not from the migrations, so it is not "ready".
    ("health.readyz", "GET"): Case(
        lambda w: "/readyz", E("503", "503", "503", "503", "503", "503")
    ),
    # -- the public site --
    ("public.index", "GET"): Case(lambda w: "/public/", EVERYONE_200),
    ("public.meeting", "GET"): Case(lambda w: f"/public/meetings/{w['published']}", EVERYONE_200),
    ("public.minutes_pdf", "GET"): Case(
        lambda w: f"/public/meetings/{w['published']}/minutes.pdf", EVERYONE_200
    ),
    ("public.item", "GET"): Case(lambda w: f"/public/items/{w['sample']}", EVERYONE_200),
    ("public.item_pdf", "GET"): Case(
        lambda w: f"/public/items/{w['sample']}/form.pdf", EVERYONE_200
    ),
    ("public.comments", "GET"): Case(lambda w: "/public/comments/", EVERYONE_200),
    ("public.comment", "GET"): Case(lambda w: f"/public/comments/{w['sample']}", EVERYONE_200),
    ("public.comment_results_pdf", "GET"): Case(
        lambda w: f"/public/comments/{w['sample']}/results.pdf", EVERYONE_200
    ),
    # -- search: anyone; each finds only what they may read (tests/test_search.py) --
    ("search.index", "GET"): Case(lambda w: "/search?q=ICT", EVERYONE_200),
    # -- the JSON API (bearer tokens; anonymous = no header) --
    ("api.openapi_json", "GET"): Case(lambda w: "/api/v1/openapi.json", EVERYONE_200),
    ("api.index_items", "GET"): Case(lambda w: "/api/v1/items", EVERYONE_200),
    ("api.create_item", "POST"): Case(
        lambda w: "/api/v1/items",
        E("401", "403", "201+", "403", "201+", "403"),
        json=lambda w: {"title": "新規", "section": "情報政策課"},
    ),
    ("api.show_item", "GET"): Case(
        lambda w: f"/api/v1/items/{w['draft']}", E("404", "403", "200", "403", "200", "200")
    ),
    ("api.update_item", "PATCH"): Case(
        lambda w: f"/api/v1/items/{w['draft']}",
        E("401", "403", "200+", "403", "200+", "403"),
        json=lambda w: {"remarks": "追記", "version": w["draft_version"]},
    ),
    ("api.fire_item_event", "POST"): Case(
        lambda w: f"/api/v1/items/{w['submitted']}/events/accept",
        E("401", "403", "403", "403", "200+", "403"),
    ),
    ("api.item_form_pdf", "GET"): Case(
        lambda w: f"/api/v1/items/{w['draft']}/form.pdf",
        E("404", "403", "200", "403", "200", "200"),
    ),
    ("api.list_comment_opinions", "GET"): Case(
        lambda w: f"/api/v1/items/{w['in_pc']}/public-comment/opinions",
        E("404", "200", "200", "200", "200", "200"),
    ),
    ("api.add_comment_opinion", "POST"): Case(
        lambda w: f"/api/v1/items/{w['in_pc']}/public-comment/opinions",
        E("401", "403", "403", "403", "201+", "403"),
        json=lambda w: {"summary": "賛成です。", "submitter_kind": "個人"},
    ),
    ("api.update_comment_opinion", "PUT"): Case(
        lambda w: f"/api/v1/items/{w['answering']}/public-comment/opinions/1",
        E("401", "403", "403", "403", "200+", "403"),
        json=lambda w: {"city_view": "ご意見として承ります。"},
    ),
    ("api.comment_results_pdf", "GET"): Case(
        lambda w: f"/api/v1/items/{w['sample']}/public-comment/results.pdf", EVERYONE_200
    ),
    ("api.index_meetings", "GET"): Case(lambda w: "/api/v1/meetings", EVERYONE_200),
    ("api.create_meeting", "POST"): Case(
        lambda w: "/api/v1/meetings",
        E("401", "403", "403", "403", "201+", "403"),
        json=lambda w: {"kind": "section_managers", "date": "2020-04-01"},
    ),
    ("api.show_meeting", "GET"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}", E("404", "200", "200", "200", "200", "200")
    ),
    ("api.agenda_pdf", "GET"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/agenda.pdf",
        E("404", "200", "200", "200", "200", "200"),
    ),
    ("api.schedule_item", "POST"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/entries",
        E("401", "403", "403", "403", "201+", "403"),
        json=lambda w: {"item_id": w["accepted"], "presenter": "情報政策課長"},
    ),
    ("api.unschedule_item", "DELETE"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/entries/{w['scheduled']}",
        E("401", "403", "403", "403", "200+", "403"),
    ),
    ("api.record_deliberation", "PUT"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/entries/{w['scheduled']}",
        E("401", "403", "403", "403", "200+", "403"),
        json=lambda w: {"opinions": [{"opinion": "進め方を確認したい。"}]},
    ),
    ("api.record_outcome", "POST"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/entries/{w['scheduled']}/outcome",
        E("401", "403", "403", "403", "200+", "403"),
        json=lambda w: {"outcome": "approved"},
    ),
    ("api.fire_meeting_event", "POST"): Case(
        lambda w: f"/api/v1/meetings/{w['held']}/events/confirm",
        E("401", "403", "403", "403", "200+", "403"),
    ),
    ("api.minutes_pdf", "GET"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/minutes.pdf",
        E("404", "403", "403", "403", "200", "200"),
    ),
    ("api.minutes_csv", "GET"): Case(lambda w: "/api/v1/minutes.csv", EVERYONE_200),
    ("api.minutes_json", "GET"): Case(lambda w: "/api/v1/minutes.json", EVERYONE_200),
    ("api.search", "GET"): Case(lambda w: "/api/v1/search?q=ICT", EVERYONE_200),
}

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def served_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - IGNORED_METHODS
    }


def test_every_route_has_an_expectation(app):
    served = served_routes(app)
    missing = sorted(served - set(CASES))
    assert missing == [], f"routes without an access expectation in CASES: {missing}"
    stale = sorted(set(CASES) - served)
    assert stale == [], f"expectations for routes the app no longer serves: {stale}"


# -- running a case -----------------------------------------------------------------------------


def client_for(app: Flask, world: dict, who: str):
    client = app.test_client()
    if who != "anonymous":
        with client.session_transaction() as session:
            row = UserSession.start(world["users"][who])
            db.session.add(row)
            db.session.commit()
            session["_user_id"] = row.token
            session["_fresh"] = True
    return client


def request(client, world: dict, who: str, endpoint: str, method: str):
    case = CASES[(endpoint, method)]
    path = case.path(world)
    if endpoint.startswith("api."):
        headers = {} if who == "anonymous" else {"Authorization": f"Bearer {world['tokens'][who]}"}
        body = case.json(world) if case.json else None
        return client.open(path, method=method, json=body, headers=headers)
    data = case.data(world) if case.data else None
    return client.open(path, method=method, data=data)


def check(response, expected: str, changed: bool, label: str) -> None:
    response.close()
    want_change = expected.endswith("+")
    code = expected.rstrip("+")
    bounced = response.status_code == 302 and response.location.startswith("/login?next=")
    if code == "login":
        assert bounced, (label, response.status_code, response.location)
    else:
        assert response.status_code == int(code), (label, response.status_code)
        assert not bounced, label
    assert changed == want_change, (label, "changed" if changed else "unchanged")


GET_CASES = sorted(k for k in CASES if k[1] == "GET")
WRITE_CASES = sorted(k for k in CASES if k[1] != "GET")


@pytest.mark.slow
@pytest.mark.parametrize(("endpoint", "method"), GET_CASES, ids=[e for e, _ in GET_CASES])
def test_reads(app, endpoint, method):
    """Every read, as every visitor, on one world: the answer expected, and nothing changed."""
    world = fresh_world()
    failures = []
    # API calls carry a token and no cookie; pages get a signed-in client (made before the
    # fingerprint, as a sign-in is not what is being tested).
    api = endpoint.startswith("api.")
    clients = {who: app.test_client() if api else client_for(app, world, who) for who in WHO}
    for who in WHO:
        before = fingerprint()
        response = request(clients[who], world, who, endpoint, method)
        label = f"{method} {CASES[(endpoint, method)].path(world)} as {who}"
        try:
            check(response, CASES[(endpoint, method)].expect[who], fingerprint() != before, label)
        except AssertionError as exc:
            failures.append(str(exc))
    assert failures == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("endpoint", "method"), WRITE_CASES, ids=[f"{e}-{m}" for e, m in WRITE_CASES]
)
def test_writes(app, endpoint, method):
    """Every state-changing route, as every visitor. A refusal changes nothing (checked), so the
    next visitor may use the same world; after a change, the next one gets a fresh world."""
    failures = []
    world = fresh_world()
    expect = CASES[(endpoint, method)].expect
    for who in sorted(WHO, key=lambda who: expect[who].endswith("+")):
        api = endpoint.startswith("api.")
        client = app.test_client() if api else client_for(app, world, who)
        before = fingerprint()
        response = request(client, world, who, endpoint, method)
        label = f"{method} {CASES[(endpoint, method)].path(world)} as {who}"
        changed = fingerprint() != before
        try:
            check(response, expect[who], changed, label)
        except AssertionError as exc:
            failures.append(str(exc))
        if changed:
            world = fresh_world()
    assert failures == []
