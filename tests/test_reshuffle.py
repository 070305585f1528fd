"""The April reshuffle (issue 18): a CSV previewed, then applied in one transaction, from the
CLI, the admin pages and the API; every bad line named with its number, nothing half-applied."""

from __future__ import annotations

import contextlib
import io
import threading

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from tests.factories import make_section, make_user
from tests.support import API, admin_events, auth, login
from workflow.errors import Conflict, ValidationFailed
from workflow.extensions import db
from workflow.models import User, UserImport
from workflow.models._types import utcnow
from workflow.services import admin, reshuffle
from workflow.states.states import Role

HEADER = "login,name,email,role,section,action\n"


@pytest.fixture
def world(app: Flask) -> dict:
    """Two sections and a retired one; a department user, a viewer, the admin, a bystander."""
    planning = make_section("企画課")
    finance = make_section("財政課")
    old = make_section("旧総務課", retired_at=utcnow())
    users = {
        "suzuki": make_user(Role.DEPARTMENT, finance, login="suzuki", display_name="鈴木 花子"),
        "sato": make_user(Role.VIEWER, login="sato", display_name="佐藤 次郎"),
        "admin": make_user(Role.ADMIN, login="admin", display_name="管理 太郎"),
        "bystander": make_user(Role.DEPARTMENT, planning, login="bystander", display_name="傍観"),
    }
    db.session.commit()
    return {"planning": planning, "finance": finance, "old": old, **users}


CLEAN = (
    HEADER
    + "tanaka,田中 一郎,tanaka@city.example.jp,department,企画課,create\n"
    + "suzuki,,,,企画課,update\n"
    + "sato,,,,,disable\n"
)


def users_table(*logins: str) -> list[tuple]:
    """Every column of every user (of *logins* only, if given), to show what did not change."""
    query = sa.select(User.__table__).order_by(User.id)
    if logins:
        query = query.where(User.login.in_(logins))
    return [tuple(row) for row in db.session.execute(query).all()]


def user(login_id: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.login == login_id))


def messages(plan: reshuffle.Plan) -> list[str]:
    return [str(problem) for problem in plan.problems]


# -- reading the bytes --------------------------------------------------------------------------


def test_excel_shift_jis_and_utf8_with_bom_read_the_same(world):
    cp932 = CLEAN.replace("\n", "\r\n").encode("cp932")
    bom = b"\xef\xbb\xbf" + CLEAN.encode()
    assert reshuffle.read(cp932) == reshuffle.read(bom) == reshuffle.read(CLEAN.encode()) == CLEAN
    plan = reshuffle.check(reshuffle.read(cp932))
    assert plan.ok, messages(plan)
    assert plan.changes[0].value("display_name") == "田中 一郎"


def test_bytes_neither_utf8_nor_shift_jis_are_refused_in_japanese(world):
    with pytest.raises(ValidationFailed) as refused:
        reshuffle.read(b"login,name\n\x81")
    assert "文字コード" in refused.value.message
    for data in (b"\x80\x80\x80", "login".encode("utf-16")):
        with pytest.raises(ValidationFailed):
            reshuffle.read(data)


# -- checking the lines -------------------------------------------------------------------------


