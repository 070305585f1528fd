"""workflow.services.admin: the rules every admin surface (pages, API, CLI, import) shares."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_item, make_section, make_user
from workflow.audit import verify_chain
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.extensions import db
from workflow.models import ApiToken, HistoryEvent, Item, MeetingKind, User, UserSession
from workflow.models._types import utcnow
from workflow.services import admin
from workflow.states.states import Role

pytestmark = pytest.mark.usefixtures("app")


def admin_rows() -> list[HistoryEvent]:
    return list(
        db.session.scalars(
            select(HistoryEvent).where(HistoryEvent.event.like("admin.%")).order_by(HistoryEvent.id)
        )
    )


def live_sessions(user: User) -> int:
    return len(
        db.session.scalars(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
            )
        ).all()
    )


def test_create_user_checks_its_input_and_writes_one_audit_row():
    section = make_section("情報政策課")
    user = admin.create_user(
        None,
        "cli",
        login="tanaka",
        display_name="田中 一郎",
        role=Role.DEPARTMENT,
        section=section,
        email=" tanaka@city.example.jp ",
        password="a-long-enough-passphrase",
    )
    db.session.commit()
    assert user.check_password("a-long-enough-passphrase")
    assert user.email == "tanaka@city.example.jp"
    [row] = admin_rows()
    assert row.event == "admin.user.create"
    assert row.params["subject"] == {"type": "user", "id": user.id, "name": "tanaka"}
    assert row.params["after"]["section"] == "情報政策課"
    assert user.password_hash not in str(row.params)
    assert row.params["os_user"]

    with pytest.raises(Conflict, match="既に使われています"):
        admin.create_user(None, "cli", login="tanaka", display_name="x", role=Role.VIEWER)
    with pytest.raises(ValidationFailed, match="ログインID") as exc:
        admin.create_user(None, "cli", login="田中", display_name="x", role=Role.VIEWER)
    assert "login" in exc.value.fields
    with pytest.raises(ValidationFailed, match="メールアドレス"):
        admin.create_user(None, "cli", login="b", display_name="x", role=Role.VIEWER, email="a@b")
    with pytest.raises(ValidationFailed, match="課を指定"):
        admin.create_user(None, "cli", login="c", display_name="x", role=Role.DEPARTMENT)
    with pytest.raises(ValidationFailed, match="12文字以上"):
        admin.create_user(
            None, "cli", login="d", display_name="x", role=Role.VIEWER, password="short"
        )
    with pytest.raises(ValidationFailed, match="表示名"):
        admin.create_user(None, "cli", login="e", display_name="  ", role=Role.VIEWER)


def test_a_user_without_a_password_cannot_sign_in_with_any():
    user = admin.create_user(
        None, "api", login="dir", display_name="ディレクトリ", role=Role.VIEWER
    )
    assert not user.check_password("")
    assert not user.check_password("None")


def test_update_user_records_only_what_changed():
    a, b = make_section("甲課"), make_section("乙課")
    user = make_user(Role.DEPARTMENT, a, display_name="佐藤")
    boss = make_user(Role.ADMIN)
    assert admin.update_user(boss, "web", user, display_name="佐藤", section=a) is False
    assert admin.update_user(boss, "web", user, section=b, email="s@city.example.jp") is True
    [row] = admin_rows()
    assert row.event == "admin.user.update"
    assert row.actor_id == boss.id
    assert row.params["before"] == {"section": "甲課", "email": None}
    assert row.params["after"] == {"section": "乙課", "email": "s@city.example.jp"}
    with pytest.raises(ValidationFailed) as refused:
        admin.update_user(boss, "web", user, section=None)
    # Japanese pages show it: no English role code in it.
    assert refused.value.fields == {"section": ["所管課職員には課を指定してください。"]}


def test_the_last_active_admin_cannot_be_disabled_demoted_or_disable_themself():
    only = make_user(Role.ADMIN)
    with pytest.raises(ValidationFailed, match="自分自身"):
        admin.disable_user(only, "web", only)
    with pytest.raises(ValidationFailed, match="最後の有効なシステム管理者"):
        admin.disable_user(None, "cli", only)
    with pytest.raises(ValidationFailed, match="最後の有効なシステム管理者"):
        admin.update_user(None, "cli", only, role=Role.VIEWER)
    second = make_user(Role.ADMIN)
    admin.disable_user(second, "web", only, reason="退職")
    with pytest.raises(ValidationFailed, match="最後の有効なシステム管理者"):
        admin.update_user(None, "cli", second, role=Role.VIEWER)
    admin.enable_user(None, "cli", only)
    admin.update_user(None, "cli", second, role=Role.VIEWER)
    db.session.commit()
    assert [r.event for r in admin_rows()] == [
        "admin.user.disable",
        "admin.user.enable",
        "admin.user.update",
    ]
    assert admin_rows()[0].reason == "退職"


def test_an_admin_cannot_take_their_own_admin_role_even_with_another_admin():
    me, other = make_user(Role.ADMIN), make_user(Role.ADMIN)
    with pytest.raises(ValidationFailed, match="自分の管理者の役割は外せません") as refused:
        admin.update_user(me, "web", me, role=Role.VIEWER)
    assert "role" in refused.value.fields
    assert me.role is Role.ADMIN
    assert admin.update_user(other, "web", me, role=Role.VIEWER) is True
    assert [r.event for r in admin_rows()] == ["admin.user.update"]


def test_disable_ends_sessions_and_revokes_tokens_for_good():
    user = make_user(Role.VIEWER)
    db.session.add(UserSession.start(user))
    token_row, token = admin.issue_token(None, "cli", user, name="取込")
    db.session.commit()
    assert live_sessions(user) == 1
    admin.disable_user(None, "cli", user)
    db.session.commit()
    assert live_sessions(user) == 0
    assert admin_rows()[-1].params["after"]["sessions_ended"] == 1
    assert admin_rows()[-1].params["after"]["tokens_revoked"] == 1
    assert ApiToken.lookup(token) is None
    assert token_row.revoked_at is not None
    admin.enable_user(None, "cli", user)
    db.session.commit()
    assert ApiToken.lookup(token) is None  # enabling again does not bring the old token back


def test_passwords_set_and_reset_end_sessions_and_never_reach_the_audit_row():
    user = make_user(Role.VIEWER)
    db.session.add(UserSession.start(user))
    db.session.flush()
    admin.set_password(None, "cli", user, "another-long-passphrase")
    assert user.check_password("another-long-passphrase")
    assert not user.must_change_password
    assert live_sessions(user) == 0
    temporary = admin.reset_password(None, "api", user)
    assert user.check_password(temporary)
    assert len(temporary) >= 12
    assert user.must_change_password
    with pytest.raises(ValidationFailed, match="よく使われて"):
        admin.set_password(None, "cli", user, "password1234")
    db.session.commit()
    text = str([r.params for r in admin_rows()])
    assert user.password_hash not in text
    assert temporary not in text


def test_end_sessions_and_unlock():
    user = make_user(Role.VIEWER)
    db.session.add_all([UserSession.start(user), UserSession.start(user)])
    db.session.flush()
    assert admin.end_sessions(None, "cli", user) == 2
    admin.unlock(None, "cli", user)
    assert user.unlocked_at is not None
    db.session.commit()
    assert [r.event for r in admin_rows()] == ["admin.user.end_sessions", "admin.user.unlock"]


def test_tokens_expire_after_their_days_and_can_be_revoked(app):
    user = make_user(Role.VIEWER)
    row, token = admin.issue_token(None, "cli", user, name="集計", days=2)
    assert row.expires_at - row.created_at == timedelta(days=2)
    default, _ = admin.issue_token(None, "cli", user)
    assert default.expires_at - default.created_at == timedelta(days=app.config["API_TOKEN_DAYS"])
    assert ApiToken.lookup(token) is row
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert ApiToken.lookup(token) is None
    assert admin.token_state(row) == "expired"
    admin.revoke_token(None, "cli", default)
    assert admin.token_state(default) == "revoked"
    with pytest.raises(ValidationFailed, match="有効日数"):
        admin.issue_token(None, "cli", user, days=0)


def test_sections_rename_move_merge_retire():
    a = admin.create_section(None, "cli", name="旧課", bureau="総務局")
    b = admin.create_section(None, "cli", name="新課")
    with pytest.raises(Conflict):
        admin.create_section(None, "cli", name="新課")
    with pytest.raises(Conflict):
        admin.rename_section(None, "cli", a, "新課")
    admin.rename_section(None, "cli", a, "改名課")
    admin.move_section(None, "cli", a, bureau="企画局", division="企画部")
    assert (a.name, a.bureau, a.division) == ("改名課", "企画局", "企画部")
    worker = make_user(Role.DEPARTMENT, a)
    item = make_item(department=worker)
    version = item.version
    admin.merge_section(None, "cli", a, b)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Item, item.id).section_id == b.id
    assert db.session.get(Item, item.id).version == version + 1
    assert db.session.get(User, worker.id).section_id == b.id
    assert a.retired_at is not None
    assert a.merged_into_id == b.id
    with pytest.raises(ValidationFailed, match="廃止"):
        admin.merge_section(None, "cli", b, a)
    with pytest.raises(ValidationFailed, match="廃止"):
        admin.create_user(None, "cli", login="x", display_name="x", role=Role.DEPARTMENT, section=a)
    admin.retire_section(None, "cli", b)
    with pytest.raises(ValidationFailed, match="廃止されています"):
        admin.retire_section(None, "cli", b)
    db.session.commit()
    assert [r.event for r in admin_rows()] == [
        "admin.section.create",
        "admin.section.create",
        "admin.section.rename",
        "admin.section.move",
        "admin.section.merge",
        "admin.section.retire",
    ]
    assert verify_chain().problems == []


def test_meeting_kinds_are_added_and_changed_without_a_migration():
    kind = admin.create_meeting_kind(
        None, "cli", code="special_council", name="特別会議", level=3, sort_order=9
    )
    assert kind.deadline_days == 5
    with pytest.raises(Conflict):
        admin.create_meeting_kind(
            None, "cli", code="special_council", name="別", level=1, sort_order=10
        )
    with pytest.raises(Conflict):
        admin.create_meeting_kind(
            None, "cli", code="other", name="特別会議", level=1, sort_order=10
        )
    with pytest.raises(ValidationFailed, match="表示順"):
        admin.create_meeting_kind(None, "cli", code="other", name="他", level=1, sort_order=9)
    with pytest.raises(ValidationFailed, match="コード"):
        admin.create_meeting_kind(None, "cli", code="Bad Code", name="他", level=1, sort_order=11)
    assert admin.update_meeting_kind(None, "cli", kind, deadline_days=7, name="特別会議") is True
    assert admin.update_meeting_kind(None, "cli", kind, deadline_days=7) is False
    with pytest.raises(ValidationFailed, match="締切日数"):
        admin.update_meeting_kind(None, "cli", kind, deadline_days=-1)
    db.session.commit()
    assert db.session.get(MeetingKind, "special_council").deadline_days == 7
    assert admin_rows()[-1].params["before"] == {"deadline_days": 5}


def test_lookups_say_what_is_missing():
    with pytest.raises(NotFound, match="ログインID「nobody」"):
        admin.user_by_login("nobody")
    with pytest.raises(NotFound, match="課「無い課」"):
        admin.section_by_name("無い課")


def test_two_admins_disabling_each_other_at_once_leave_one_admin(app, engine_name):
    if engine_name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: no two can interleave")
    first, second = make_user(Role.ADMIN, login="first"), make_user(Role.ADMIN, login="second")
    db.session.commit()
    admin.disable_user(first, "api", second)  # holds the admins' rows until commit
    outcome: list[str] = []

    def the_other_admin() -> None:
        with app.app_context():
            try:
                admin.disable_user(
                    admin.user_by_login("second"), "api", admin.user_by_login("first")
                )
                db.session.commit()
                outcome.append("disabled")
            except ValidationFailed as exc:
                db.session.rollback()
                outcome.append(exc.message)
            finally:
                db.session.remove()

    thread = threading.Thread(target=the_other_admin)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the first transaction's locks
    db.session.commit()
    thread.join(10)
    assert outcome == ["最後の有効なシステム管理者は無効にできません。"]
    db.session.expire_all()
    assert db.session.scalar(select(User.active).where(User.login == "first")) is True
