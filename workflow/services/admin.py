"""An admin's changes to users, API tokens, sections, meeting kinds (issue 18), 閉庁日 and a
meeting's own 申込締切 (issue 19).

The one place these rules live: the admin pages, ``/api/v1/admin/…``, the CLI and the April
reshuffle import all call these functions. Each checks its input (a Japanese
:class:`~workflow.errors.ValidationFailed` naming the field, :class:`~workflow.errors.Conflict`,
:class:`~workflow.errors.NotFound`), makes the change and adds its audit row
(:func:`workflow.services.audit_log.record`) to the session; the caller commits, so the change
and its row land together or not at all.

*actor* is the admin making the change (None on the CLI) and *via* where it came from.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from pydantic_core import PydanticCustomError
from sqlalchemy import select, update

from workflow import deadlines
from workflow.errors import Conflict, NotFound, ValidationFailed
from workflow.extensions import db
from workflow.models import (
    ApiToken,
    ClosedDay,
    Item,
    Meeting,
    MeetingKind,
    Section,
    User,
    UserSession,
)
from workflow.models._types import utcnow
from workflow.passwords import password_problem
from workflow.schemas.limits import (
    CODE_MAX,
    EMAIL_MAX,
    NAME_MAX,
    REASON_MAX,
    TOKEN_NAME_MAX,
    storable,
)
from workflow.schemas.types import check_text
from workflow.services import audit_log
from workflow.services.audit_log import Via
from workflow.services.items import retired_phrase
from workflow.states.states import Role
from workflow.wareki import to_wareki

# A login ID: what the sign-in form, the CLI and the reshuffle file accept.
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
# A meeting kind's code is part of URLs and of stored routes: lower-case ASCII only.
KIND_CODE_PATTERN = re.compile(rf"[a-z][a-z0-9_]{{0,{CODE_MAX - 1}}}")
# Deliberately loose: one @, something on each side, a dot in the domain, no blanks. Whether the
# address exists is for the mail server to say; this only catches typing slips.
_EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
ROLES_TEXT = "・".join(role.value for role in Role)
TOKEN_DAYS_MAX = 3650  # ten years: past that, "expires" means nothing
DEADLINE_DAYS_MAX = 60  # 開庁日: three months of working days
LEVEL_MAX = 99
SORT_ORDER_MAX = 9999
KIND_NAME_MAX = 100  # as wide as meeting_kinds.name


class _Unset:
    """A keyword left out (``None`` is a value: no e-mail, no section)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


# -- lookups -------------------------------------------------------------------------------------


def user_by_login(login: str) -> User:
    """The user *login*, or NotFound 「ログインID「…」の利用者はいません。」."""
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        raise NotFound(f"ログインID「{login}」の利用者はいません。", {"login": login})
    return user


def section_by_name(name: str) -> Section:
    """The section named *name*, or NotFound 「課「…」は登録されていません。」."""
    section = db.session.scalar(select(Section).where(Section.name == name.strip()))
    if section is None:
        raise NotFound(f"課「{name.strip()}」は登録されていません。", {"name": name})
    return section


def parse_role(value: str, field: str = "role") -> Role:
    """*value* as a role, or ValidationFailed naming the roles there are."""
    try:
        return Role(value)
    except ValueError:
        raise ValidationFailed.field(
            field, f"役割「{value}」はありません。{ROLES_TEXT} のいずれかを指定してください。"
        ) from None


# -- checks --------------------------------------------------------------------------------------


def _text(field: str, label: str, value: str, limit: int = NAME_MAX, *, required: bool) -> str:
    """*value* by the one text rule of the pages and the API (workflow.schemas.types)."""
    if not isinstance(value, str):
        raise ValidationFailed.field(field, f"{label}: 文字列で入力してください。")
    try:
        return check_text(value, limit, required=required)
    except PydanticCustomError as exc:
        raise ValidationFailed.field(field, f"{label}: {exc.message()}") from None


