"""Security headers on every response, pages the CSP cannot break, the password policy, limits on
input (request size), and a log line for every refused access."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.factories import make_item, make_user
from tests.support import client_for, fingerprint, fresh_world, make_app
from workflow import PROJECT_ROOT
from workflow.api.common import ApiToken
from workflow.extensions import db
from workflow.models import User
from workflow.passwords import common_passwords, normalize, password_problem
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

EXPECTED = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def signed_in(app, user):
    client = app.test_client()
    with client.session_transaction() as s:
        from workflow.models import UserSession

        row = UserSession.start(user)
        db.session.add(row)
        db.session.commit()
        s["_user_id"] = row.token
        s["_fresh"] = True
    return client


@pytest.fixture
def staff(app):
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.SUBMITTED, secretariat=secretariat)
    db.session.commit()
    return secretariat, item


def _responses(app, staff):
    secretariat, item = staff
    anonymous = app.test_client()
    client = signed_in(app, secretariat)
    token_row, token = ApiToken.issue(secretariat)
    db.session.add(token_row)
    db.session.commit()
    responses = {
        "login page": anonymous.get("/login"),
        "redirect to login": anonymous.get("/"),
        "home": client.get("/"),
        "item page": client.get(f"/items/{item.id}"),
        "404 page": client.get("/no-such-page"),
        "403 page": signed_in(app, make_user(Role.VIEWER)).get("/items/intake"),
        "405 page": client.get("/logout"),
        "static file": anonymous.get("/static/css/app.css"),
        "public page": anonymous.get("/public/"),
        "api json": anonymous.get("/api/v1/openapi.json"),
        "api error": anonymous.post("/api/v1/items"),
        "api as staff": client.get(
            f"/api/v1/items/{item.id}", headers={"Authorization": f"Bearer {token}"}
        ),
    }
    for response in responses.values():
        response.get_data()  # read it all, so the static file is closed
        response.close()
    return responses


def test_every_kind_of_response_carries_the_security_headers(app, staff):
    for name, response in _responses(app, staff).items():
        for header, value in EXPECTED.items():
            assert response.headers.get(header) == value, (name, header)
        assert "Strict-Transport-Security" not in response.headers, name


def test_hsts_only_when_served_over_https(database_url, staff):
    https = make_app(database_url, SESSION_COOKIE_SECURE=True)
    try:
        response = https.test_client().get("https://localhost/login")
        assert (
            response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
        )
        assert response.headers["Content-Security-Policy"] == EXPECTED["Content-Security-Policy"]
    finally:
        with https.app_context():
            db.engine.dispose()


def test_chogi_https_turns_hsts_on(database_url, monkeypatch):
    monkeypatch.setenv("CHOGI_HTTPS", "1")
    https = make_app(database_url)
    try:
        assert "Strict-Transport-Security" in https.test_client().get("/login").headers
    finally:
        with https.app_context():
            db.engine.dispose()


# -- nothing the CSP would block ----------------------------------------------------------------

_INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event-handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_templates_have_no_inline_script_or_style():
    found = []
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in _INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{line}: {what}")
    assert found == []


def test_the_workflow_diagram_uses_presentation_attributes_not_style():
    from workflow.states.diagram import item_diagram_svg

    for status in ItemStatus:
        svg = item_diagram_svg(status)
        for pattern, what in _INLINE:
            assert not pattern.search(svg), (status, what)


def test_rendered_pages_have_no_inline_script_or_style(app, staff):
    for name, response in _responses(app, staff).items():
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        for pattern, what in _INLINE:
            assert not pattern.search(html), (name, what)


# -- passwords ----------------------------------------------------------------------------------


def test_the_common_password_list_is_shipped_and_large():
    words = common_passwords()
    assert len(words) > 10_000
    assert {"password", "123456", "qwerty", "iloveyou"} <= words
    assert Path(PROJECT_ROOT / "workflow" / "data" / "README.md").exists()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-11chr", "12文字以上"),
        ("", "12文字以上"),
        ("q1w2e3r4t5y6", "よく使われていて"),
        ("Q1W2E3R4T5Y6", "よく使われていて"),  # case is ignored
        ("ｑ１ｗ２ｅ３ｒ４ｔ５ｙ６", "よく使われていて"),  # so is full width
        ("  qwerty123456  ", "よく使われていて"),  # and outer spaces
        ("tab\tin-the-middle", "制御文字"),
        ("x" * 257, "256文字以内"),
    ],
)
def test_weak_passwords_are_refused_in_japanese(password, problem):
    assert problem in password_problem(password)


@pytest.mark.parametrize(
    "password", ["correct-horse-battery", "庁議事務局の合言葉です２０２６", "x" * 256]
)
def test_good_passwords_pass(password):
    assert password_problem(password) is None


def test_normalize_folds_width_and_case():
    assert normalize(" ＰａｓｓＷＯＲＤ ") == "password"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("qwerty123456", "よく使われていて推測されやすい"),
        ("abc", "12文字以上"),
    ],
)
def test_flask_user_create_applies_the_policy(app, password, message):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    runner = CliRunner()
    result = runner.invoke(
        app.cli, ["user", "create", "newuser", "--role", "viewer"], input=password + "\n"
    )
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_flask_user_create_takes_a_good_password(app):
    result = CliRunner().invoke(
        app.cli,
        ["user", "create", "newuser", "--role", "viewer"],
        input="correct-horse-battery\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.login == "newuser"))
    assert user.check_password("correct-horse-battery")


# -- request size -------------------------------------------------------------------------------

BIG = b"x" * (2 * 1024 * 1024 + 1)


def test_an_oversized_form_gets_a_japanese_413_page(app, staff):
    client = signed_in(app, staff[0])
    response = client.post(
        "/items/new", data=b"title=" + BIG, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "送信された内容が大きすぎます" in html
    assert response.headers["Content-Security-Policy"] == EXPECTED["Content-Security-Policy"]


def test_an_oversized_api_body_gets_a_japanese_json_413(app, staff):
    secretariat = staff[0]
    token_row, token = ApiToken.issue(secretariat)
    db.session.add(token_row)
    db.session.commit()
    response = app.test_client().post(
        "/api/v1/items",
        data=BIG,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert "大きすぎます" in response.get_json()["error"]["message"]


# -- refused access is logged -------------------------------------------------------------------

STAMP = r"at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def test_a_refused_page_is_logged_with_user_path_and_utc_time(app, staff, caplog):
    caplog.set_level(logging.WARNING, logger="workflow")
    viewer = make_user(Role.VIEWER, login="viewer1")
    db.session.commit()
    assert signed_in(app, viewer).get("/items/intake").status_code == 403
    [message] = [r.getMessage() for r in caplog.records if r.name == "workflow.security"]
    assert re.fullmatch(
        rf"access refused: 403 GET /items/intake user=viewer1 address=127\.0\.0\.1 {STAMP}",
        message,
    )


def test_a_refused_api_call_is_logged(app, staff, caplog):
    caplog.set_level(logging.WARNING, logger="workflow")
    client = app.test_client()
    assert client.post("/api/v1/items", json={}).status_code == 401
    assert client.get("/api/v1/items", headers={"Authorization": "Bearer nope"}).status_code == 401
    messages = [r.getMessage() for r in caplog.records if r.name == "workflow.security"]
    assert len(messages) == 2
    assert re.fullmatch(
        rf"access refused: 401 POST /api/v1/items user=anonymous .* {STAMP}", messages[0]
    )


# -- limits on every input, in Japanese ---------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "path", "data", "message"),
    [
        ("own", "/items/new", {"title": "題" * 201, "section": "情報政策課"}, "200文字以内"),
        (
            "own",
            "/items/new",
            {"title": "題", "section": "情報政策課", "summary": "x" * 20_001},
            "20000文字以内",
        ),
        (
            "own",
            "/items/new",
            {"title": "題", "section": "情報政策課", "history-0-when": "x" * 101},
            "100文字以内",
        ),
        ("secretariat", "/meetings/new", {"kind": "section_managers", "date": "R2.4.1", "venue": "x" * 201}, "200文字以内"),
        ("secretariat", "/meetings/{planned}/room/1", {"opinions-0-opinion": "x" * 20_001}, "20000文字以内"),
        ("secretariat", "/public-comments/{in_pc}/opinions", {"summary": "意見", "submitter_kind": "x" * 51}, "50文字以内"),
        ("secretariat", "/public-comments/{approved_pc}/open", {"published_on": "R2.1.6", "closes_on": "R2.2.4", "how_to_submit": "x" * 2001}, "2000文字以内"),
    ],
    ids=["title", "summary", "history-row", "venue", "opinion", "submitter-kind", "how-to-submit"],
)  # fmt: skip
def test_every_form_states_its_limits_in_japanese(app, who, path, data, message):
    world = fresh_world()
    client = client_for(app, world, who)
    before = fingerprint()
    response = client.post(path.format(**world), data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert "（現在" in response.get_data(as_text=True)
    assert fingerprint() == before


def test_sign_ins_reach_stderr_at_info_level(app):
    """Without any logging set-up, a successful sign-in is still written (not only warnings)."""
    assert logging.getLogger("workflow.auth").isEnabledFor(logging.INFO)
    assert logging.getLogger("workflow.security").isEnabledFor(logging.WARNING)
    assert app.logger.name == "workflow"  # their parent, which has Flask's stderr handler


# -- URLs a person can type: never a 500 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/items/99999999999", 404),
        ("/items/2147483648/edit", 404),
        ("/meetings/99999999999", 404),
        ("/meetings/1/room/99999999999", 404),
        ("/public-comments/99999999999", 404),
        ("/public/items/99999999999", 404),
        ("/public/meetings/99999999999/minutes.pdf", 404),
        ("/meetings/?kind=%00", 400),
        ("/items/?q=a%00b", 400),
        ("/meetings/?fy=99999999999999", 200),
        ("/meetings/?fy=-5", 200),
        ("/items/?q=%ff%fe", 200),
    ],
)
def test_typed_urls_get_an_answer_not_a_server_error(app, url, status):
    world = fresh_world()
    response = client_for(app, world, "secretariat").get(url)
    assert response.status_code == status
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/api/v1/items/99999999999", "/api/v1/meetings/2147483648", "/api/v1/items?q=%00"]
)
def test_typed_api_urls_get_the_json_error(app, url):
    response = app.test_client().get(url)
    assert response.status_code in (400, 404, 422)
    assert response.get_json()["error"]["message"]


def _digits(number: int, zero: str) -> str:
    """*number* written with the digits starting at *zero* (full-width ０, Arabic-Indic ٠ …)."""
    return "".join(chr(ord(zero) + int(d)) for d in str(number))


@pytest.mark.parametrize(
    ("zero", "status"),
    [("0", 200), ("\uff10", 404), ("\u0660", 404)],
    ids=["ascii", "full-width", "arabic-indic"],
)
@pytest.mark.parametrize(
    "path",
    [
        "/items/{draft}",
        "/items/{draft}/versions",
        "/meetings/{held}",
        "/public/items/{sample}",
        "/api/v1/items/{draft}",
        "/api/v1/meetings/{held}",
    ],
)
def test_ids_in_urls_are_ascii_digits_only(app, path, zero, status):
    """/items/１ is not item 1: another script's digits are an unknown id (404), page and API."""
    world = fresh_world()
    ids = {key: _digits(world[key], zero) for key in ("draft", "held", "sample")}
    client = client_for(app, world, "secretariat")
    headers = {"Authorization": f"Bearer {world['tokens']['secretariat']}"}
    response = client.get(path.format(**ids), headers=headers)
    assert response.status_code == status
    if status == 404 and path.startswith("/api/"):
        assert response.get_json()["error"]["message"]
    elif status == 404:
        assert "<html" in response.get_data(as_text=True)


