"""What the test modules share: apps and databases, signing in, counting queries, the access
table and its world, and app servers in their own processes. Factories live in tests/factories.py;
fixtures in tests/conftest.py. Test modules import from here, never from one another.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage

from tests.factories import PASSWORD, item_meeting_id, make_item, make_section, make_user
from workflow import PROJECT_ROOT, create_app
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.models import (
    ApiToken,
    HistoryEvent,
    Item,
    LoginAttempt,
    Meeting,
    PdfCache,
    SearchDocument,
    UserSession,
    seed_meeting_kinds,
)
from workflow.models.history import create_append_only_guard, drop_append_only_guard
from workflow.queries.admin import newest_token_id, password_stamp
from workflow.services import meetings, public_comment
from workflow.states.states import ItemStatus, Role

# -- apps and databases -------------------------------------------------------------------------

PG_ADMIN_URL = os.environ.get(
    "CHOGI_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def create_pg_database() -> str:
    """Create an empty database on the PostgreSQL server; return its URL."""
    name = f"chogi_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop the database of *url*, made by :func:`create_pg_database`."""
    name = sa.make_url(url).database
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


class FreshGClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as it does in production.

    The ``app`` fixture keeps one app context pushed for the whole test and Flask reuses it for
    each request, so ``g`` would outlive a request: Flask-Login caches the signed-in user there
    and Flask-WTF the CSRF token, and a second client (or a timed-out session) would see them.
    """

    def open(self, *args, **kwargs):
        if has_app_context():  # not in a thread of its own, where the request makes a fresh one
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


def make_app(database_url: str, **config) -> Flask:
    """An app on the test database (used by fixtures and by tests that need a second one)."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            **config,
        }
    )
    app.test_client_class = FreshGClient
    return app


def empty_all_tables() -> None:
    """Delete every row of every table (history too) and commit."""
    tables = db.metadata.sorted_tables
    # The database refuses to delete history (workflow.models.history): lift that for the wipe.
    drop_append_only_guard(db.session.connection())
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
        # Ids start at 1 again, as PostgreSQL's RESTART IDENTITY (AUTOINCREMENT remembers them).
        db.session.execute(sa.text("DELETE FROM sqlite_sequence"))
    create_append_only_guard(db.session.connection())
    db.session.commit()


