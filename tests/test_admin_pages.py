"""The admin's screens (/admin/…): each page for the admin only, each form doing its change with
its audit row, a bad input shown beside its field in Japanese with nothing saved, and a secret (a
first or temporary password, an API token) shown once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_section, make_user
from tests.support import API, login
from workflow.extensions import db
from workflow.models import ApiToken, HistoryEvent, LoginAttempt, MeetingKind, Section, User
from workflow.models._types import utcnow
from workflow.queries.admin import newest_token_id, password_stamp
from workflow.services import admin
from workflow.states.states import Role
from workflow.views import jst_minute

PAGES = [
    "/admin/",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/{user}",
    "/admin/sections",
    "/admin/sections/{section}",
    "/admin/meeting-kinds",
    "/admin/meeting-kinds/section_managers",
    "/admin/audit",
]


@pytest.fixture
def people(app):
    """An admin (signed in as ``client``), a department user of 情報政策課 and a secretariat."""
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    people = {
        "admin": make_user(Role.ADMIN, login="admin", display_name="管理者"),
        "dept": make_user(Role.DEPARTMENT, section, login="tanaka", display_name="田中"),
        "secretariat": make_user(Role.SECRETARIAT, login="sec", display_name="事務局"),
        "section": section,
    }
    db.session.commit()
    return people


@pytest.fixture
def admin_client(app, people):
    return login(app.test_client(), people["admin"])


def _html(response) -> str:
    return response.get_data(as_text=True)


def _field_error(html: str, field_id: str) -> str:
    """The message shown beside the field *field_id* (forms macro ``errors``)."""
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error beside {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1))


def _audit_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(HistoryEvent.event.startswith("admin."))
    )


def _secret(html: str) -> str:
    match = re.search(r'<code class="secret" id="secret">([^<]+)</code>', html)
    assert match, html[:2000]
    return match.group(1)


# -- who may see the pages -----------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_the_admin_and_no_one_else(app, people, path):
    url = path.format(user=people["dept"].id, section=people["section"].id)
    admin_client = login(app.test_client(), people["admin"])
    response = admin_client.get(url)
    assert response.status_code == 200, url
    assert "管理" in _html(response)
    for who in ("dept", "secretariat"):
        response = login(app.test_client(), people[who]).get(url)
        assert response.status_code == 403
        assert "この画面を表示する権限がありません" in _html(response)
    response = app.test_client().get(url)
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_the_menu_links_to_admin_for_admins_only(app, people):
    admin_home = _html(login(app.test_client(), people["admin"]).get("/"))
    assert '<a href="/admin/"' in admin_home
    for who in ("dept", "secretariat"):
        assert 'href="/admin/"' not in _html(login(app.test_client(), people[who]).get("/"))


def test_admin_home_links_to_each_screen_and_the_reshuffle_import(admin_client):
    html = _html(admin_client.get("/admin/"))
    for href in ("/admin/users", "/admin/imports/", "/admin/sections", "/admin/meeting-kinds"):
        assert f'href="{href}"' in html
    assert 'href="/admin/audit"' in html


# -- users ---------------------------------------------------------------------------------------


def test_user_list_filters_by_text_and_role(admin_client, people):
    make_user(Role.VIEWER, login="suzuki", display_name="鈴木")
    db.session.commit()
    html = _html(admin_client.get("/admin/users"))
    for login_id in ("admin", "tanaka", "sec", "suzuki"):
        assert f">{login_id}</a>" in html
    assert "所管課職員" in html
    assert "情報政策課" in html

    html = _html(admin_client.get("/admin/users?q=情報政策"))
    assert ">tanaka</a>" in html
    assert ">suzuki</a>" not in html
    html = _html(admin_client.get("/admin/users?role=viewer"))
    assert ">suzuki</a>" in html
    assert ">tanaka</a>" not in html
    html = _html(admin_client.get("/admin/users?q=%25"))  # a LIKE wildcard is a plain character
    assert "条件に合う利用者はいません。" in html


def test_creating_a_user_shows_the_first_password_once(app, admin_client, people):
    audit = _audit_count()
    response = admin_client.post(
        "/admin/users/new",
        data={
            "login": "sato",
            "display_name": "佐藤",
            "email": "sato@city.example.jp",
            "role": "department",
            "section": str(people["section"].id),
        },
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    password = _secret(_html(response))
    user = db.session.scalar(sa.select(User).where(User.login == "sato"))
    assert user.section.name == "情報政策課"
    assert user.email == "sato@city.example.jp"
    assert user.must_change_password
    assert user.check_password(password)
    assert _audit_count() == audit + 1  # the creation alone, with its first password
    assert "利用者を登録" in _html(admin_client.get("/admin/audit"))
    # Never again: not on the user's page, not in the list.
    assert password not in _html(admin_client.get(f"/admin/users/{user.id}"))
    assert password not in _html(admin_client.get("/admin/users"))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"login": "", "display_name": "佐藤"}, "login", "ログインIDを入力してください。"),
        ({"login": "sato", "display_name": ""}, "display_name", "表示名を入力してください。"),
        ({"login": "sa to", "display_name": "佐藤"}, "login", "は使えません"),
        ({"login": "tanaka", "display_name": "田中二郎"}, "login", "既に使われています"),
        (
            {"login": "sato", "display_name": "佐藤", "email": "sato@"},
            "email",
            "形式が正しくありません",
        ),
        ({"login": "sato", "display_name": "佐藤", "role": "department"}, "section", "課を指定"),
        ({"login": "sato", "display_name": "佐藤", "role": "boss"}, "role", "役割を一覧から"),
    ],
)
def test_a_bad_new_user_is_shown_beside_its_field_and_nothing_is_saved(
    admin_client, people, data, field, message
):
    users_before, audit_before = (
        db.session.scalar(sa.select(sa.func.count(User.id))),
        _audit_count(),
    )
    response = admin_client.post("/admin/users/new", data={"role": "viewer", **data})
    assert response.status_code in (409, 422)
    assert message in _field_error(_html(response), field)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == users_before
    assert _audit_count() == audit_before


def test_editing_a_user_changes_role_and_section_with_an_audit_row(admin_client, people):
    other = make_section("財政課")
    db.session.commit()
    user = people["dept"]
    response = admin_client.post(
        f"/admin/users/{user.id}",
        data={
            "display_name": "田中一郎",
            "email": "",
            "role": "department",
            "section": str(other.id),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.display_name, user.section.name) == ("田中一郎", "財政課")
    html = _html(admin_client.get(f"/admin/users/{user.id}"))
    assert "変更を保存しました。" in html
    assert "利用者の情報を変更" in html  # the page's own recent audit rows
    assert "情報政策課 → 財政課" in html
    assert "田中 → 田中一郎" in html


def test_a_bad_edit_is_shown_beside_its_field_and_nothing_is_saved(admin_client, people):
    user = people["dept"]
    audit_before = _audit_count()
    response = admin_client.post(
        f"/admin/users/{user.id}",
        data={"display_name": "", "email": "x", "role": "department", "section": ""},
    )
    assert response.status_code == 422
    assert "表示名を入力してください。" in _field_error(_html(response), "display_name")
    response = admin_client.post(
        f"/admin/users/{user.id}",
        data={"display_name": "田中", "role": "department", "section": ""},
    )
    assert response.status_code == 422
    assert "課を指定" in _field_error(_html(response), "section")
    db.session.expire_all()
    assert db.session.get(User, user.id).section.name == "情報政策課"
    assert _audit_count() == audit_before


def test_a_disabled_users_open_session_and_token_stop_at_once(app, admin_client, people):
    user = people["dept"]
    victim = login(app.test_client(), user)
    assert victim.get("/").status_code == 200
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.commit()

    # Without 「確認しました」: refused beside the checkbox, nothing changed.
    response = admin_client.post(f"/admin/users/{user.id}/disable", data={"disable-reason": "退職"})
    assert response.status_code == 422
    assert "確認しました" in _field_error(_html(response), "disable-confirm")
    assert victim.get("/").status_code == 200

    response = admin_client.post(
        f"/admin/users/{user.id}/disable",
        data={"disable-reason": "退職", "disable-confirm": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, user.id).active
    after = victim.get("/")
    assert after.status_code == 302
    assert after.location.startswith("/login?next=")
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get(f"{API}/items", headers=headers).status_code == 401
    html = _html(admin_client.get(f"/admin/users/{user.id}"))
    assert "利用者を無効化" in html
    assert "理由：退職" in html
    assert ">無効</strong>" in _html(admin_client.get("/admin/users"))

    assert admin_client.post(f"/admin/users/{user.id}/enable").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).active


def test_the_admin_cannot_disable_themself(admin_client, people):
    me = people["admin"]
    assert "無効にする…" not in _html(admin_client.get(f"/admin/users/{me.id}"))
    response = admin_client.post(f"/admin/users/{me.id}/disable", data={"disable-confirm": "y"})
    assert response.status_code == 422
    assert "自分自身を無効にすることはできません。" in _html(response)
    db.session.expire_all()
    assert db.session.get(User, me.id).active


def test_a_reset_password_is_shown_once_and_ends_the_sessions(app, admin_client, people):
    user = people["dept"]
    victim = login(app.test_client(), user)
    response = admin_client.post(
        f"/admin/users/{user.id}/reset-password", data={"stamp": password_stamp(user)}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = _secret(_html(response))
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.check_password(password)
    assert user.must_change_password
    assert victim.get("/").status_code == 302  # signed out
    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    assert password not in page
    assert "パスワード変更待ち" in page
    assert "パスワードをリセット" in page


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    assert match, f"no hidden field {name}"
    return match.group(1)


def test_reloading_the_reset_result_resets_nothing(app, admin_client, people):
    user = people["dept"]
    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    form = {"stamp": _hidden(page, "stamp")}
    first = admin_client.post(f"/admin/users/{user.id}/reset-password", data=form)
    password = _secret(_html(first))
    audit = _audit_count()
    again = admin_client.post(
        f"/admin/users/{user.id}/reset-password", data=form, follow_redirects=True
    )
    assert "このパスワードは既にリセットされています。" in _html(again)
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(password)
    assert _audit_count() == audit
    # A fresh form from the user's page resets it again.
    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    second = admin_client.post(
        f"/admin/users/{user.id}/reset-password", data={"stamp": _hidden(page, "stamp")}
    )
    assert second.status_code == 200
    assert _secret(_html(second)) != password


def test_reloading_the_token_result_issues_nothing(app, admin_client, people):
    user = people["dept"]
    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    form = {"token-name": "取込", "token-days": "30", "token-newest": _hidden(page, "token-newest")}
    assert form["token-newest"] == "0"
    assert admin_client.post(f"/admin/users/{user.id}/tokens", data=form).status_code == 201
    again = admin_client.post(f"/admin/users/{user.id}/tokens", data=form, follow_redirects=True)
    assert "このAPIトークンは既に発行されています。" in _html(again)
    count = sa.select(sa.func.count(ApiToken.id)).where(ApiToken.user_id == user.id)
    assert db.session.scalar(count) == 1
    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    form["token-newest"] = _hidden(page, "token-newest")
    assert admin_client.post(f"/admin/users/{user.id}/tokens", data=form).status_code == 201
    assert db.session.scalar(count) == 2


def test_the_password_line_says_who_keeps_the_password(admin_client, people):
    user = people["dept"]
    assert "本人が設定済み" in _html(admin_client.get(f"/admin/users/{user.id}"))
    user.clear_password()
    db.session.commit()
    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    assert "未設定（ディレクトリでサインインするか、パスワードをリセットしてください）" in page
    assert "本人が設定済み" not in page
    user.directory = True
    db.session.commit()
    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    assert "ディレクトリで管理" in page
    assert "本人が設定済み" not in page


def test_ending_sessions_and_unlocking(app, admin_client, people):
    user = people["dept"]
    victim = login(app.test_client(), user)
    response = admin_client.post(f"/admin/users/{user.id}/end-sessions", follow_redirects=True)
    assert "のセッションをすべて終了しました。" in _html(response)
    assert victim.get("/").status_code == 302
    response = admin_client.post(f"/admin/users/{user.id}/unlock", follow_redirects=True)
    assert "のロックを解除しました。" in _html(response)
    db.session.expire_all()
    assert db.session.get(User, user.id).unlocked_at is not None


def test_issuing_and_revoking_a_token(app, admin_client, people):
    user = people["dept"]
    response = admin_client.post(
        f"/admin/users/{user.id}/tokens",
        data={
            "token-name": "取込スクリプト",
            "token-days": "30",
            "token-newest": str(newest_token_id(user)),
        },
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    token = _secret(_html(response))
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get(f"{API}/items", headers=headers).status_code == 200
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.name == "取込スクリプト"
    assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)

    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    assert token not in page
    assert "取込スクリプト" in page
    assert "有効" in page
    assert "APIトークンを発行" in page

    response = admin_client.post(f"/admin/users/{user.id}/tokens/{row.id}/revoke")
    assert response.status_code == 302
    assert app.test_client().get(f"{API}/items", headers=headers).status_code == 401
    page = _html(admin_client.get(f"/admin/users/{user.id}"))
    assert "失効させました" in page
    assert "APIトークンを失効" in page
    # Another user's token is not revoked through this user's page.
    theirs, _ = ApiToken.issue(people["secretariat"])
    db.session.add(theirs)
    db.session.commit()
    assert admin_client.post(f"/admin/users/{user.id}/tokens/{theirs.id}/revoke").status_code == 404


@pytest.mark.parametrize(
    ("days", "message"),
    [("abc", "有効日数は数字で"), ("0", "有効日数は1から"), ("99999", "有効日数は1から")],
)
def test_a_bad_token_form_is_shown_beside_its_field(admin_client, people, days, message):
    user = people["dept"]
    response = admin_client.post(
        f"/admin/users/{user.id}/tokens",
        data={"token-name": "x", "token-days": days, "token-newest": str(newest_token_id(user))},
    )
    assert response.status_code == 422
    assert message in _field_error(_html(response), "token-days")
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


# -- sections ------------------------------------------------------------------------------------


def test_sections_create_rename_move(admin_client, people):
    response = admin_client.post(
        "/admin/sections", data={"name": "デジタル推進課", "bureau": "総務局", "division": ""}
    )
    assert response.status_code == 302
    section = db.session.scalar(sa.select(Section).where(Section.name == "デジタル推進課"))
    assert section.bureau == "総務局"
    html = _html(admin_client.get("/admin/sections"))
    assert "デジタル推進課" in html
    assert "使用中" in html

    url = f"/admin/sections/{section.id}"
    assert admin_client.post(f"{url}/rename", data={"rename-name": "DX推進課"}).status_code == 302
    assert (
        admin_client.post(
            f"{url}/move", data={"move-bureau": "企画財政局", "move-division": "企画部"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    section = db.session.get(Section, section.id)
    assert (section.name, section.bureau, section.division) == ("DX推進課", "企画財政局", "企画部")
    html = _html(admin_client.get(url))
    assert "課の名前を変更" in html
    assert "デジタル推進課 → DX推進課" in html


@pytest.mark.parametrize(
    ("url", "data", "field", "message"),
    [
        ("/admin/sections", {"name": ""}, "name", "課の名前を入力してください。"),
        ("/admin/sections", {"name": "情報政策課"}, "name", "既に登録されています"),
        ("{section}/rename", {"rename-name": ""}, "rename-name", "新しい名前を入力"),
        ("{section}/merge", {"merge-into": ""}, "merge-into", "統合先の課を一覧から"),
        ("{section}/merge", {"merge-into": "{other}"}, "merge-confirm", "確認しました"),
        ("{section}/retire", {}, "retire-confirm", "確認しました"),
    ],
)
def test_a_bad_section_form_is_shown_beside_its_field_and_nothing_is_saved(
    admin_client, people, url, data, field, message
):
    other = make_section("財政課")
    db.session.commit()
    ids = {"section": f"/admin/sections/{people['section'].id}", "other": str(other.id)}
    audit_before = _audit_count()
    response = admin_client.post(
        url.format(**ids), data={k: v.format(**ids) for k, v in data.items()}
    )
    assert response.status_code in (409, 422)
    assert message in _field_error(_html(response), field)
    assert _audit_count() == audit_before
    db.session.expire_all()
    section = db.session.get(Section, people["section"].id)
    assert section.name == "情報政策課"
    assert section.retired_at is None


def test_merging_a_section_moves_its_users_and_retires_it(admin_client, people):
    into = make_section("デジタル政策課")
    db.session.commit()
    source = people["section"]
    page = _html(admin_client.get(f"/admin/sections/{source.id}"))
    assert f'<option value="{into.id}">デジタル政策課</option>' in page
    response = admin_client.post(
        f"/admin/sections/{source.id}/merge",
        data={"merge-into": str(into.id), "merge-confirm": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, people["dept"].id).section_id == into.id
    assert db.session.get(Section, source.id).merged_into_id == into.id
    html = _html(admin_client.get("/admin/sections"))
    assert "統合先：デジタル政策課" in html
    # A retired section is offered to no one any more.
    assert "情報政策課</option>" not in _html(admin_client.get("/admin/users/new"))


def test_retiring_a_section(admin_client, people):
    section = make_section("廃止予定課")
    db.session.commit()
    response = admin_client.post(
        f"/admin/sections/{section.id}/retire", data={"retire-confirm": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Section, section.id).retired_at is not None
    page = _html(admin_client.get(f"/admin/sections/{section.id}"))
    assert "廃止（" in page
    assert "廃止する</button>" not in page


# -- meeting kinds -------------------------------------------------------------------------------


def test_adding_and_editing_a_meeting_kind(admin_client, people):
    response = admin_client.post(
        "/admin/meeting-kinds",
        data={
            "code": "ict_strategy",
            "name": "ＩＣＴ戦略会議",
            "level": "２",
            "sort_order": "10",
            "deadline_days": "3",
            "review": "y",
        },
    )
    assert response.status_code == 302
    kind = db.session.get(MeetingKind, "ict_strategy")
    assert (kind.level, kind.sort_order, kind.review, kind.deadline_days) == (2, 10, True, 3)
    assert "ＩＣＴ戦略会議" in _html(admin_client.get("/admin/meeting-kinds"))

    response = admin_client.post(
        "/admin/meeting-kinds/section_managers",
        data={"name": "関係課長会議", "level": "1", "sort_order": "1", "deadline_days": "7"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MeetingKind, "section_managers").deadline_days == 7
    html = _html(admin_client.get("/admin/audit"))
    assert "会議の種類を変更" in html
    assert "申込締切（開庁日数）</span>：5 → 7" in html


@pytest.mark.parametrize(
    ("url", "data", "field", "message"),
    [
        ("/admin/meeting-kinds", {"code": "ICT!"}, "code", "英小文字で始まる"),
        ("/admin/meeting-kinds", {"code": "section_managers"}, "code", "既に使われています"),
        ("/admin/meeting-kinds", {"name": ""}, "name", "名称を入力してください。"),
        ("/admin/meeting-kinds", {"level": "一"}, "level", "レベルは数字で"),
        ("/admin/meeting-kinds", {"level": "0"}, "level", "1から"),
        (
            "/admin/meeting-kinds",
            {"sort_order": "1"},
            "sort_order",
            "ほかの会議の種類が使っています",
        ),
        ("/admin/meeting-kinds/section_managers", {"deadline_days": ""}, "deadline_days", "入力"),
        (
            "/admin/meeting-kinds/section_managers",
            {"deadline_days": "-1"},
            "deadline_days",
            "0から",
        ),
    ],
)
def test_a_bad_meeting_kind_is_shown_beside_its_field_and_nothing_is_saved(
    admin_client, people, url, data, field, message
):
    good = {
        "code": "ict_strategy",
        "name": "ＩＣＴ戦略会議",
        "level": "2",
        "sort_order": "10",
        "deadline_days": "5",
    }
    if url != "/admin/meeting-kinds":
        good = {**good, "name": "関係課長会議", "level": "1", "sort_order": "1"}
    response = admin_client.post(url, data={**good, **data})
    assert response.status_code in (409, 422)
    assert message in _field_error(_html(response), field)
    assert db.session.get(MeetingKind, "ict_strategy") is None
    db.session.expire_all()
    assert db.session.get(MeetingKind, "section_managers").deadline_days == 5
    assert _audit_count() == 0


# -- the record of admin changes, and accounts under attack --------------------------------------


def test_a_deadline_of_0_is_the_day_itself_and_the_hints_say_what_is_accepted(admin_client, people):
    kind = db.session.scalar(sa.select(MeetingKind).where(MeetingKind.code == "section_managers"))
    kind.deadline_days = 0
    db.session.commit()
    html = _html(admin_client.get("/admin/meeting-kinds"))
    assert "0開庁日前" not in html
    assert "当日" in html
    html = _html(admin_client.get("/admin/meeting-kinds/section_managers"))
    assert "1から99までの数字" in html
    assert "0から60まで。0は当日" in html


def test_the_audit_page_lists_admin_changes_newest_first_with_who_made_them(admin_client, people):
    admin.create_section(None, "cli", name="コマンド課")
    db.session.commit()
    admin.rename_section(people["admin"], "web", people["section"], "情報戦略課")
    db.session.commit()
    admin.move_section(people["admin"], "api", people["section"], bureau="総務局", division="")
    db.session.commit()
    html = _html(admin_client.get("/admin/audit"))
    assert "管理者（admin・API）" in html  # an admin token's change
    rename, create = html.index("課の名前を変更"), html.index("課を登録")
    assert rename < create  # newest first
    assert "管理者（admin）" in html
    assert re.search(r"コマンド（[^）]+）", html)
    assert "課「コマンド課」" in html
    assert "情報政策課 → 情報戦略課" in html
    assert re.search(r"R\d+\.\d+\.\d+ \d\d:\d\d", html)  # 和暦 and the time


def test_the_audit_page_is_paged(admin_client, people):
    for n in range(51):
        admin.create_section(people["admin"], "web", name=f"課{n:02d}")
    db.session.commit()
    first = _html(admin_client.get("/admin/audit"))
    assert "課「課50」" in first
    assert "課「課00」" not in first
    assert 'href="/admin/audit?page=2" rel="next"' in first
    second = _html(admin_client.get("/admin/audit?page=2"))
    assert "課「課00」" in second


def test_unlocking_from_the_admin_home(admin_client, people):
    response = admin_client.post("/admin/unlock", data={"login": "tanaka"}, follow_redirects=True)
    assert "田中（tanaka）のロックを解除しました。" in _html(response)
    db.session.expire_all()
    assert db.session.get(User, people["dept"].id).unlocked_at is not None
    response = admin_client.post("/admin/unlock", data={"login": "nobody"}, follow_redirects=True)
    assert "解除するロックはありません" in _html(response)


def test_accounts_under_attack_are_listed_with_an_unlock_button(admin_client, people):
    now = utcnow()
    for n in range(8):
        for login_id in ("sec", "ghost"):
            db.session.add(
                LoginAttempt(
                    login=login_id,
                    address=f"203.0.113.{n % 3}",
                    success=False,
                    at=now - timedelta(minutes=n),
                )
            )
    db.session.commit()
    html = _html(admin_client.get("/admin/"))
    section = html[html.index("攻撃を受けている可能性のあるアカウント") :]
    assert "<td>sec</td>" in section
    assert "3か所" in section  # three addresses
    assert 'aria-label="secのロックを解除"' in section
    assert "<td>ghost</td>" in section
    assert "登録されていないID" in section


def _fail(login_id: str, address: str, minutes_ago: int) -> None:
    db.session.add(
        LoginAttempt(
            login=login_id,
            address=address,
            success=False,
            at=utcnow() - timedelta(minutes=minutes_ago),
        )
    )


def test_an_account_refused_at_one_address_is_not_shown_as_only_watched(admin_client, people):
    for n in range(5):  # LOGIN_FAILURES_PER_ACCOUNT from one address: refused there
        _fail("sec", "203.0.113.9", n)
    db.session.commit()
    html = _html(admin_client.get("/admin/"))
    section = html[html.index("攻撃を受けている可能性のあるアカウント") :]
    assert "一部の接続元で制限中（1か所）" in section
    assert "監視中" not in section


def test_an_address_over_its_limit_is_listed_with_when_it_frees(admin_client, people):
    for n in range(20):  # LOGIN_FAILURES_PER_ADDRESS across login IDs
        _fail(f"guess{n % 7}", "198.51.100.7", n % 10)
    _fail("sec", "198.51.100.8", 1)  # another address, under its limit
    db.session.commit()
    html = _html(admin_client.get("/admin/"))
    section = html[html.index("制限中の接続元") :]
    assert '<td class="breakable">198.51.100.7</td>' in section
    assert "198.51.100.8" not in section
    assert "20回" in section
    assert "7件" in section
    assert "自動的に解除されます" in section
    # It frees when the 20th latest failure (9 minutes ago) leaves the 15-minute window.
    frees = utcnow() - timedelta(minutes=9) + timedelta(minutes=15)
    assert jst_minute(frees) in section or jst_minute(frees + timedelta(minutes=1)) in section


def test_no_address_over_its_limit(admin_client, people):
    html = _html(admin_client.get("/admin/"))
    assert "いまはありません。" in html[html.index("制限中の接続元") :]