def test_every_problem_is_listed_with_its_line_number(world):
    text = (
        HEADER
        + "tanaka,田中,,department,企画課,create\n"  # 2: fine
        + "yamada,山田,,department,広報課,create\n"  # 3: unknown section
        + "\n"  # 4: blank
        + "tanaka,田中,,viewer,,create\n"  # 5: duplicate login
        + "nobody,,,,,update\n"  # 6: unknown login
        + "kato,加藤,,secretary,,create\n"  # 7: misspelt role
        + "suzuki,鈴木,,department,,create\n"  # 8: existing login
        + "ito,伊藤,,department,,create\n"  # 9: department without section
        + "mori,森,,department,旧総務課,create\n"  # 10: retired section
        + "abe,安倍,abe@@example,viewer,,create\n"  # 11: bad e-mail
        + "sato,,,,,delete\n"  # 12: unknown action
        + "ueda,上田,,viewer\n"  # 13: too few columns
        + ",,,,,\n"  # 14: blank in Excel's way
    )
    plan = reshuffle.check(text)
    assert messages(plan) == [
        "3行目: 課「広報課」は登録されていません。",
        "4行目: 空行です。",
        "5行目: ログインID「tanaka」が2行目と重複しています。",
        "6行目: ログインID「nobody」の利用者はいません。",
        "7行目: 役割「secretary」はありません（department・secretariat・viewer・admin）。",
        "8行目: ログインID「suzuki」は既に使われています。",
        "9行目: 所管課職員（department）には課（section）を指定してください。",
        "10行目: 課「旧総務課」は廃止されています。",
        "11行目: メールアドレス「abe@@example」の形式が正しくありません（例: tanaka@city.example.jp）。",
        "12行目: 操作「delete」はありません（create・update・disable）。",
        "13行目: 列の数が6ではありません（4列）。",
        "14行目: 空行です。",
    ]


def test_a_file_without_its_header_is_refused_on_line_1(world):
    plan = reshuffle.check("tanaka,田中,,viewer,,create\n")
    assert messages(plan) == [
        "1行目: 1行目が見出し行ではありません。"
        "1行目を「login,name,email,role,section,action」にしてください。"
    ]
    assert messages(reshuffle.check(HEADER)) == [
        "2行目: 利用者の行がありません。2行目から1行に1人ずつ書いてください。"
    ]
    plan = reshuffle.check("login,name,role,section,action\n")
    assert messages(plan) == [
        "1行目: 見出し行に列「email」がありません（login,name,email,role,section,action）。"
    ]


def test_japanese_headers_in_any_order(world):
    plan = reshuffle.check("操作,ログインID,氏名,メール,役割,課\ncreate,kudo,工藤,,viewer,\n")
    assert plan.ok, messages(plan)
    assert (plan.changes[0].login, plan.changes[0].action) == ("kudo", "create")


def test_the_preview_says_what_each_line_changes(world):
    text = CLEAN + "bystander,傍観,,,企画課,update\n"
    plan = reshuffle.check(text)
    assert plan.ok, messages(plan)
    assert [(c.line, c.login, c.action_label, c.describe()) for c in plan.changes] == [
        (
            2,
            "tanaka",
            "作成",
            "氏名: 田中 一郎、役割: 所管課職員（department）、課: 企画課、"
            "メール: tanaka@city.example.jp",
        ),
        (3, "suzuki", "更新", "課: 財政課 → 企画課"),
        (4, "sato", "無効化", "無効にする（セッションを終了し、APIトークンは使えなくなる）"),
        (5, "bystander", "更新", "変更なし"),
    ]
    assert plan.summary() == "作成 1件・更新 1件・無効化 1件・変更なし 1件"


def test_the_last_admin_cannot_be_disabled_or_demoted_nor_an_admin_disable_themself(world):
    plan = reshuffle.check(HEADER + "admin,,,,,disable\n")
    assert messages(plan) == [
        "2行目: この行で「admin」が管理者でなくなると、有効なシステム管理者（admin）が"
        "一人もいなくなります。"
    ]
    plan = reshuffle.check(HEADER + "admin,,,viewer,,update\n")
    assert len(plan.problems) == 1
    # With a new admin in the same file, the old one may go …
    handover = HEADER + "kondo,近藤,,admin,,create\nadmin,,,,,disable\n"
    assert reshuffle.check(handover).ok
    # … but not by their own hand.
    plan = reshuffle.check(handover, actor=world["admin"])
    assert messages(plan) == ["3行目: 自分自身を無効にすることはできません。"]


# -- the CLI ------------------------------------------------------------------------------------


def run(app: Flask, tmp_path, content: bytes, *args: str) -> Result:
    path = tmp_path / "reshuffle.csv"
    path.write_bytes(content)
    db.session.rollback()  # no transaction held (SQLite's write lock) while the command runs
    result = app.test_cli_runner().invoke(args=["user", "import", str(path), *args])
    db.session.expire_all()
    return result