def flask_db(app: Flask, *args: str) -> None:
    """Run ``flask db …`` the way an operator does."""
    result = app.test_cli_runner().invoke(args=["db", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL statements the database is sent inside the block."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def admin_events() -> list[str]:
    """The events of the admin changes in the history chain (``admin.user.create`` …), in order."""
    return list(
        db.session.scalars(
            sa.select(HistoryEvent.event)
            .where(HistoryEvent.event.like("admin.%"))
            .order_by(HistoryEvent.id)
        )
    )


# -- signing in, pages and the API --------------------------------------------------------------

API = "/api/v1"


def meeting_numbers(kind: str = "section_managers") -> list[tuple[str, int]]:
    """(ISO date, 第N回) of every meeting of *kind*, in date order: how numbering tests read it."""
    from workflow.models import Meeting

    rows = db.session.execute(
        sa.select(Meeting.date, Meeting.number)
        .where(Meeting.kind == kind)
        .order_by(Meeting.date, Meeting.id)
    ).all()
    return [(day.isoformat(), number) for day, number in rows]


def login(client: FlaskClient, user) -> FlaskClient:
    """Sign *client* in as *user* through the sign-in page (factories' PASSWORD)."""
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302
    return client


def token_for(user) -> str:
    """A new API token of *user*."""
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.flush()
    return token


def auth(user) -> dict[str, str]:
    """Headers that act as *user* (a fresh token each call)."""
    return {"Authorization": f"Bearer {token_for(user)}"}


def assert_pager(html: str, page: int, page_url: Callable[[int], str], *, has_next: bool) -> None:
    """What every paged list's pager says (the ``pager`` macro, templates/macros/ui.html).

    *page* is the current page; a link to the previous and to the next page, each exactly when
    that page exists, to ``page_url(n)`` as the page writes it (``&`` as ``&amp;``)."""
    assert f'<li aria-current="page">{page}ページ目</li>' in html
    if page > 1:
        assert f'href="{page_url(page - 1)}" rel="prev">前の50件' in html
    else:
        assert "前の50件" not in html
    if has_next:
        assert f'href="{page_url(page + 1)}" rel="next">次の50件' in html
    else:
        assert "次の50件" not in html


# What the sample's whole path leaves, through the services (test_sample_path) and the API
# (test_api).
SAMPLE_EVENTS = [
    "submit",
    "accept",
    "schedule",
    "record_outcome",
    "schedule",
    "record_outcome",
    "schedule",
    "record_outcome",
    "submit_amendment",
    "confirm_amendment",
    "open_public_comment",
    "close_public_comment",
    "publish_comment_results",
]
SAMPLE_REVIEW_DATES = {
    "section_managers": "2019-08-21",
    "affairs_coordination": "2019-10-04",
    "policy_coordination": "2019-10-11",
}


# -- the access table and its world -------------------------------------------------------------
#
# Every route × every kind of visitor, with the answer each must get (tests/test_access_matrix.py
# explains the codes); tests/test_security_csrf.py sends the same requests without a CSRF token.

WHO = ("anonymous", "viewer", "own", "other", "secretariat", "admin")

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
    _attach_world(w, users, sample)
    # An account an admin disabled (the admin pages' 「有効にする」).
    w["disabled"] = make_user(Role.VIEWER, login="disabled", active=False).id
    _reshuffle_world(w, users)
    _deadline_world(w)
    _room_draft_world(w, users)
    w["tokens"], w["token_ids"] = {}, {}
    for who, user in users.items():
        row, token = ApiToken.issue(user)
        db.session.add(row)
        db.session.flush()
        w["tokens"][who], w["token_ids"][who] = token, row.id
    db.session.commit()
    return w


RESHUFFLE_CSV = "login,name,email,role,section,action\nnewbie,新人 一郎,,department,財政課,create\n"


def _reshuffle_world(w: dict[str, Any], users: dict[str, Any]) -> None:
    """An April reshuffle file previewed and not applied yet (workflow.services.reshuffle)."""
    from workflow.services import reshuffle

    plan = reshuffle.check(RESHUFFLE_CSV)
    row = reshuffle.store(users["admin"], "異動.csv", RESHUFFLE_CSV.encode(), RESHUFFLE_CSV, plan)
    w["user_import"] = row.id
    w["user_import_digest"] = reshuffle.digest(row)


# -- issue 19: deadlines --


def _deadline_world(w: dict[str, Any]) -> None:
    """A 閉庁日 the admin added, and the planned meeting's date (a deadline set before it)."""
    from datetime import timedelta

    from workflow.models import ClosedDay

    row = ClosedDay(day=date(2026, 6, 1), name="市制記念日")
    db.session.add(row)
    db.session.flush()
    w["closed_day"] = row.id
    planned = db.session.get(Meeting, w["planned"])
    w["planned_deadline"] = (planned.date - timedelta(days=7)).isoformat()


def _reshuffle_upload() -> dict:
    """A multipart body with a clean reshuffle CSV as ``file``."""
    csv = RESHUFFLE_CSV.replace("newbie", "other_newbie")
    return {"file": (io.BytesIO(csv.encode("cp932")), "異動.csv")}


def _room_draft_world(w: dict[str, Any], users: dict[str, Any]) -> None:
    """issue 20: the secretariat's unsaved draft of the planned meeting's first entry (what
    「下書きを破棄する」 throws away)."""
    from workflow.services import room_drafts

    planned = db.session.get(Meeting, w["planned"])
    room_drafts.save_draft(
        users["secretariat"],
        planned,
        planned.entries[0],
        [("opinions-0-opinion", "保存していない意見")],
        "",
    )


def _attach_world(w: dict[str, Any], users: dict[str, Any], sample) -> None:
    """資料 for the access table: on the accepted item, the planned meeting, the published
    meeting, and one frozen into the sample's published entry."""
    from tests.attachment_files import pdf_bytes
    from workflow import storage
    from workflow.files import check_upload
    from workflow.models import Attachment
    from workflow.services import attachments
    from workflow.states.states import PdfStatus

    def upload() -> Any:
        return check_upload(FileStorage(io.BytesIO(pdf_bytes()), filename="資料.pdf"))

    own, sec = users["own"], users["secretariat"]
    accepted = db.session.get(Item, w["accepted"])
    w["attachment"] = attachments.add(own, accepted, upload(), title="資料").id
    w["attachment2"] = attachments.add(own, accepted, upload(), title="資料その２").id
    planned = db.session.get(Meeting, w["planned"])
    w["meeting_attachment"] = attachments.add(sec, planned, upload(), title="会議資料").id
    attachments.add(sec, planned, upload(), title="会議資料その２")
    published = db.session.get(Meeting, w["published"])
    # Handed out before the meeting was held (a held meeting's 資料 no longer change).
    stored = storage.store(io.BytesIO(pdf_bytes()), "application/pdf", pdf_status=PdfStatus.READY)
    stored.pdf_file_id, stored.pages = stored.id, 1
    handed_out = Attachment(
        meeting_id=published.id,
        position=0,
        title="公開資料",
        filename="資料.pdf",
        file_id=stored.id,
        created_by_id=sec.id,
    )
    db.session.add(handed_out)
    db.session.flush()
    w["published_attachment"] = handed_out.id
    item = sample.item
    w["sample_attachment"] = attachments.add(sec, item, upload(), title="計画（案）").id
    entry = next(e for e in published.entries if e.item_id == item.id)
    attachments.freeze_into(entry, item)  # as if it had been attached before the meeting


def fresh_world() -> dict[str, Any]:
    """Empty every table and build :func:`build_world` again."""
    db.session.rollback()
    empty_all_tables()
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
ADMIN_ONLY = E("login", "403", "403", "403", "403", "200")


def admin_only(done: str) -> dict[str, str]:
    """A change only the admin may make; *done* is the admin's answer (``302+``, ``200+``)."""
    return E("login", "403", "403", "403", "403", done)


def _user_id(w: dict, who: str) -> int:
    return w["users"][who].id


def _section_id(w: dict, who: str) -> int:
    return w["users"][who].section_id


EVERYONE_200 = E("200", "200", "200", "200", "200", "200")


def item_edit_data(w: dict) -> dict:
    return {"title": "修正後の案件名", "section": "情報政策課", "version": "1"}


def _admin_api(ok: str) -> dict[str, str]:
    return E("401", "403", "403", "403", "403", ok)


def _other_section(w: dict) -> int:
    return w["users"]["other"].section_id


_ADMIN = "/api/v1/admin"
_ADMIN_API_CASES: dict[tuple[str, str], Case] = {
    ("api.admin_list_users", "GET"): Case(lambda w: f"{_ADMIN}/users", _admin_api("200")),
    ("api.admin_create_user", "POST"): Case(
        lambda w: f"{_ADMIN}/users",
        _admin_api("201+"),
        json=lambda w: {"login": "newcomer", "display_name": "新人", "role": "viewer"},
    ),
    ("api.admin_show_user", "GET"): Case(lambda w: f"{_ADMIN}/users/viewer", _admin_api("200")),
    ("api.admin_update_user", "PATCH"): Case(
        lambda w: f"{_ADMIN}/users/viewer",
        _admin_api("200+"),
        json=lambda w: {"display_name": "異動した職員"},
    ),
    ("api.admin_disable_user", "POST"): Case(
        lambda w: f"{_ADMIN}/users/viewer/disable", _admin_api("200+"), json=lambda w: {}
    ),
    ("api.admin_enable_user", "POST"): Case(  # already active: nothing to change
        lambda w: f"{_ADMIN}/users/viewer/enable", _admin_api("200")
    ),
    ("api.admin_end_sessions", "POST"): Case(
        lambda w: f"{_ADMIN}/users/viewer/end-sessions", _admin_api("200+")
    ),
    ("api.admin_unlock_user", "POST"): Case(
        lambda w: f"{_ADMIN}/users/viewer/unlock", _admin_api("200+")
    ),
    ("api.admin_password", "POST"): Case(
        lambda w: f"{_ADMIN}/users/viewer/password", _admin_api("200+")
    ),
    ("api.admin_list_tokens", "GET"): Case(
        lambda w: f"{_ADMIN}/users/viewer/tokens", _admin_api("200")
    ),
    ("api.admin_issue_token", "POST"): Case(
        lambda w: f"{_ADMIN}/users/viewer/tokens", _admin_api("201+"), json=lambda w: {}
    ),
    ("api.admin_revoke_token", "DELETE"): Case(
        lambda w: f"{_ADMIN}/tokens/{w['token_ids']['viewer']}", _admin_api("200+")
    ),
    ("api.admin_list_sections", "GET"): Case(lambda w: f"{_ADMIN}/sections", _admin_api("200")),
    ("api.admin_create_section", "POST"): Case(
        lambda w: f"{_ADMIN}/sections", _admin_api("201+"), json=lambda w: {"name": "新設課"}
    ),
    ("api.admin_update_section", "PATCH"): Case(
        lambda w: f"{_ADMIN}/sections/{_other_section(w)}",
        _admin_api("200+"),
        json=lambda w: {"name": "財務課"},
    ),
    ("api.admin_merge_section", "POST"): Case(
        lambda w: f"{_ADMIN}/sections/{_other_section(w)}/merge",
        _admin_api("200+"),
        json=lambda w: {"into": w["users"]["own"].section_id},
    ),
    ("api.admin_retire_section", "POST"): Case(
        lambda w: f"{_ADMIN}/sections/{_other_section(w)}/retire", _admin_api("200+")
    ),
    ("api.admin_list_meeting_kinds", "GET"): Case(
        lambda w: f"{_ADMIN}/meeting-kinds", _admin_api("200")
    ),
    ("api.admin_create_meeting_kind", "POST"): Case(
        lambda w: f"{_ADMIN}/meeting-kinds",
        _admin_api("201+"),
        json=lambda w: {"code": "special", "name": "特別会議", "level": 3, "sort_order": 20},
    ),
    ("api.admin_update_meeting_kind", "PATCH"): Case(
        lambda w: f"{_ADMIN}/meeting-kinds/section_managers",
        _admin_api("200+"),
        json=lambda w: {"deadline_days": 7},
    ),
}


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
    ("account.password", "GET"): Case(lambda w: "/account/password", STAFF_200),
    ("account.password", "POST"): Case(
        lambda w: "/account/password",
        E("login", "302+", "302+", "302+", "302+", "302+"),
        data=lambda w: {
            "current_password": PASSWORD,
            "new_password": "kawasemi-no-sumu-kawa-42",
            "new_password_again": "kawasemi-no-sumu-kawa-42",
        },
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
    ("versions.index", "GET"): Case(
        lambda w: f"/items/{w['draft']}/versions", E("login", "403", "200", "403", "200", "200")
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
        data=lambda w: {"version": "2", "confirmed": "1"},  # the confirmation page's POST
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
    ("meetings.packet_pdf", "GET"): Case(
        lambda w: f"/meetings/{w['planned']}/packet.pdf", STAFF_200
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
        data=lambda w: {"confirmed": "1"},  # the confirmation page's POST
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
    ("meetings.room_disclosure", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/room/1/disclosure",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"pub-disclosure": "partial", "pub-disclosure_reason": "第７条第２号該当"},
    ),
    # issue 20: meeting room drafts (JSON: 401 rather than the sign-in page for a lost sign-in)
    ("meetings.room_draft", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/room/1/draft",
        E("401", "403", "403", "403", "200+", "403"),
        data=lambda w: {"presenter": "情報政策課長", "opinions-0-opinion": "打ちかけの意見"},
    ),
    ("meetings.room_draft_discard", "POST"): Case(  # the secretariat's draft (_room_draft_world)
        lambda w: f"/meetings/{w['planned']}/room/1/draft/discard",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {},
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
    # -- the admin's pages (workflow.views.admin) --
    ("admin.index", "GET"): Case(lambda w: "/admin/", ADMIN_ONLY),
    ("admin.unlock_login", "POST"): Case(
        lambda w: "/admin/unlock", admin_only("302+"), data=lambda w: {"login": "own"}
    ),
    ("admin.users", "GET"): Case(lambda w: "/admin/users?q=own&role=department", ADMIN_ONLY),
    ("admin.new_user", "GET"): Case(lambda w: "/admin/users/new", ADMIN_ONLY),
    ("admin.new_user", "POST"): Case(
        lambda w: "/admin/users/new",
        admin_only("201+"),  # the page that shows the first password once
        data=lambda w: {"login": "newcomer", "display_name": "新人", "role": "viewer"},
    ),
    ("admin.user", "GET"): Case(lambda w: f"/admin/users/{_user_id(w, 'own')}", ADMIN_ONLY),
    ("admin.user", "POST"): Case(
        lambda w: f"/admin/users/{_user_id(w, 'own')}",
        admin_only("302+"),
        data=lambda w: {
            "display_name": "情報太郎",
            "email": "own@city.example.jp",
            "role": "department",
            "section": str(_section_id(w, "own")),
        },
    ),
    ("admin.disable_user", "POST"): Case(
        lambda w: f"/admin/users/{_user_id(w, 'other')}/disable",
        admin_only("302+"),
        data=lambda w: {"disable-reason": "退職", "disable-confirm": "y"},
    ),
    ("admin.enable_user", "POST"): Case(
        lambda w: f"/admin/users/{w['disabled']}/enable", admin_only("302+"), data=lambda w: {}
    ),
    ("admin.reset_password", "POST"): Case(
        lambda w: f"/admin/users/{_user_id(w, 'own')}/reset-password",
        admin_only("200+"),  # the page that shows the temporary password once
        data=lambda w: {"stamp": password_stamp(w["users"]["own"])},
    ),
    ("admin.end_sessions", "POST"): Case(
        lambda w: f"/admin/users/{_user_id(w, 'own')}/end-sessions",
        admin_only("302+"),
        data=lambda w: {},
    ),
    ("admin.unlock_user", "POST"): Case(
        lambda w: f"/admin/users/{_user_id(w, 'own')}/unlock", admin_only("302+"), data=lambda w: {}
    ),
    ("admin.issue_token", "POST"): Case(
        lambda w: f"/admin/users/{_user_id(w, 'own')}/tokens",
        admin_only("201+"),  # the page that shows the token once
        data=lambda w: {
            "token-name": "取込スクリプト",
            "token-days": "30",
            "token-newest": str(newest_token_id(w["users"]["own"])),
        },
    ),
    ("admin.revoke_token", "POST"): Case(
        lambda w: f"/admin/users/{_user_id(w, 'own')}/tokens/{w['token_ids']['own']}/revoke",
        admin_only("302+"),
        data=lambda w: {},
    ),
    ("admin.sections", "GET"): Case(lambda w: "/admin/sections", ADMIN_ONLY),
    ("admin.sections", "POST"): Case(
        lambda w: "/admin/sections",
        admin_only("302+"),
        data=lambda w: {"name": "デジタル推進課", "bureau": "企画財政局", "division": "企画部"},
    ),
    ("admin.section", "GET"): Case(
        lambda w: f"/admin/sections/{_section_id(w, 'own')}", ADMIN_ONLY
    ),
    ("admin.rename_section", "POST"): Case(
        lambda w: f"/admin/sections/{_section_id(w, 'own')}/rename",
        admin_only("302+"),
        data=lambda w: {"rename-name": "デジタル政策課"},
    ),
    ("admin.move_section", "POST"): Case(
        lambda w: f"/admin/sections/{_section_id(w, 'own')}/move",
        admin_only("302+"),
        data=lambda w: {"move-bureau": "総務局", "move-division": "デジタル部"},
    ),
    ("admin.merge_section", "POST"): Case(
        lambda w: f"/admin/sections/{_section_id(w, 'other')}/merge",
        admin_only("302+"),
        data=lambda w: {"merge-into": str(_section_id(w, "own")), "merge-confirm": "y"},
    ),
    ("admin.retire_section", "POST"): Case(
        lambda w: f"/admin/sections/{_section_id(w, 'other')}/retire",
        admin_only("302+"),
        data=lambda w: {"retire-confirm": "y"},
    ),
    ("admin.meeting_kinds", "GET"): Case(lambda w: "/admin/meeting-kinds", ADMIN_ONLY),
    ("admin.meeting_kinds", "POST"): Case(
        lambda w: "/admin/meeting-kinds",
        admin_only("302+"),
        data=lambda w: {
            "code": "ict_strategy",
            "name": "ＩＣＴ戦略会議",
            "level": "2",
            "sort_order": "10",
            "deadline_days": "5",
        },
    ),
    ("admin.meeting_kind", "GET"): Case(
        lambda w: "/admin/meeting-kinds/section_managers", ADMIN_ONLY
    ),
    ("admin.meeting_kind", "POST"): Case(
        lambda w: "/admin/meeting-kinds/section_managers",
        admin_only("302+"),
        data=lambda w: {
            "name": "関係課長会議",
            "level": "1",
            "sort_order": "1",
            "deadline_days": "7",
        },
    ),
    ("admin.audit", "GET"): Case(lambda w: "/admin/audit", ADMIN_ONLY),
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
    ("api.item_versions", "GET"): Case(
        lambda w: f"/api/v1/items/{w['sample']}/versions",
        E("401", "200", "200", "200", "200", "200"),
    ),
    ("api.item_version", "GET"): Case(
        lambda w: f"/api/v1/items/{w['sample']}/versions/1",
        E("401", "200", "200", "200", "200", "200"),
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
    ("api.packet_pdf", "GET"): Case(
        lambda w: f"/api/v1/meetings/{w['published']}/packet.pdf",
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
    # -- administration (workflow.api.admin): an admin token only --
    **_ADMIN_API_CASES,
    # -- 資料 (workflow.api.attachments, workflow.views.attachments) --
    ("api.item_attachments", "GET"): Case(
        lambda w: f"/api/v1/items/{w['accepted']}/attachments",
        E("404", "200", "200", "200", "200", "200"),
    ),
    ("api.item_attachment_file", "GET"): Case(
        lambda w: f"/api/v1/items/{w['accepted']}/attachments/{w['attachment']}",
        E("404", "200", "200", "200", "200", "200"),
    ),
    ("api.add_item_attachment", "POST"): Case(
        lambda w: f"/api/v1/items/{w['accepted']}/attachments",
        E("401", "403", "201+", "403", "201+", "403"),
        data=lambda w: _upload_form(),
    ),
    ("api.update_item_attachment", "PATCH"): Case(
        lambda w: f"/api/v1/items/{w['accepted']}/attachments/{w['attachment']}",
        E("401", "403", "200+", "403", "200+", "403"),
        json=lambda w: {"title": "新しい資料名"},
    ),
    ("api.replace_item_attachment", "PUT"): Case(
        lambda w: f"/api/v1/items/{w['accepted']}/attachments/{w['attachment']}/file",
        E("401", "403", "200+", "403", "200+", "403"),
        data=lambda w: _upload_form(),
    ),
    ("api.remove_item_attachment", "DELETE"): Case(
        lambda w: f"/api/v1/items/{w['accepted']}/attachments/{w['attachment']}",
        E("401", "403", "200+", "403", "200+", "403"),
    ),
    ("api.meeting_attachments", "GET"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/attachments",
        E("404", "200", "200", "200", "200", "200"),
    ),
    ("api.meeting_attachment_file", "GET"): Case(
        lambda w: f"/api/v1/meetings/{w['published']}/attachments/{w['published_attachment']}",
        EVERYONE_200,
    ),
    ("api.add_meeting_attachment", "POST"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/attachments",
        E("401", "403", "403", "403", "201+", "403"),
        data=lambda w: _upload_form(),
    ),
    ("api.update_meeting_attachment", "PATCH"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/attachments/{w['meeting_attachment']}",
        E("401", "403", "403", "403", "200+", "403"),
        json=lambda w: {"public": False},
    ),
    ("api.replace_meeting_attachment", "PUT"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/attachments/{w['meeting_attachment']}/file",
        E("401", "403", "403", "403", "200+", "403"),
        data=lambda w: _upload_form(),
    ),
    ("api.remove_meeting_attachment", "DELETE"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}/attachments/{w['meeting_attachment']}",
        E("401", "403", "403", "403", "200+", "403"),
    ),
    ("attachments.item_file", "GET"): Case(
        lambda w: f"/items/{w['accepted']}/attachments/{w['attachment']}", STAFF_200
    ),
    ("attachments.add_to_item", "POST"): Case(
        lambda w: f"/items/{w['accepted']}/attachments",
        E("login", "403", "302+", "403", "302+", "403"),
        data=lambda w: _upload_form(public="y"),
    ),
    ("attachments.edit_item_attachment", "POST"): Case(
        lambda w: f"/items/{w['accepted']}/attachments/{w['attachment']}/edit",
        E("login", "403", "302+", "403", "302+", "403"),
        data=lambda w: {"title": "新しい資料名", "public": "y"},
    ),
    ("attachments.move_item_attachment", "POST"): Case(
        lambda w: f"/items/{w['accepted']}/attachments/{w['attachment2']}/move",
        E("login", "403", "302+", "403", "302+", "403"),
        data=lambda w: {"direction": "up"},
    ),
    ("attachments.replace_item_attachment", "POST"): Case(
        lambda w: f"/items/{w['accepted']}/attachments/{w['attachment']}/file",
        E("login", "403", "302+", "403", "302+", "403"),
        data=lambda w: _upload_form(),
    ),
    ("attachments.remove_item_attachment", "POST"): Case(
        lambda w: f"/items/{w['accepted']}/attachments/{w['attachment']}/remove",
        E("login", "403", "302+", "403", "302+", "403"),
        data=lambda w: {"confirm": "y"},
    ),
    ("attachments.meeting_file", "GET"): Case(
        lambda w: f"/meetings/{w['planned']}/attachments/{w['meeting_attachment']}", STAFF_200
    ),
    ("attachments.add_to_meeting", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/attachments",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: _upload_form(),
    ),
    ("attachments.edit_meeting_attachment", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/attachments/{w['meeting_attachment']}/edit",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"title": "新しい資料名"},
    ),
    ("attachments.move_meeting_attachment", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/attachments/{w['meeting_attachment']}/move",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"direction": "down"},
    ),
    ("attachments.replace_meeting_attachment", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/attachments/{w['meeting_attachment']}/file",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: _upload_form(),
    ),
    ("attachments.remove_meeting_attachment", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/attachments/{w['meeting_attachment']}/remove",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"confirm": "y"},
    ),
    ("attachments.public_item_file", "GET"): Case(
        lambda w: f"/public/items/{w['sample']}/attachments/{w['sample_attachment']}",
        EVERYONE_200,
    ),
    ("attachments.public_meeting_file", "GET"): Case(
        lambda w: f"/public/meetings/{w['published']}/attachments/{w['published_attachment']}",
        EVERYONE_200,
    ),
    # -- issue 19: deadlines --
    ("admin.closed_days", "GET"): Case(lambda w: "/admin/closed-days", ADMIN_ONLY),
    ("admin.closed_days", "POST"): Case(
        lambda w: "/admin/closed-days",
        admin_only("302+"),
        data=lambda w: {"day": "令和8年6月2日", "name": "開庁記念日"},
    ),
    ("admin.remove_closed_day", "POST"): Case(
        lambda w: f"/admin/closed-days/{w['closed_day']}/remove",
        admin_only("302+"),
        data=lambda w: {},
    ),
    ("admin.meeting_deadline", "GET"): Case(
        lambda w: f"/admin/meetings/{w['planned']}/deadline", ADMIN_ONLY
    ),
    ("admin.meeting_deadline", "POST"): Case(
        lambda w: f"/admin/meetings/{w['planned']}/deadline",
        admin_only("302+"),
        data=lambda w: {"submission_deadline": w["planned_deadline"]},
    ),
    ("api.admin_list_closed_days", "GET"): Case(
        lambda w: f"{_ADMIN}/closed-days", _admin_api("200")
    ),
    ("api.admin_add_closed_day", "POST"): Case(
        lambda w: f"{_ADMIN}/closed-days",
        _admin_api("201+"),
        json=lambda w: {"day": "2026-06-02", "name": "開庁記念日"},
    ),
    ("api.admin_remove_closed_day", "DELETE"): Case(
        lambda w: f"{_ADMIN}/closed-days/{w['closed_day']}", _admin_api("200+")
    ),
    ("api.admin_set_meeting_deadline", "PUT"): Case(
        lambda w: f"{_ADMIN}/meetings/{w['planned']}/deadline",
        _admin_api("200+"),
        json=lambda w: {"submission_deadline": w["planned_deadline"]},
    ),
    # -- the April reshuffle (workflow.views.admin_imports, workflow.api.user_imports) --
    ("admin_imports.index", "GET"): Case(
        lambda w: "/admin/imports/", E("login", "403", "403", "403", "403", "200")
    ),
    ("admin_imports.upload", "POST"): Case(
        lambda w: "/admin/imports/",
        E("login", "403", "403", "403", "403", "302+"),
        data=lambda w: _reshuffle_upload(),
    ),
    ("admin_imports.show", "GET"): Case(
        lambda w: f"/admin/imports/{w['user_import']}",
        E("login", "403", "403", "403", "403", "200"),
    ),
    ("admin_imports.apply", "POST"): Case(
        lambda w: f"/admin/imports/{w['user_import']}/apply",
        E("login", "403", "403", "403", "403", "302+"),
        data=lambda w: {"confirm": "y", "plan_digest": w["user_import_digest"]},
    ),
    ("api.create_user_import", "POST"): Case(
        lambda w: "/api/v1/admin/user-imports",
        E("401", "403", "403", "403", "403", "201+"),
        data=lambda w: _reshuffle_upload(),
    ),
    ("api.get_user_import", "GET"): Case(
        lambda w: f"/api/v1/admin/user-imports/{w['user_import']}",
        E("401", "403", "403", "403", "403", "200"),
    ),
    ("api.apply_user_import", "POST"): Case(
        lambda w: f"/api/v1/admin/user-imports/{w['user_import']}/apply",
        E("401", "403", "403", "403", "403", "200+"),
    ),
    # -- issue 19: tasks --
    ("api.my_tasks", "GET"): Case(
        lambda w: "/api/v1/me/tasks", E("401", "200", "200", "200", "200", "200")
    ),
    # -- issue 19: notices --
    ("notices.index", "GET"): Case(lambda w: "/notices/", STAFF_200),
    ("notices.read", "POST"): Case(
        lambda w: f"/notices/{_unread_notice_of(w, 'own')}/read",
        E("login", "404", "302+", "404", "404", "404"),
    ),
    ("notices.read_all", "POST"): Case(  # only "own" and the secretariat have notices
        lambda w: "/notices/read-all", E("login", "302", "302+", "302", "302+", "302")
    ),
    ("account.notices_choice", "GET"): Case(lambda w: "/account/notices", STAFF_200),
    ("account.notices_choice", "POST"): Case(
        lambda w: "/account/notices",
        E("login", "302+", "302+", "302+", "302+", "302+"),
        data=lambda w: {"receive": "screen"},
    ),
    ("api.my_notices", "GET"): Case(
        lambda w: "/api/v1/me/notices", E("401", "200", "200", "200", "200", "200")
    ),
    ("api.read_my_notice", "POST"): Case(
        lambda w: f"/api/v1/me/notices/{_unread_notice_of(w, 'own')}/read",
        E("401", "404", "200+", "404", "404", "404"),
    ),
    # issue 20: meeting edit and cancel, confirmation steps
    # The confirmation page: a GET (or a POST without confirmed=1) asks, changes nothing; who
    # may not fire the event is sent back with the reason (302), as by the POST.
    ("items.fire", "GET"): Case(
        lambda w: f"/items/{w['submitted']}/events/accept",
        E("login", "302", "302", "302", "200", "302"),
    ),
    ("meetings.fire", "GET"): Case(
        lambda w: f"/meetings/{w['held']}/events/confirm", SECRETARIAT_ONLY
    ),
    ("meetings.edit", "GET"): Case(lambda w: f"/meetings/{w['planned']}/edit", SECRETARIAT_ONLY),
    ("meetings.edit", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/edit",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"date": "令和8年5月8日", "venue": "第二会議室"},
    ),
    ("meetings.cancel", "GET"): Case(
        lambda w: f"/meetings/{w['planned']}/cancel", SECRETARIAT_ONLY
    ),
    ("meetings.cancel", "POST"): Case(
        lambda w: f"/meetings/{w['planned']}/cancel",
        E("login", "403", "403", "403", "302+", "403"),
        data=lambda w: {"reason": "議題がないため"},
    ),
    ("api.update_meeting", "PATCH"): Case(
        lambda w: f"/api/v1/meetings/{w['planned']}",
        E("401", "403", "403", "403", "200+", "403"),
        json=lambda w: {"venue": "第二会議室"},
    ),
    # issue 20: item page (the whole workflow, for every signed-in role)
    ("items.flow", "GET"): Case(lambda w: "/items/flow", STAFF_200),
}


def _unread_notice_of(w: dict, who: str) -> int:
    """The id of an unread notice of *who* (the world's events leave some to "own")."""
    from workflow.models import Notice

    return db.session.scalar(
        sa.select(Notice.id)
        .where(Notice.user_id == w["users"][who].id, Notice.read_at.is_(None))
        .order_by(Notice.id)
        .limit(1)
    )


def _upload_form(**fields: str) -> dict:
    """A multipart body with a small PDF as ``file`` (a fresh stream each time)."""
    from tests.attachment_files import pdf_bytes

    return {"file": (io.BytesIO(pdf_bytes()), "資料.pdf"), **fields}


def client_for(app: Flask, world: dict, who: str) -> FlaskClient:
    """A test client signed in as *who* of *world* (anonymous: not signed in)."""
    client = app.test_client()
    if who != "anonymous":
        with client.session_transaction() as session:
            row = UserSession.start(world["users"][who])
            db.session.add(row)
            db.session.commit()
            session["_user_id"] = row.token
            session["_fresh"] = True
    return client


def request_case(client, world: dict, who: str, endpoint: str, method: str):
    """Send the access table's request for *endpoint* and *method* as *who*."""
    case = CASES[(endpoint, method)]
    path = case.path(world)
    if endpoint.startswith("api."):
        headers = {} if who == "anonymous" else {"Authorization": f"Bearer {world['tokens'][who]}"}
        if case.data:  # a multipart upload
            return client.open(path, method=method, data=case.data(world), headers=headers)
        body = case.json(world) if case.json else None
        return client.open(path, method=method, json=body, headers=headers)
    data = case.data(world) if case.data else None
    return client.open(path, method=method, data=data)


# -- app servers in their own processes ---------------------------------------------------------


@dataclass
class Server:
    """A gunicorn process on loopback, and where its output goes."""

    port: int
    process: subprocess.Popen
    log: Path
    log_file: BinaryIO

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        source: str | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a new connection; *source*: the client's loopback address
        (127.0.0.2 …: Linux answers on all of 127/8), for tests that need several addresses."""
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=60, source_address=(source, 0) if source else None
        )
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            headers: dict[str, str] = {}
            for name, value in response.getheaders():
                # A header sent twice (a session and a device cookie) keeps both, one a line.
                headers[name] = f"{headers[name]}\n{value}" if name in headers else value
            return response.status, headers, response.read()
        finally:
            conn.close()


# gunicorn 27 opens a control socket at one path in $HOME: two servers would share it.
_NO_CONTROL_SOCKET = (
    ["--no-control-socket"] if int(metadata.version("gunicorn").split(".")[0]) >= 27 else []
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, log: Path, *, workers: int = 1) -> Server:
    """A gunicorn process serving wsgi:app on *database_url* (its output to *log*), with
    *workers* sync workers."""
    port = free_port()
    log_file = log.open("wb")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "scale-out-test-key-shared-by-every-server",
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--timeout=60",
            *_NO_CONTROL_SOCKET,
            "wsgi:app",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    return Server(port, process, log, log_file)


def wait_ready(server: Server) -> None:
    """Wait until *server* answers /healthz; fail with its log if it exits or does not."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server on {server.port} exited:\n{server.log.read_text()}")
        try:
            if server.request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server on {server.port} did not answer /healthz:\n{server.log.read_text()}")


def stop_server(server: Server) -> None:
    """Terminate *server* (killed if it does not stop within 20 s) and close its log."""
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.log_file.close()


def csrf_token(page: bytes) -> str:
    """The CSRF token of a form *page*."""
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def _keep_cookies(headers: dict[str, str], jar: dict[str, str]) -> None:
    for name, value in headers.items():
        if name.lower() == "set-cookie":
            for line in value.splitlines():
                key, _, val = line.split(";", 1)[0].partition("=")
                jar[key] = val


def server_get(
    server: Server, path: str, jar: dict[str, str], source: str | None = None
) -> tuple[int, dict, bytes]:
    """GET *path* from *server* with the cookies of *jar*, keeping those it sets."""
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, headers, body = server.request("GET", path, headers={"Cookie": cookie}, source=source)
    _keep_cookies(headers, jar)
    return status, headers, body


def server_post_form(
    server: Server,
    path: str,
    form: dict[str, str],
    jar: dict[str, str],
    source: str | None = None,
):
    """POST *form* to *path* on *server* with the cookies of *jar*, keeping those it sets."""
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    status, headers, body = server.request(
        "POST",
        path,
        urlencode(form).encode(),
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        source=source,
    )
    _keep_cookies(headers, jar)
    return status, headers, body


def search_rows() -> list[tuple]:
    """Every search document's row, as the index keeps it, in a stable order."""
    return db.session.execute(
        sa.select(
            SearchDocument.item_id,
            SearchDocument.position,
            SearchDocument.field,
            SearchDocument.meeting_id,
            SearchDocument.text,
            SearchDocument.folded,
        ).order_by(SearchDocument.item_id, SearchDocument.position)
    ).all()


def insert_row(conn: sa.Connection, model: type, **values: Any) -> int:
    """Insert a row into *model*'s table as an older schema has it (no later column), with the
    model's Python defaults for the columns the caller leaves out; return its id.

    For tests that go back to an earlier revision: the model is the head's, and an ORM or
    ``model.__table__`` insert would name columns that revision does not have yet.
    """
    table = sa.Table(model.__tablename__, sa.MetaData(), autoload_with=conn)
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        default = model.__table__.c[column.name].default
        if default is None:
            continue
        value = default.arg(None) if default.is_callable else default.arg
        values[column.name] = value.value if isinstance(value, Enum) else value
    return conn.execute(sa.insert(table).values(**values).returning(table.c.id)).scalar_one()


def run_workers_side_by_side(app, count: int = 2, timeout: float = 60) -> list[BaseException]:
    """Start *count* `flask worker --once` loops in threads at the same instant; what they raised.

    The caller commits first: on SQLite the test's own session must hold no lock meanwhile.
    """
    from workflow.jobs import Worker

    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def work(name: str) -> None:
        try:
            with app.app_context():
                start.wait()
                Worker(name).run(threading.Event(), once=True)
                db.session.remove()
        except BaseException as exc:  # the caller's test fails with it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(1, count + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return errors


def attachment_world() -> dict:
    """For the 資料 tests: the owning section's user, another section's, a viewer, the
    secretariat, an admin and an accepted item of the first section (``accepted``), committed
    (an error answer rolls the request's session back)."""
    section = make_section("情報政策課")
    department = make_user(Role.DEPARTMENT, section)
    secretariat = make_user(Role.SECRETARIAT)
    world = {
        "department": department,
        "other": make_user(Role.DEPARTMENT),
        "viewer": make_user(Role.VIEWER),
        "secretariat": secretariat,
        "admin": make_user(Role.ADMIN),
        "accepted": make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat),
    }
    db.session.commit()
    return world


# A complete 様式２ as the request form posts it (the new page pre-fills 局・区/部 and 申込日).
BASE_FORM = {
    "title": "市民協働推進計画の策定について",
    "applied_on": "令和元年10月8日",
    "target_kind": "policy_coordination",
    "route": ["section_managers", "policy_coordination"],
    "section": "情報政策課",
    "bureau": "企画財政局",  # the new page pre-fills them from the section; a post carries them
    "division": "企画部",
    "in_implementation_plan": "no",
    "summary": "概要です。",
    "discussion_points-0": "計画案について",
    "history-0-when": "R1.5.24",
    "history-0-meeting": "第１回検討会議",
    "history-0-content": "進め方について",
    "public_comment_planned": "yes",
    "public_comment_period_text": "令和元年12月～令和2年1月",
    "press_release": "none",
    "council_channel": "committee",
    "council_timing": "令和元年１２月",
    "ordinance_kind": "none",
    "ordinance_change": "",
    "advisory_body": "no",
    "personal_info_use": "no",
    "coordination-0-department": "企画政策課",
    "coordination-0-content": "総合計画との整合",
    "coordination-0-status": "done",
    "details-0-heading": "事案の概要",
    "details-0-body": "○目的\n本市では…",
    "details-1-heading": "事業スケジュール",
    "details-1-body": "令和２年３月 策定",
}
