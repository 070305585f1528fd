"""CSRF: every state-changing page route refuses a request without the token, and changes nothing.

Walks ``app.url_map``, so a new POST route is covered as soon as it exists (its valid request
comes from the access matrix, which must name every route). The JSON API takes no cookies, only
bearer tokens, so a forged cross-site request there has nothing to ride on.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.support import CASES, client_for, fingerprint, fresh_world, request_case
from workflow.extensions import db
from workflow.models import UserSession

pytestmark = pytest.mark.usefixtures("app")

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def page_writes(app) -> list[tuple[str, str]]:
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith("api.") and rule.endpoint != "static"
        for method in rule.methods & set(WRITES)
    )


def allowed_visitor(endpoint: str, method: str) -> str:
    """A visitor whose request with a token would change something (so CSRF is what stops it)."""
    expect = CASES[(endpoint, method)].expect
    return next(who for who in expect if expect[who].endswith("+"))


def test_every_page_write_is_walked(app):
    assert len(page_writes(app)) >= 15
    for endpoint, method in page_writes(app):
        assert (endpoint, method) in CASES, endpoint


def test_no_page_write_goes_through_without_the_csrf_token(app):
    failures = []
    for endpoint, method in page_writes(app):
        who = allowed_visitor(endpoint, method)
        world = fresh_world()
        client = client_for(app, world, who) if who != "anonymous" else app.test_client()
        app.config["WTF_CSRF_ENABLED"] = True
        try:
            before = fingerprint()
            response = request_case(client, world, who, endpoint, method)
            after = fingerprint()
        finally:
            app.config["WTF_CSRF_ENABLED"] = False
        html = response.get_data(as_text=True)
        if response.status_code != 400 or "リクエストが正しくありません" not in html:
            failures.append(f"{endpoint} {method} as {who}: {response.status_code}")
        if after != before:
            failures.append(f"{endpoint} {method} as {who}: changed the database")
    assert failures == []


def test_the_same_requests_with_the_token_go_through(app):
    """The control: with a valid token the walk's requests do change things."""
    endpoint, method = ("items.fire", "POST")
    who = allowed_visitor(endpoint, method)
    world = fresh_world()
    client = client_for(app, world, who)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        html = client.get(f"/items/{world['submitted']}").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        before = fingerprint()
        path = CASES[(endpoint, method)].path(world)
        response = client.post(
            path, data={**CASES[(endpoint, method)].data(world), "csrf_token": token}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 302
    assert fingerprint() != before


def test_the_api_ignores_the_session_cookie(app):
    """A signed-in browser cannot be made to call the API: without a bearer token it is anonymous."""
    world = fresh_world()
    client = client_for(app, world, "secretariat")
    assert len(db.session.scalars(sa.select(UserSession)).all()) == 1
    before = fingerprint()
    response = client.post("/api/v1/items", json={"title": "偽の申込", "section": "情報政策課"})
    assert response.status_code == 401
    assert fingerprint() == before