# -- caching --------------------------------------------------------------------------------------


def _token_for(user) -> str:
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.commit()
    return token


def test_what_a_signed_in_user_or_a_token_is_shown_is_never_stored(app, staff):
    secretariat, item = staff
    token = {"Authorization": f"Bearer {_token_for(secretariat)}"}
    client = signed_in(app, secretariat)
    answers = {
        "page": client.get(f"/items/{item.id}"),
        "public page, signed in": client.get("/public/"),
        "API item": app.test_client().get(f"/api/v1/items/{item.id}", headers=token),
        "API list": app.test_client().get("/api/v1/items", headers=token),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
        assert response.headers["Cache-Control"] == "no-store", name


def test_public_answers_keep_their_caching(app, staff):
    anonymous = app.test_client()
    answers = {
        "public page": anonymous.get("/public/"),
        "public API list": anonymous.get("/api/v1/items"),
        "openapi.json": anonymous.get("/api/v1/openapi.json"),
        "static file": anonymous.get("/static/css/app.css"),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
        assert "no-store" not in response.headers.get("Cache-Control", ""), name
        response.close()


# -- a body without Content-Length ----------------------------------------------------------------


def _chunked(client, path: str, body: bytes, **kw):
    """POST *body* as a server hands over a chunked one: no Content-Length, a terminated stream."""
    import io

    return client.post(
        path,
        headers={"Transfer-Encoding": "chunked", **kw.pop("headers", {})},
        environ_overrides={"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
        **kw,
    )


def _items() -> int:
    from workflow.models import Item

    return db.session.scalar(sa.select(sa.func.count()).select_from(Item))


def test_a_chunked_api_body_over_the_limit_is_413_and_never_parsed(app, staff):
    secretariat, _ = staff
    before = _items()
    # What is read up to the limit is valid JSON; what comes after it is junk.
    body = b'{"title": "x"}' + b" " * (2 * 1024 * 1024) + b"junk"
    response = _chunked(
        app.test_client(),
        "/api/v1/items",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {_token_for(secretariat)}"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert _items() == before


def test_a_chunked_api_body_within_the_limit_is_read_whole(app, staff):
    secretariat, _ = staff
    response = _chunked(
        app.test_client(),
        "/api/v1/items",
        b"[1, 2]",
        content_type="application/json",
        headers={"Authorization": f"Bearer {_token_for(secretariat)}"},
    )
    # Read (the body reached the parser), refused for its shape, not its size.
    assert response.status_code == 400
    assert "JSON オブジェクト" in response.get_json()["error"]["message"]


def test_a_chunked_form_over_the_limit_gets_the_japanese_413_page(app, staff):
    client = signed_in(app, staff[0])
    response = _chunked(
        client, "/items/new", b"title=" + BIG, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert "送信された内容が大きすぎます" in response.get_data(as_text=True)


def test_a_chunked_body_over_the_limit_through_gunicorn_is_413(app, staff, server):
    secretariat, _ = staff
    before = _items()
    token = _token_for(secretariat)
    body = [b'{"title": "x"}', b" " * (2 * 1024 * 1024), b"junk"]
    status, _headers, answer = server.request(
        "POST",
        "/api/v1/items",
        body=iter(body),  # an iterable without a length: http.client sends it chunked
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert status == 413, answer
    assert b"payload_too_large" in answer
    db.session.rollback()
    assert _items() == before
