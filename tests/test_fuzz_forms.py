"""Hostile input to the forms: never a 500, and a refusal writes nothing.

Form bodies are built by hand as bytes, so they can carry what a browser never sends: invalid
UTF-8, lone surrogates (as CESU-style bytes), NUL, huge strings, impossible 和暦 dates
(平成31年5月25日 — Heisei ended on 30 April 2019), numbers past 32 bits, and keys that do not
exist. The JSON API gets the same treatment at the end (schemathesis covers its schema).
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import client_for, fingerprint, fresh_world

pytestmark = pytest.mark.usefixtures("app")

FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

HOSTILE = [
    b"",
    b"\x00",
    b"a\x00b",
    b"\xff\xfe\xfd",  # not UTF-8 at all
    b"\xed\xa0\x80",  # a lone surrogate, CESU-8 style
    b"\xc3",  # a truncated sequence
    "平成31年5月25日".encode(),
    "令和元年2月30日".encode(),
    "令和0年1月1日".encode(),
    "明治1年1月1日".encode(),
    b"2019-02-29",
    b"9999-99-99",
    b"-1",
    b"0",
    b"99999999999999999999999",
    b"1e309",
    b"<script>alert(1)</script>",
    b"' OR 1=1 --",
    "𠮷野家".encode(),  # outside the BMP
    "\u202e\u200b".encode(),
    b"x" * 25_000,  # past every text limit
    "あ".encode() * 70_000,  # past the 2 MiB request limit with the other fields
]

values = st.one_of(
    st.sampled_from(HOSTILE),
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda s: s.encode("utf-8", "surrogatepass")),
)


def body(fields: dict[bytes, bytes], raw: bool) -> bytes:
    """urlencoded by hand; *raw* leaves bytes unescaped, as a broken client might send them."""
    if raw:
        return b"&".join(k + b"=" + v for k, v in fields.items())
    return b"&".join(
        quote_from_bytes(k).encode() + b"=" + quote_from_bytes(v).encode()
        for k, v in fields.items()
    )


def form_strategy(names: list[str]):
    keys = st.sampled_from([n.encode() for n in names]) | st.binary(min_size=1, max_size=12)
    return st.tuples(st.dictionaries(keys, values, max_size=len(names) + 3), st.booleans())


REFUSED_OR_SHOWN = {200, 400, 403, 404, 409, 413, 422, 429}


def fuzz(app, who: str, path: str, names: list[str]) -> None:
    world = fresh_world()
    client = client_for(app, world, who) if who != "anonymous" else app.test_client()
    url = path.format(**world)
    failures: list[str] = []

    @FUZZ
    @given(form_strategy(names))
    def run(example):
        fields, raw = example
        before = fingerprint()
        response = client.post(
            url, data=body(fields, raw), content_type="application/x-www-form-urlencoded"
        )
        response.close()
        if response.status_code >= 500:
            failures.append(f"{response.status_code} for {fields!r:.300}")
        elif response.status_code in REFUSED_OR_SHOWN and fingerprint() != before:
            failures.append(f"{response.status_code} wrote something for {fields!r:.300}")

    run()
    assert failures == []


ITEM_FIELDS = [
    "title", "applied_on", "target_kind", "route", "section", "bureau", "division", "contact",
    "extension", "policy_ref", "in_implementation_plan", "summary", "discussion_points-0",
    "history-0-when", "history-0-meeting", "history-0-content", "history-0-remarks",
    "public_comment_planned", "public_comment_period_text", "press_release", "council_channel",
    "council_timing", "council_regular_session", "ordinance_kind", "ordinance_change",
    "ordinance_submission_label", "ordinance_council_submission", "advisory_body",
    "personal_info_use", "coordination-0-department", "coordination-0-content",
    "coordination-0-status", "schedule_notes", "remarks", "details-0-heading", "details-0-body",
    "opinion_notes-0-opinion_id", "opinion_notes-0-text",
    "version", "save_and_submit", "add_history", "remove_details-0", "up_coordination-99999999",
]  # fmt: skip


def test_the_request_form(app):
    fuzz(app, "own", "/items/new", ITEM_FIELDS)


def test_editing_a_request_form(app):
    fuzz(app, "own", "/items/{draft}/edit", ITEM_FIELDS)


def test_the_login_form(app):
    fuzz(app, "anonymous", "/login", ["login", "password"])


def test_the_meeting_form(app):
    fuzz(
        app,
        "secretariat",
        "/meetings/new",
        ["kind", "date", "number", "joint_name", "start_time", "venue", "chair"],
    )


def test_the_meeting_room(app):
    fuzz(
        app,
        "secretariat",
        "/meetings/{planned}/room/1",
        [
            "version", "presenter", "attendance-0-section", "attendance-0-deputy",
            "opinions-0-opinion", "opinions-0-response", "opinions-0-follow_up",
            "special_notes", "outcome", "forward_to", "save_next", "add_opinions",
        ],
    )  # fmt: skip


def test_the_agenda_builder(app):
    fuzz(app, "secretariat", "/meetings/{planned}/agenda/add", ["item_id", "presenter"])
    fuzz(app, "secretariat", "/meetings/{planned}/agenda/up", ["item_id", "version"])


def test_opening_a_public_comment(app):
    fuzz(
        app,
        "secretariat",
        "/public-comments/{approved_pc}/open",
        ["version", "published_on", "closes_on", "how_to_submit", "shortened_reason"],
    )


def test_public_comment_opinions_and_answers(app):
    fuzz(app, "secretariat", "/public-comments/{in_pc}/opinions", ["summary", "submitter_kind"])
    fuzz(
        app,
        "secretariat",
        "/public-comments/{answering}/opinions/1",
        ["number", "city_view", "handling"],
    )
    fuzz(app, "secretariat", "/public-comments/{closed_pc}/publish", ["version", "changes_made"])


def test_returning_and_withdrawing_with_a_reason(app):
    fuzz(app, "secretariat", "/items/{submitted}/events/return", ["version", "reason", "from"])


# -- the JSON API: bytes a JSON encoder would never produce --------------------------------------

API_BODIES = [
    b'{"title": "\xff\xfe", "section": "x"}',
    b'{"title": "\xed\xa0\x80"}',
    b'{"title": "\\ud800", "section": "\\udfff"}',
    b'{"title": "a\\u0000b", "section": "\\u0000"}',
    b'{"title": "' + b"x" * 30_000 + b'", "section": "x"}',
    '{"title": "t", "applied_on": "平成31年5月25日"}'.encode(),
    b'{"title": 12, "section": ["x"], "summary": {"a": 1}}',
    b'{"title": "t", "version": 99999999999999999999999}',
    b"[" * 5000,
]


@pytest.mark.parametrize("raw", API_BODIES, ids=range(len(API_BODIES)))
def test_the_api_refuses_what_no_json_encoder_sends(app, raw):
    world = fresh_world()
    headers = {"Authorization": f"Bearer {world['tokens']['secretariat']}"}
    client = app.test_client()
    for method, path in (
        ("POST", "/api/v1/items"),
        ("PATCH", f"/api/v1/items/{world['draft']}"),
        ("POST", f"/api/v1/items/{world['in_pc']}/public-comment/opinions"),
    ):
        before = fingerprint()
        response = client.open(
            path, method=method, data=raw, headers=headers, content_type="application/json"
        )
        assert response.status_code in (400, 409, 413, 422), (method, path, response.status_code)
        assert response.get_json()["error"]["message"]
        assert fingerprint() == before


def test_the_admin_forms(app):
    own = "/admin/users/{users[own].id}"
    fuzz(app, "admin", "/admin/users/new", ["login", "display_name", "email", "role", "section"])
    fuzz(app, "admin", own, ["display_name", "email", "role", "section"])
    fuzz(app, "admin", own + "/disable", ["disable-reason", "disable-confirm"])
    fuzz(app, "admin", own + "/tokens", ["token-name", "token-days"])
    fuzz(app, "admin", "/admin/unlock", ["login"])


def test_the_admin_section_and_meeting_kind_forms(app):
    section = "/admin/sections/{users[own].section_id}"
    fuzz(app, "admin", "/admin/sections", ["name", "bureau", "division"])
    fuzz(app, "admin", section + "/rename", ["rename-name"])
    fuzz(app, "admin", section + "/merge", ["merge-into", "merge-confirm"])
    kind = ["name", "level", "sort_order", "review", "deadline_days"]
    fuzz(app, "admin", "/admin/meeting-kinds", ["code", *kind])
    fuzz(app, "admin", "/admin/meeting-kinds/section_managers", kind)