def check_login(login: str) -> str:
    if not isinstance(login, str) or not LOGIN_PATTERN.fullmatch(login):
        raise ValidationFailed.field(
            "login",
            f"ログインID「{login}」は使えません。英数字と . _ @ - で64文字以内にしてください。",
        )
    return login


def check_email(email: str | None) -> str | None:
    """A trimmed address, or None for blank (notices stay in the app)."""
    if email is None:
        return None
    if not isinstance(email, str):
        raise ValidationFailed.field("email", "メールアドレス: 文字列で入力してください。")
    email = email.strip()
    if not email:
        return None
    if len(email) > EMAIL_MAX:
        raise ValidationFailed.field(
            "email", f"メールアドレスは{EMAIL_MAX}文字以内で入力してください。"
        )
    if not storable(email, one_line=True) or not _EMAIL_PATTERN.fullmatch(email):
        raise ValidationFailed.field(
            "email",
            f"メールアドレス「{email}」の形式が正しくありません（例: tanaka@city.example.jp）。",
        )
    return email


def _check_section_for(role: Role, section: Section | None, *, changed: bool) -> None:
    """A department user belongs to a section; a retired one takes nobody new."""
    if role is Role.DEPARTMENT and section is None:
        raise ValidationFailed.field("section", "所管課職員には課を指定してください。")
    if changed and section is not None and section.retired_at is not None:
        raise ValidationFailed.field(
            "section", f"{retired_phrase(section)}。利用者を所属させられません。"
        )


def _section_name(section: Section | None) -> str | None:
    return section.name if section is not None else None


def _shown(value: Any) -> Any:
    """A changed value as its audit row keeps it: a role by its value, a section by its name."""
    if isinstance(value, Role):
        return value.value
    if isinstance(value, Section):
        return value.name
    return value


def _differing(row: Any, wanted: dict[str, Any]) -> dict[str, Any]:
    """The *wanted* values that are not *row*'s already."""
    return {field: value for field, value in wanted.items() if getattr(row, field) != value}