def test_cli_dry_run_prints_the_preview_and_changes_nothing(app, world, tmp_path):
    before = users_table()
    result = run(app, tmp_path, CLEAN.encode("cp932"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "2行目: tanaka 作成: 氏名: 田中 一郎、役割: 所管課職員（department）、課: 企画課、"
        "メール: tanaka@city.example.jp",
        "3行目: suzuki 更新: 課: 財政課 → 企画課",
        "4行目: sato 無効化: 無効にする（セッションを終了し、APIトークンは使えなくなる）",
        "確認のみ（適用していません）: 作成 1件・更新 1件・無効化 1件",
    ]
    assert users_table() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserImport)) == 0


def test_cli_with_problems_lists_them_all_on_stderr_exits_1_and_applies_nothing(
    app, world, tmp_path
):
    before = users_table()
    bad = CLEAN + "\nkato,加藤,,secretary,,create\n"
    result = run(app, tmp_path, bad.encode())
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "エラー: 5行目: 空行です。",
        "エラー: 6行目: 役割「secretary」はありません（department・secretariat・viewer・admin）。",
    ]
    assert users_table() == before


def test_cli_refuses_an_undecodable_file(app, world, tmp_path):
    result = run(app, tmp_path, b"\x80\x80\x80")
    assert result.exit_code == 1
    assert "文字コード" in result.stderr


def test_cli_applies_every_line_and_leaves_everyone_else_alone(app, world, tmp_path):
    untouched = users_table("admin", "bystander")
    result = run(app, tmp_path, CLEAN.encode("cp932"))
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.splitlines()[-1] == "適用しました: 作成 1件・更新 1件・無効化 1件"

    tanaka = user("tanaka")
    assert (tanaka.display_name, tanaka.role, tanaka.section.name, tanaka.email) == (
        "田中 一郎",
        Role.DEPARTMENT,
        "企画課",
        "tanaka@city.example.jp",
    )
    assert tanaka.active
    # No usable password until the directory or an admin's reset gives one.
    for password in ("", "!", "correct-horse-battery"):
        assert not tanaka.check_password(password)
    assert user("suzuki").section.name == "企画課"
    assert not user("sato").active
    assert users_table("admin", "bystander") == untouched

    row = db.session.scalar(sa.select(UserImport))
    assert row.applied_at is not None
    assert row.applied_by is None  # the CLI: its audit rows name the OS account
    assert admin_events() == [
        "admin.user.create",
        "admin.user.update",
        "admin.user.disable",
        "admin.user_import.apply",
    ]
    verify = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output


def test_a_line_refused_while_applying_rolls_back_every_line(app, client, world, monkeypatch):
    """One transaction: a refusal on the last line leaves the first lines unapplied too."""
    response = api_upload(client, world["admin"], CLEAN.encode())
    import_id = response.json["id"]
    before = users_table()

    def refuse(*_args, **_kwargs):
        raise ValidationFailed.field("user", "この利用者は無効にできません。")

    monkeypatch.setattr(admin, "disable_user", refuse)
    response = client.post(
        f"{API}/admin/user-imports/{import_id}/apply", headers=auth(world["admin"])
    )
    assert response.status_code == 422
    assert response.json["error"]["message"] == "この利用者は無効にできません。"
    db.session.expire_all()
    assert users_table() == before
    assert user("tanaka") is None
    assert db.session.get(UserImport, import_id).applied_at is None
    assert admin_events() == []


# -- the pages ----------------------------------------------------------------------------------


