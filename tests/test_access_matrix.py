"""Every route × every kind of visitor, with the answer each must get (OWASP ASVS V4).

The table (``CASES`` in tests/support.py, shared with the CSRF tests) names every rule and method
of ``app.url_map`` (static files aside); a route added without an entry there fails
:func:`test_every_route_has_an_expectation`. Each case runs on a realistic database (the real
sample's whole path, plus items and meetings in the other states), so every URL parameter names a
real row. Codes:

- ``"login"``: a redirect to the sign-in page, to come back after signing in;
- ``"302"``: a redirect elsewhere, nothing changed (a refusal shown as a flash message, or the
  sign-in page sending a signed-in user home); ``"302+"``: a redirect after a change was made;
- any other number: that status; with ``+`` the database changed, without it nothing did.

GET routes must never change anything (every case checks the database before and after).
"""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support import CASES, WHO, client_for, fingerprint, fresh_world, request_case

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
        response = request_case(clients[who], world, who, endpoint, method)
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
        response = request_case(client, world, who, endpoint, method)
        label = f"{method} {CASES[(endpoint, method)].path(world)} as {who}"
        changed = fingerprint() != before
        try:
            check(response, expect[who], changed, label)
        except AssertionError as exc:
            failures.append(str(exc))
        if changed:
            world = fresh_world()
    assert failures == []