def _set_changed(row: Any, wanted: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Set on *row* what differs; each changed field before and after, as the audit row shows it."""
    changed = _differing(row, wanted)
    before = {field: _shown(getattr(row, field)) for field in changed}
    for field, value in changed.items():
        setattr(row, field, value)
    return before, {field: _shown(value) for field, value in changed.items()}


def _other_active_admins(user: User) -> int:
    """Active admins other than *user*.

    Every active admin's row is locked until commit (PostgreSQL), *user*'s included: two admins
    disabling each other at once then take their turns, and the second sees the first's change
    (SQLite writes one transaction at a time anyway).
    """
    ids = db.session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active).with_for_update()
    ).all()
    return len([i for i in ids if i != user.id])


def _keep_an_admin(user: User, message: str) -> None:
    if user.active and user.role is Role.ADMIN and _other_active_admins(user) == 0:
        raise ValidationFailed.field("user", message)


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


# -- users ---------------------------------------------------------------------------------------


def _user_fields(user: User) -> dict[str, Any]:
    """What an audit row shows of a user (never a password hash)."""
    return {
        "login": user.login,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role.value,
        "section": _section_name(user.section),
        "active": user.active,
        "must_change_password": user.must_change_password,
        "directory": user.directory,
    }


def create_user(
    actor: User | None,
    via: Via,
    *,
    login: str,
    display_name: str,
    role: Role,
    section: Section | None = None,
    email: str | None = None,
    password: str | None = None,
    must_change_password: bool = False,
) -> User:
    """A new user. Without *password* the account has no usable local password (a directory
    account, or one an admin gives a password to later)."""
    login = check_login(login)
    display_name = _text("display_name", "表示名", display_name, required=True)
    email = check_email(email)
    _check_section_for(role, section, changed=True)
    if password is not None and (problem := password_problem(password)):
        raise ValidationFailed.field("password", problem)
    if db.session.scalar(select(User.id).where(User.login == login)) is not None:
        raise Conflict(f"ログインID「{login}」は既に使われています。", {"login": login})
    user = User(
        login=login,
        display_name=display_name,
        role=role,
        section=section,
        email=email,
        active=True,
        must_change_password=must_change_password,
    )
    if password is not None:
        user.set_password(password)
    else:
        user.clear_password()
    db.session.add(user)
    db.session.flush()
    audit_log.record(actor, via, "user.create", "user", user.id, login, {}, _user_fields(user))
    return user


def update_user(
    actor: User | None,
    via: Via,
    user: User,
    *,
    display_name: str | _Unset = UNSET,
    email: str | None | _Unset = UNSET,
    role: Role | _Unset = UNSET,
    section: Section | None | _Unset = UNSET,
) -> bool:
    """Change what is given; one audit row with the fields that changed (False: nothing did).
    Taking the admin role from the last active admin, or from the actor themself, is refused."""
    wanted: dict[str, Any] = {}
    if not isinstance(display_name, _Unset):
        wanted["display_name"] = _text("display_name", "表示名", display_name, required=True)
    if not isinstance(email, _Unset):
        wanted["email"] = check_email(email)
    new_role = user.role if isinstance(role, _Unset) else role
    new_section = user.section if isinstance(section, _Unset) else section
    _check_section_for(
        new_role, new_section, changed=new_section is not None and new_section is not user.section
    )
    if new_role is not user.role:
        if user.role is Role.ADMIN:
            _keep_an_admin(user, "最後の有効なシステム管理者の役割は変更できません。")
        if user.role is Role.ADMIN and actor is not None and actor.id == user.id:
            # An admin who drops their own role lands on a 403 at once: another admin does it.
            raise ValidationFailed.field(
                "role", "自分の管理者の役割は外せません。別の管理者に変更を依頼してください。"
            )
        wanted["role"] = new_role
    if new_section is not user.section:
        wanted["section"] = new_section

    before, after = _set_changed(user, wanted)
    if not after:
        return False
    db.session.flush()
    audit_log.record(actor, via, "user.update", "user", user.id, user.login, before, after)
    return True


def disable_user(actor: User | None, via: Via, user: User, reason: str = "") -> None:
    """無効にする: ends the user's sessions and revokes their API tokens for good (enabling the
    user again does not bring them back). Refused for the actor themself and for the last
    active admin."""
    if actor is not None and actor.id == user.id:
        raise ValidationFailed.field("user", "自分自身を無効にすることはできません。")
    reason = _text("reason", "理由", reason or "", REASON_MAX, required=False)
    if not user.active:
        _revoke_sessions(user)  # nothing to record: the account was already off
        _revoke_tokens(user)
        return
    _keep_an_admin(user, "最後の有効なシステム管理者は無効にできません。")
    user.active = False
    ended = _revoke_sessions(user)
    revoked = _revoke_tokens(user)
    db.session.flush()
    audit_log.record(
        actor,
        via,
        "user.disable",
        "user",
        user.id,
        user.login,
        {"active": True},
        {"active": False, "sessions_ended": ended, "tokens_revoked": revoked},
        reason,
    )


def enable_user(actor: User | None, via: Via, user: User) -> None:
    """有効にする: the user may sign in again; the tokens revoked when disabled stay revoked."""
    if user.active:
        return
    if (
        user.section is not None
        and user.section.retired_at is not None
        and (user.role is Role.DEPARTMENT)
    ):
        raise ValidationFailed.field(
            "section",
            f"{retired_phrase(user.section)}。先に所属する課を変更してください。",
        )
    user.active = True
    db.session.flush()
    audit_log.record(
        actor, via, "user.enable", "user", user.id, user.login, {"active": False}, {"active": True}
    )


def check_local_password(user: User) -> None:
    """A directory account has no local password to set."""
    if user.directory:
        raise ValidationFailed.field(
            "password",
            f"利用者「{user.login}」はディレクトリ（LDAP）でサインインするため、"
            "ここではパスワードを設定できません。",
        )


def set_password(
    actor: User | None, via: Via, user: User, password: str, *, must_change: bool = False
) -> None:
    """A new local password (the policy of workflow.passwords); ends the user's sessions."""
    check_local_password(user)
    if not isinstance(password, str):
        raise ValidationFailed.field("password", "パスワードを文字列で指定してください。")
    if problem := password_problem(password):
        raise ValidationFailed.field("password", problem)
    _replace_password(actor, via, user, password, must_change=must_change, event="password")


