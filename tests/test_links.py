"""Every link a page shows leads somewhere its reader may go: no 403, 404 or 500 behind a link.

The access matrix asks each route what each role gets; this asks the pages what they offer. One
crawl per role over a small demo city, from the home page and the public index, following every
link of the site (one page of each shape: /items/12 stands for every item).
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from workflow.demo.load import DEMO_PASSWORD

LINK = re.compile(r'href="(/[^"#]*)"')
ROLES = ("secretariat", "dept", "viewer", "admin", None)  # the demo's users; None: not signed in


def _shape(url: str) -> str:
    """The route of a PDF (digits left out), or a page of a row (an item's page offers what its
    state allows); query values left out: one list page stands for the others."""
    parts = urlsplit(url)
    keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    path = re.sub(r"\d+", "N", parts.path) if parts.path.endswith(".pdf") else parts.path
    return path + "?" + "&".join(keys)


def _to_a_pdf_page(location: str) -> bool:
    """A redirect to a page of one of our PDFs (the 会議資料一式's agenda entries, ``#page=N``):
    the link is judged by the PDF it lands on."""
    target = urlsplit(location)
    return not target.netloc and target.path.endswith(".pdf") and target.fragment != ""


def _crawl(client, *, signed_in: bool) -> tuple[dict[str, int], list[str]]:
    """Status of one page of each shape reached by links; the links that led nowhere."""
    status: dict[str, int] = {}
    broken: list[str] = []
    todo = [("/", "start"), ("/public/", "start")]
    while todo:
        url, came_from = todo.pop()
        shape = _shape(url)
        if shape in status or url.startswith("/static/") or url == "/logout":
            continue
        response = client.get(url)
        if response.status_code == 302 and _to_a_pdf_page(response.location):
            response = client.get(urlsplit(response.location)._replace(fragment="").geturl())
        status[shape] = response.status_code
        to_login = response.status_code == 302 and "/login" in response.location
        if response.status_code != 200 and (signed_in or not to_login):
            broken.append(f"{url} ({response.status_code}) linked from {came_from}")
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            todo += [(html.unescape(link), url) for link in LINK.findall(page)]
    return status, broken


@pytest.fixture
def city(app):
    result = app.test_cli_runner().invoke(args=["demo", "generate", "--items", "60", "--seed", "3"])
    assert result.exit_code == 0, result.output
    return app


@pytest.mark.parametrize("login", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_no_link_leads_to_a_refusal_or_nothing(city, login):
    client = city.test_client()
    if login:
        response = client.post("/login", data={"login": login, "password": DEMO_PASSWORD})
        assert response.status_code == 302
    status, broken = _crawl(client, signed_in=login is not None)
    assert broken == []
    # The crawl went through the site: items, meetings and the public pages with their PDFs.
    shapes = {re.sub(r"\d+", "N", shape) for shape in status}
    assert "/public/comments/N?" in shapes
    assert any(shape.endswith(".pdf?") for shape in shapes)
    if login:
        paths = {shape.partition("?")[0] for shape in shapes}  # a department's list is ?mine=1
        assert {"/items/", "/items/N", "/meetings/", "/meetings/N"} <= paths
    if login == "admin":  # and the admin's screens, each user and section page among them
        assert {"/admin/", "/admin/users", "/admin/users/N", "/admin/sections/N"} <= paths
        assert {"/admin/meeting-kinds/section_managers", "/admin/audit", "/admin/imports/"} <= paths
