"""PDF downloads name the file in Japanese in a header every server accepts (Latin-1 only)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.factories import make_section, make_user
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")


@pytest.mark.parametrize(
    ("url", "disposition"),
    [
        ("/api/v1/meetings/{meeting}/minutes.pdf", "inline"),
        ("/api/v1/items/{item}/form.pdf", "inline"),
        ("/public/meetings/{meeting}/minutes.pdf", "attachment"),
        ("/public/items/{item}/form.pdf", "attachment"),
    ],
)
def test_the_header_is_latin_1_and_carries_the_japanese_name(client, url, disposition):
    path = play_sample(
        make_user(Role.DEPARTMENT, make_section("情報政策課")),
        make_user(Role.SECRETARIAT),
        until="section_managers",
    )
    db.session.commit()
    meeting = path.meetings["section_managers"]
    response = client.get(url.format(meeting=meeting.id, item=path.item.id))
    assert response.status_code == 200
    header = response.headers["Content-Disposition"]
    header.encode("latin-1")  # gunicorn answers 500 to anything else
    assert header.startswith(f"{disposition}; filename=")
    name = unquote(header.split("filename*=UTF-8''", 1)[1])
    assert name.endswith(".pdf")
    assert any("\u3040" <= c <= "\u9fff" for c in name)  # the Japanese name survives