def _replace_password(
    actor: User | None, via: Via, user: User, password: str, *, must_change: bool, event: str
) -> None:
    """Store *password*'s hash, end the sessions, and record it (never the password or hash)."""
    before = {"must_change_password": user.must_change_password}
    user.set_password(password)
    user.must_change_password = must_change
    ended = _revoke_sessions(user)
    db.session.flush()
    after = {"must_change_password": must_change, "sessions_ended": ended}
    audit_log.record(actor, via, f"user.{event}", "user", user.id, user.login, before, after)


def temporary_password() -> str:
    """16 random URL-safe characters: past the policy's length, never a common password."""
    while True:
        password = secrets.token_urlsafe(12)
        if password_problem(password) is None:
            return password


def reset_password(actor: User | None, via: Via, user: User) -> str:
    """A random temporary password, to be changed at the next sign-in; returned to show once."""
    check_local_password(user)
    password = temporary_password()
    _replace_password(actor, via, user, password, must_change=True, event="password_reset")
    return password


def _revoke_sessions(user: User) -> int:
    """Revoke every session of *user* not revoked yet; how many."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def _revoke_tokens(user: User) -> int:
    """Revoke every API token of *user* not revoked yet; how many. Enabling the user again
    does not bring them back: an admin issues new ones."""
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def end_sessions(actor: User | None, via: Via, user: User) -> int:
    """Revoke every live session of *user*; how many there were."""
    ended = _revoke_sessions(user)
    audit_log.record(
        actor, via, "user.end_sessions", "user", user.id, user.login, {}, {"sessions_ended": ended}
    )
    return ended


def unlock(actor: User | None, via: Via, user: User) -> None:
    """Clear the sign-in limit of *user*'s account (failures before now stop counting)."""
    before = {"unlocked_at": _when(user.unlocked_at)}
    user.unlocked_at = utcnow()
    db.session.flush()
    audit_log.record(
        actor,
        via,
        "user.unlock",
        "user",
        user.id,
        user.login,
        before,
        {"unlocked_at": _when(user.unlocked_at)},
    )


# -- API tokens ----------------------------------------------------------------------------------


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """``revoked``, ``expired`` or ``active``."""
    now = now or utcnow()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def _token_days(days: int | None) -> int:
    if days is None:
        return int(current_app.config.get("API_TOKEN_DAYS", 365))
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= TOKEN_DAYS_MAX:
        raise ValidationFailed.field(
            "days", f"有効日数は1から{TOKEN_DAYS_MAX}までの整数で指定してください。"
        )
    return days