def upload(client, content: bytes, filename: str = "2027年4月.csv"):
    return client.post(
        "/admin/imports/",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("who", ["suzuki", "sato"])
def test_the_pages_are_the_admins_alone(client, world, who):
    login(client, world[who])
    assert client.get("/admin/imports/").status_code == 403
    assert upload(client, CLEAN.encode()).status_code == 403


def test_the_pages_send_the_public_to_sign_in(client, world):
    response = client.get("/admin/imports/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_page_upload_with_problems_shows_them_all_and_stores_nothing(client, world):
    login(client, world["admin"])
    response = upload(client, (CLEAN + "yamada,山田,,department,広報課,create\n").encode("cp932"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "5行目: 課「広報課」は登録されていません。" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserImport)) == 0


def test_a_page_upload_keeps_the_file_and_shows_its_preview(client, world):
    login(client, world["admin"])
    response = upload(client, b"\xef\xbb\xbf" + CLEAN.encode())
    assert response.status_code == 302
    row = db.session.scalar(sa.select(UserImport))
    assert response.headers["Location"].endswith(f"/admin/imports/{row.id}")
    assert (row.filename, row.content, row.applied_at) == ("2027年4月.csv", CLEAN, None)
    html = client.get(f"/admin/imports/{row.id}").get_data(as_text=True)
    assert '<th scope="col">行</th><th scope="col">ログインID</th>' in html
    assert "課: 財政課 → 企画課" in html
    assert "パスワードがありません" in html
    assert "適用する" in html
    index = client.get("/admin/imports/").get_data(as_text=True)
    assert "2027年4月.csv" in index
    assert "未適用" in index


def test_a_page_apply_needs_the_confirmation_box(client, world):
    login(client, world["admin"])
    upload(client, CLEAN.encode())
    row = db.session.scalar(sa.select(UserImport))
    response = client.post(f"/admin/imports/{row.id}/apply", data={})
    assert response.status_code == 422
    assert "確認のチェックを入れてください。" in response.get_data(as_text=True)
    assert user("tanaka") is None


# -- the API ------------------------------------------------------------------------------------


def api_upload(client, who: User, content: bytes):
    return client.post(
        f"{API}/admin/user-imports",
        data={"file": (io.BytesIO(content), "reshuffle.csv")},
        headers=auth(who),
        content_type="multipart/form-data",
    )


def test_api_upload_answers_the_preview_or_every_problem(client, world):
    response = api_upload(client, world["admin"], CLEAN.encode("cp932"))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["problems"] == []
    assert body["applied_at"] is None
    assert [(c["line"], c["login"], c["action"]) for c in body["plan"]] == [
        (2, "tanaka", "create"),
        (3, "suzuki", "update"),
        (4, "sato", "disable"),
    ]
    assert (
        client.get(f"{API}/admin/user-imports/{body['id']}", headers=auth(world["admin"])).json
        == body
    )

    response = api_upload(client, world["admin"], (HEADER + "\nx,,,,,update\n").encode())
    assert response.status_code == 422
    assert response.json["error"]["details"]["problems"] == [
        {"line": 2, "message": "空行です。"},
        {"line": 3, "message": "ログインID「x」の利用者はいません。"},
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserImport)) == 1


def test_api_is_for_admin_tokens_only(client, world):
    assert api_upload(client, world["suzuki"], CLEAN.encode()).status_code == 403
    response = client.post(f"{API}/admin/user-imports")
    assert response.status_code == 401
    assert client.get(f"{API}/admin/user-imports/1", headers=auth(world["sato"])).status_code == 403


def apply_on_page(client, import_id: int, digest: str | None = None):
    if digest is None:
        digest = reshuffle.digest(db.session.get(UserImport, import_id))
    return client.post(
        f"/admin/imports/{import_id}/apply",
        data={"confirm": "y", "plan_digest": digest},
        follow_redirects=True,
    )


def test_a_preview_made_in_march_is_applied_on_april_1st(client, world):
    login(client, world["admin"])
    upload(client, CLEAN.encode("cp932"))
    row = db.session.scalar(sa.select(UserImport))
    # Meanwhile, changes to users the file does not name: the preview still holds.
    admin.update_user(None, "cli", world["bystander"], display_name="傍観 三郎")
    db.session.commit()

    html = apply_on_page(client, row.id).get_data(as_text=True)
    assert "適用しました: 作成 1件・更新 1件・無効化 1件" in html
    assert "適用済" in html
    assert "管理 太郎" in html  # who applied it
    assert "適用する</button>" not in html  # read-only now
    assert user("tanaka") is not None
    assert not user("sato").active
    assert user("bystander").display_name == "傍観 三郎"

    html = apply_on_page(client, row.id).get_data(as_text=True)
    assert "このファイルは既に適用されています。" in html


def test_a_stale_preview_is_refused_and_the_new_one_shown(client, world):
    login(client, world["admin"])
    upload(client, CLEAN.encode())
    row = db.session.scalar(sa.select(UserImport))
    old_digest = reshuffle.digest(row)
    # Someone moves suzuki before the file is applied: its line now changes nothing.
    admin.update_user(None, "cli", world["suzuki"], section=world["planning"])
    db.session.commit()
    events = admin_events()

    html = apply_on_page(client, row.id, old_digest).get_data(as_text=True)
    assert reshuffle.STALE_MESSAGE in html
    assert user("tanaka") is None
    assert user("sato").active
    assert admin_events() == events
    assert "変更なし" in html  # the new preview, to confirm

    html = apply_on_page(client, row.id, old_digest).get_data(as_text=True)
    assert reshuffle.STALE_MESSAGE in html  # a page showing the old preview cannot apply it
    assert user("tanaka") is None
    html = apply_on_page(client, row.id).get_data(as_text=True)
    assert "適用しました: 作成 1件・更新 0件・無効化 1件・変更なし 1件" in html
    assert user("tanaka") is not None


def test_a_file_refused_since_its_preview_shows_why_and_applies_nothing(client, world):
    login(client, world["admin"])
    upload(client, CLEAN.encode())
    row = db.session.scalar(sa.select(UserImport))
    admin.retire_section(None, "cli", world["planning"])
    db.session.commit()

    response = client.post(
        f"/admin/imports/{row.id}/apply",
        data={"confirm": "y", "plan_digest": reshuffle.digest(row)},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert reshuffle.STALE_MESSAGE in html
    assert "2行目: 課「企画課」は廃止されています。" in html
    assert user("tanaka") is None
    assert db.session.get(UserImport, row.id).applied_at is None


def test_api_apply_and_its_stale_preview(client, world):
    import_id = api_upload(client, world["admin"], CLEAN.encode()).json["id"]
    admin.update_user(None, "cli", world["sato"], display_name="佐藤 二郎")
    admin.disable_user(None, "cli", world["sato"])
    db.session.commit()
    url = f"{API}/admin/user-imports/{import_id}/apply"

    response = client.post(url, headers=auth(world["admin"]))
    assert response.status_code == 409
    error = response.json["error"]
    assert error["message"] == reshuffle.STALE_MESSAGE
    assert error["details"]["plan"][2] == {
        "line": 4,
        "login": "sato",
        "action": "disable",
        "changes": [],
        "noop": True,
    }
    assert user("tanaka") is None

    response = client.post(url, headers=auth(world["admin"]))  # the new preview, seen
    assert response.status_code == 200, response.json
    assert response.json["applied_by"] == "admin"
    assert response.json["summary"] == "作成 1件・更新 1件・無効化 0件・変更なし 1件"
    assert user("tanaka") is not None
    assert client.post(url, headers=auth(world["admin"])).status_code == 409


def test_two_admins_applying_at_once_apply_it_once(app, world):
    plan = reshuffle.check(CLEAN)
    import_id = reshuffle.store(world["admin"], "異動.csv", CLEAN.encode(), CLEAN, plan).id
    db.session.commit()
    both_loaded = threading.Barrier(2, timeout=2)  # SQLite: the second waits for the first's lock
    results: list[str] = []

    def press_apply() -> None:
        with app.app_context():
            try:
                user_import = db.session.get(UserImport, import_id)
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_loaded.wait()
                reshuffle.apply(None, "web", user_import)
                db.session.commit()
                results.append("applied")
            except Conflict as refused:
                db.session.rollback()
                results.append(refused.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press_apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["applied", "このファイルは既に適用されています。"]
    assert admin_events().count("admin.user_import.apply") == 1
    assert admin_events().count("admin.user.create") == 1


def test_a_broken_quote_is_named_by_its_line(world):
    plan = reshuffle.check(HEADER + 'kudo,"工藤,,viewer,,create\n')
    assert [problem.line for problem in plan.problems] == [2]
    assert "CSVとして読めません" in plan.problems[0].message