def issue_token(
    actor: User | None, via: Via, user: User, *, name: str = "", days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for *user*, expiring after *days* (default ``API_TOKEN_DAYS``); the plain
    token is returned to show once."""
    name = _text("name", "トークン名", name or "", TOKEN_NAME_MAX, required=False)
    days = _token_days(days)
    if not user.active:
        raise ValidationFailed.field(
            "user", f"利用者「{user.login}」は無効にされているため、トークンを発行できません。"
        )
    row, token = ApiToken.issue(user)
    row.name = name
    row.created_at = utcnow()
    row.expires_at = row.created_at + timedelta(days=days)
    db.session.add(row)
    db.session.flush()
    audit_log.record(
        actor,
        via,
        "token.issue",
        "token",
        row.id,
        name or f"{user.login}のトークン",
        {},
        {"user": user.login, "name": name, "expires_at": _when(row.expires_at)},
    )
    return row, token


def revoke_token(actor: User | None, via: Via, token: ApiToken) -> None:
    """失効させる: the token stops working at once (a revoked one stays as it was)."""
    if token.revoked_at is not None:
        return
    token.revoked_at = utcnow()
    db.session.flush()
    audit_log.record(
        actor,
        via,
        "token.revoke",
        "token",
        token.id,
        token.name or f"{token.user.login}のトークン",
        {"revoked_at": None},
        {"user": token.user.login, "revoked_at": _when(token.revoked_at)},
    )


# -- sections ------------------------------------------------------------------------------------


def _section_name_free(name: str, section: Section | None = None) -> None:
    query = select(Section.id).where(Section.name == name)
    if section is not None:
        query = query.where(Section.id != section.id)
    if db.session.scalar(query) is not None:
        raise Conflict(f"課「{name}」は既に登録されています。", {"name": name})


def create_section(
    actor: User | None, via: Via, *, name: str, bureau: str = "", division: str = ""
) -> Section:
    """A new 課, optionally under a 局・区 and 部."""
    name = _text("name", "課名", name, required=True)
    bureau = _text("bureau", "局・区", bureau or "", required=False)
    division = _text("division", "部", division or "", required=False)
    _section_name_free(name)
    section = Section(name=name, bureau=bureau, division=division)
    db.session.add(section)
    db.session.flush()
    audit_log.record(
        actor,
        via,
        "section.create",
        "section",
        section.id,
        name,
        {},
        {"name": name, "bureau": bureau, "division": division},
    )
    return section


def rename_section(actor: User | None, via: Via, section: Section, new_name: str) -> None:
    """A new name from now on; forms and minutes made before keep the old one (they copied it)."""
    new_name = _text("name", "課名", new_name, required=True)
    if new_name == section.name:
        return
    _section_name_free(new_name, section)
    old = section.name
    section.name = new_name
    db.session.flush()
    audit_log.record(
        actor,
        via,
        "section.rename",
        "section",
        section.id,
        new_name,
        {"name": old},
        {"name": new_name},
    )


def move_section(
    actor: User | None, via: Via, section: Section, *, bureau: str, division: str
) -> None:
    """Move *section* to another 局・区 / 部."""
    bureau = _text("bureau", "局・区", bureau or "", required=False)
    division = _text("division", "部", division or "", required=False)
    before = {"bureau": section.bureau, "division": section.division}
    after = {"bureau": bureau, "division": division}
    if before == after:
        return
    section.bureau, section.division = bureau, division
    db.session.flush()
    audit_log.record(actor, via, "section.move", "section", section.id, section.name, before, after)


def _check_not_retired(section: Section, field: str, then: str = "") -> None:
    """A retired section is refused, naming the section it joined when it was merged."""
    if section.retired_at is not None:
        raise ValidationFailed.field(field, f"{retired_phrase(section)}。{then}")


def merge_section(actor: User | None, via: Via, source: Section, into: Section) -> None:
    """*source* joins *into*: its items and users move there; *source* is retired."""
    if source.id == into.id:
        raise ValidationFailed.field("into", "同じ課には統合できません。")
    _check_not_retired(source, "section")
    _check_not_retired(into, "into", "統合先にはできません。")
    # Each moved item's version goes up, so a form opened before the merge cannot save the old
    # section back over it unnoticed (a stale version is a 409).
    items = db.session.execute(
        update(Item)
        .where(Item.section_id == source.id)
        .values(section_id=into.id, version=Item.version + 1)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    users = db.session.execute(
        update(User)
        .where(User.section_id == source.id)
        .values(section_id=into.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    source.retired_at = utcnow()
    source.merged_into_id = into.id
    db.session.flush()
    # What was loaded before the update still names the old section: read it again when used.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, User | Item) and obj.section_id == into.id:
            db.session.expire(obj, ["section"])
    audit_log.record(
        actor,
        via,
        "section.merge",
        "section",
        source.id,
        source.name,
        {"retired_at": None},
        {
            "merged_into": into.name,
            "retired_at": _when(source.retired_at),
            "items_moved": items or 0,
            "users_moved": users or 0,
        },
    )


def retire_section(actor: User | None, via: Via, section: Section) -> None:
    """廃止: keeps its items; no new request can be filed for it."""
    _check_not_retired(section, "section")
    section.retired_at = utcnow()
    db.session.flush()
    audit_log.record(
        actor,
        via,
        "section.retire",
        "section",
        section.id,
        section.name,
        {"retired_at": None},
        {"retired_at": _when(section.retired_at)},
    )


# -- meeting kinds -------------------------------------------------------------------------------


def _int_field(field: str, label: str, value: int, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValidationFailed.field(
            field, f"{label}は{minimum}から{maximum}までの整数で指定してください。"
        )
    return value


def _bool_field(field: str, label: str, value: bool) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed.field(
            field, f"{label}はあり（true）かなし（false）で指定してください。"
        )
    return value


# Each field of a meeting kind and its check, for a new kind and a change alike.
_KIND_CHECKS: dict[str, Any] = {
    "name": lambda v: _text("name", "名称", v, KIND_NAME_MAX, required=True),
    "level": lambda v: _int_field("level", "レベル", v, 1, LEVEL_MAX),
    "sort_order": lambda v: _int_field("sort_order", "表示順", v, 1, SORT_ORDER_MAX),
    "review": lambda v: _bool_field("review", "事前調整", v),
    "deadline_days": lambda v: _int_field("deadline_days", "締切日数", v, 0, DEADLINE_DAYS_MAX),
}


def _kind_values(given: dict[str, Any]) -> dict[str, Any]:
    """The fields *given* (those not UNSET), each checked."""
    return {
        field: _KIND_CHECKS[field](value)
        for field, value in given.items()
        if not isinstance(value, _Unset)
    }


def _kind_fields(kind: MeetingKind) -> dict[str, Any]:
    return {
        "name": kind.name,
        "level": kind.level,
        "sort_order": kind.sort_order,
        "review": kind.review,
        "deadline_days": kind.deadline_days,
    }


def _kind_unique(code: str, name: str | None, sort_order: int | None) -> None:
    """The name and the order are each one kind's (*code* is the kind itself, or a new code)."""
    others = select(MeetingKind.code).where(MeetingKind.code != code)
    if name is not None and db.session.scalar(others.where(MeetingKind.name == name)):
        raise Conflict(f"会議の種類「{name}」は既にあります。", {"name": name})
    if sort_order is not None and db.session.scalar(
        others.where(MeetingKind.sort_order == sort_order)
    ):
        raise ValidationFailed.field(
            "sort_order", f"表示順{sort_order}はほかの会議の種類が使っています。"
        )


def create_meeting_kind(
    actor: User | None,
    via: Via,
    *,
    code: str,
    name: str,
    level: int,
    sort_order: int,
    review: bool = False,
    deadline_days: int = 5,
) -> MeetingKind:
    """A new 会議の種類 (no migration needed)."""
    if not isinstance(code, str) or not KIND_CODE_PATTERN.fullmatch(code):
        raise ValidationFailed.field(
            "code",
            f"コードは英小文字で始まる英小文字・数字・_ の{CODE_MAX}文字以内にしてください。",
        )
    values = _kind_values(
        {
            "name": name,
            "level": level,
            "sort_order": sort_order,
            "review": review,
            "deadline_days": deadline_days,
        }
    )
    if db.session.get(MeetingKind, code) is not None:
        raise Conflict(f"会議の種類のコード「{code}」は既に使われています。", {"code": code})
    _kind_unique(code, values["name"], values["sort_order"])
    kind = MeetingKind(code=code, **values)
    db.session.add(kind)
    db.session.flush()
    audit_log.record(
        actor, via, "meeting_kind.create", "meeting_kind", code, kind.name, {}, _kind_fields(kind)
    )
    return kind


def update_meeting_kind(
    actor: User | None,
    via: Via,
    kind: MeetingKind,
    *,
    name: str | _Unset = UNSET,
    level: int | _Unset = UNSET,
    sort_order: int | _Unset = UNSET,
    review: bool | _Unset = UNSET,
    deadline_days: int | _Unset = UNSET,
) -> bool:
    """Change what is given; one audit row with the fields that changed (False: nothing did)."""
    wanted = _kind_values(
        {
            "name": name,
            "level": level,
            "sort_order": sort_order,
            "review": review,
            "deadline_days": deadline_days,
        }
    )
    changed = _differing(kind, wanted)
    if not changed:
        return False
    _kind_unique(kind.code, changed.get("name"), changed.get("sort_order"))
    before, after = _set_changed(kind, changed)
    db.session.flush()
    audit_log.record(
        actor, via, "meeting_kind.update", "meeting_kind", kind.code, kind.name, before, after
    )
    return True


# -- 閉庁日 and a meeting's own 申込締切 (DOMAIN §11) -----------------------------------------------

CLOSED_DAY_NAME_MAX = 100  # as wide as closed_days.name


def add_closed_day(actor: User | None, via: Via, *, day: date | None, name: str) -> ClosedDay:
    """A 閉庁日 of the city's own (a day the offices close besides weekends and 祝日): every
    deadline counted across it moves a 開庁日 earlier."""
    if not isinstance(day, date):
        raise ValidationFailed.field("day", "閉庁日の日付を入力してください。")
    name = _text("name", "名称", name, CLOSED_DAY_NAME_MAX, required=True)
    if deadlines.is_closed(day):
        raise ValidationFailed.field(
            "day",
            f"{to_wareki(day)}は土日・祝日・年末年始のため、登録しなくても閉庁日です。",
        )
    if db.session.scalar(select(ClosedDay.id).where(ClosedDay.day == day)) is not None:
        raise ValidationFailed.field("day", f"{to_wareki(day)}は既に閉庁日として登録されています。")
    row = ClosedDay(day=day, name=name)
    db.session.add(row)
    db.session.flush()
    deadlines.forget_closed_days()
    audit_log.record(
        actor,
        via,
        "closed_day.add",
        "closed_day",
        row.id,
        f"{day.isoformat()} {name}",
        {},
        {"day": day.isoformat(), "name": name},
    )
    return row


def remove_closed_day(actor: User | None, via: Via, row: ClosedDay) -> None:
    """The day is a 開庁日 again (unless a weekend or 祝日): deadlines count it once more."""
    before = {"day": row.day.isoformat(), "name": row.name}
    audit_log.record(
        actor,
        via,
        "closed_day.remove",
        "closed_day",
        row.id,
        f"{row.day.isoformat()} {row.name}",
        before,
        {},
    )
    db.session.delete(row)
    db.session.flush()
    deadlines.forget_closed_days()


def set_meeting_deadline(
    actor: User | None, via: Via, meeting: Meeting, deadline: date | None
) -> bool:
    """This meeting's own 申込締切 (None: back to its kind's N 開庁日). False: nothing changed."""
    if deadline is not None and not isinstance(deadline, date):
        raise ValidationFailed.field("submission_deadline", "申込締切の日付を入力してください。")
    if deadline is not None and deadline >= meeting.date:
        raise ValidationFailed.field(
            "submission_deadline",
            f"申込締切（{to_wareki(deadline)}）は開催日（{to_wareki(meeting.date)}）より前の日にしてください。",
        )
    if deadline is not None and deadlines.is_closed(deadline, deadlines.admin_closed_days()):
        raise ValidationFailed.field(
            "submission_deadline",
            f"{to_wareki(deadline)}は閉庁日です。申込締切には開庁日を選んでください。",
        )
    if meeting.deadline_override == deadline:
        return False
    before = {"deadline_override": _iso_day(meeting.deadline_override)}
    meeting.deadline_override = deadline
    db.session.flush()
    audit_log.record(
        actor,
        via,
        "meeting.deadline",
        "meeting",
        meeting.id,
        meeting.title,
        before,
        {"deadline_override": _iso_day(deadline)},
    )
    return True


def _iso_day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
