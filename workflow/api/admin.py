"""/api/v1/admin/…: users, API tokens, sections, meeting kinds, 閉庁日 and a meeting's own 申込締切,
for an admin token only.

Each view loads what the URL names, calls :mod:`workflow.services.admin` (which checks, changes
and writes the audit row, ``via`` ``api``) and answers with :func:`written`.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from workflow.api.common import _get, bp, json_body, written
from workflow.api.common import require_admin as _admin
from workflow.deadlines import closed_day_rows, deadline_of
from workflow.errors import NotFound, ValidationFailed
from workflow.extensions import db
from workflow.models import ApiToken, ClosedDay, Meeting, MeetingKind, Section, User
from workflow.schemas.admin import (
    AdminClosedDay,
    AdminClosedDayList,
    AdminMeetingDeadline,
    AdminMeetingKind,
    AdminSection,
    AdminToken,
    AdminUser,
    ClosedDayCreate,
    DisableBody,
    MeetingDeadlineBody,
    MeetingKindCreate,
    MeetingKindPatch,
    MergeBody,
    PasswordBody,
    SectionCreate,
    SectionPatch,
    TokenCreate,
    UserCreate,
    UserPatch,
)
from workflow.schemas.types import validate
from workflow.services import admin
from workflow.services.admin import UNSET


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# -- answers -------------------------------------------------------------------------------------


def user_json(user: User) -> AdminUser:
    return {
        "id": user.id,
        "login": user.login,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role.value,
        "section": user.section.name if user.section is not None else None,
        "active": user.active,
        "must_change_password": user.must_change_password,
        "directory": user.directory,
        "created_at": _iso(user.created_at),
    }


def token_json(token: ApiToken) -> AdminToken:
    return {
        "id": token.id,
        "user": token.user.login,
        "name": token.name,
        "created_at": _iso(token.created_at),
        "expires_at": _iso(token.expires_at),
        "last_used_at": _iso(token.last_used_at),
        "revoked_at": _iso(token.revoked_at),
        "state": admin.token_state(token),
    }


def section_json(section: Section, names: dict[int, str] | None = None) -> AdminSection:
    merged_into = None
    if section.merged_into_id is not None:
        if names is not None:
            merged_into = names.get(section.merged_into_id)
        else:
            merged_into = db.session.get(Section, section.merged_into_id).name
    return {
        "id": section.id,
        "name": section.name,
        "bureau": section.bureau,
        "division": section.division,
        "retired_at": _iso(section.retired_at),
        "merged_into": merged_into,
        "merged_into_id": section.merged_into_id,
    }


def kind_json(kind: MeetingKind) -> AdminMeetingKind:
    return {
        "code": kind.code,
        "name": kind.name,
        "level": kind.level,
        "sort_order": kind.sort_order,
        "review": kind.review,
        "deadline_days": kind.deadline_days,
    }


# -- lookups -------------------------------------------------------------------------------------


def _section_field(name: str | None) -> Section | None:
    """A body's section name: the section, None for none, 422 naming the field if unknown."""
    if not name:
        return None
    try:
        return admin.section_by_name(name)
    except NotFound as exc:
        raise ValidationFailed.field("section", exc.message) from None


def _section(section_id: int) -> Section:
    return _get(Section, section_id, "課")


def _kind(code: str) -> MeetingKind:
    kind = db.session.get(MeetingKind, code) if len(code) <= 40 else None
    if kind is None:
        raise NotFound(f"会議の種類「{code}」はありません。", {"code": code})
    return kind


# -- users ---------------------------------------------------------------------------------------


@bp.get("/admin/users")
def admin_list_users() -> ResponseReturnValue:
    _admin()
    users = db.session.scalars(select(User).order_by(User.login)).all()
    return jsonify({"users": [user_json(u) for u in users], "total": len(users)})


@bp.post("/admin/users")
def admin_create_user() -> ResponseReturnValue:
    actor = _admin()
    body = validate(UserCreate, json_body())
    user = admin.create_user(
        actor,
        "api",
        login=body.login,
        display_name=body.display_name,
        role=body.role,
        section=_section_field(body.section),
        email=body.email,
        password=body.password or None,
        must_change_password=body.must_change_password,
    )
    return written(lambda: user_json(user), 201)


@bp.get("/admin/users/<login>")
def admin_show_user(login: str) -> ResponseReturnValue:
    _admin()
    return jsonify(user_json(admin.user_by_login(login)))


@bp.patch("/admin/users/<login>")
def admin_update_user(login: str) -> ResponseReturnValue:
    actor = _admin()
    user = admin.user_by_login(login)
    body = validate(UserPatch, json_body())
    sent = body.model_fields_set
    admin.update_user(
        actor,
        "api",
        user,
        display_name=body.display_name if "display_name" in sent else UNSET,
        email=body.email if "email" in sent else UNSET,
        role=body.role if "role" in sent else UNSET,
        section=_section_field(body.section) if "section" in sent else UNSET,
    )
    return written(lambda: user_json(user))


def _user_action(login: str, action) -> ResponseReturnValue:
    actor = _admin()
    user = admin.user_by_login(login)
    action(actor, user)
    return written(lambda: user_json(user))


@bp.post("/admin/users/<login>/disable")
def admin_disable_user(login: str) -> ResponseReturnValue:
    body = validate(DisableBody, json_body())
    return _user_action(login, lambda a, u: admin.disable_user(a, "api", u, body.reason))


@bp.post("/admin/users/<login>/enable")
def admin_enable_user(login: str) -> ResponseReturnValue:
    return _user_action(login, lambda a, u: admin.enable_user(a, "api", u))


@bp.post("/admin/users/<login>/unlock")
def admin_unlock_user(login: str) -> ResponseReturnValue:
    return _user_action(login, lambda a, u: admin.unlock(a, "api", u))


@bp.post("/admin/users/<login>/end-sessions")
def admin_end_sessions(login: str) -> ResponseReturnValue:
    actor = _admin()
    user = admin.user_by_login(login)
    ended = admin.end_sessions(actor, "api", user)
    return written(lambda: {"login": user.login, "sessions_ended": ended})


@bp.post("/admin/users/<login>/password")
def admin_password(login: str) -> ResponseReturnValue:
    actor = _admin()
    user = admin.user_by_login(login)
    body = validate(PasswordBody, json_body())
    temporary = None
    if "password" in body.model_fields_set and body.password:
        admin.set_password(actor, "api", user, body.password)
    elif "password" in body.model_fields_set:
        raise ValidationFailed.field(
            "password", "パスワードを入力してください（リセットするには本文を空にします）。"
        )
    else:
        temporary = admin.reset_password(actor, "api", user)
    return written(
        lambda: {
            "login": user.login,
            "must_change_password": user.must_change_password,
            "temporary_password": temporary,
        }
    )


# -- API tokens ----------------------------------------------------------------------------------


@bp.get("/admin/users/<login>/tokens")
def admin_list_tokens(login: str) -> ResponseReturnValue:
    _admin()
    user = admin.user_by_login(login)
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ).all()
    return jsonify({"tokens": [token_json(t) for t in tokens]})


@bp.post("/admin/users/<login>/tokens")
def admin_issue_token(login: str) -> ResponseReturnValue:
    actor = _admin()
    user = admin.user_by_login(login)
    body = validate(TokenCreate, json_body())
    row, token = admin.issue_token(actor, "api", user, name=body.name, days=body.days)
    return written(
        lambda: {
            "id": row.id,
            "name": row.name,
            "token": token,
            "expires_at": _iso(row.expires_at),
        },
        201,
    )


@bp.delete("/admin/tokens/<int:token_id>")
def admin_revoke_token(token_id: int) -> ResponseReturnValue:
    actor = _admin()
    row = _get(ApiToken, token_id, "APIトークン")
    admin.revoke_token(actor, "api", row)
    return written(lambda: token_json(row))


# -- sections ------------------------------------------------------------------------------------


@bp.get("/admin/sections")
def admin_list_sections() -> ResponseReturnValue:
    _admin()
    sections = db.session.scalars(select(Section).order_by(Section.name)).all()
    names = {s.id: s.name for s in sections}
    return jsonify({"sections": [section_json(s, names) for s in sections]})


@bp.post("/admin/sections")
def admin_create_section() -> ResponseReturnValue:
    actor = _admin()
    body = validate(SectionCreate, json_body())
    section = admin.create_section(
        actor, "api", name=body.name, bureau=body.bureau, division=body.division
    )
    return written(lambda: section_json(section), 201)


@bp.patch("/admin/sections/<int:section_id>")
def admin_update_section(section_id: int) -> ResponseReturnValue:
    actor = _admin()
    section = _section(section_id)
    body = validate(SectionPatch, json_body())
    sent = body.model_fields_set
    if "name" in sent:
        admin.rename_section(actor, "api", section, body.name)
    if sent & {"bureau", "division"}:
        admin.move_section(
            actor,
            "api",
            section,
            bureau=body.bureau if "bureau" in sent else section.bureau,
            division=body.division if "division" in sent else section.division,
        )
    return written(lambda: section_json(section))


@bp.post("/admin/sections/<int:section_id>/merge")
def admin_merge_section(section_id: int) -> ResponseReturnValue:
    actor = _admin()
    source = _section(section_id)
    body = validate(MergeBody, json_body())
    try:
        into = _section(body.into)
    except NotFound as exc:
        raise ValidationFailed.field("into", exc.message) from None
    admin.merge_section(actor, "api", source, into)
    return written(lambda: section_json(source))


@bp.post("/admin/sections/<int:section_id>/retire")
def admin_retire_section(section_id: int) -> ResponseReturnValue:
    actor = _admin()
    section = _section(section_id)
    admin.retire_section(actor, "api", section)
    return written(lambda: section_json(section))


# -- meeting kinds -------------------------------------------------------------------------------


@bp.get("/admin/meeting-kinds")
def admin_list_meeting_kinds() -> ResponseReturnValue:
    _admin()
    kinds = db.session.scalars(select(MeetingKind).order_by(MeetingKind.sort_order)).all()
    return jsonify({"meeting_kinds": [kind_json(k) for k in kinds]})


@bp.post("/admin/meeting-kinds")
def admin_create_meeting_kind() -> ResponseReturnValue:
    actor = _admin()
    body = validate(MeetingKindCreate, json_body())
    kind = admin.create_meeting_kind(
        actor,
        "api",
        code=body.code,
        name=body.name,
        level=body.level,
        sort_order=body.sort_order,
        review=body.review,
        deadline_days=body.deadline_days,
    )
    return written(lambda: kind_json(kind), 201)


@bp.patch("/admin/meeting-kinds/<code>")
def admin_update_meeting_kind(code: str) -> ResponseReturnValue:
    actor = _admin()
    kind = _kind(code)
    body = validate(MeetingKindPatch, json_body())
    given: dict[str, Any] = {k: getattr(body, k) for k in body.model_fields_set}
    admin.update_meeting_kind(actor, "api", kind, **given)
    return written(lambda: kind_json(kind))


# -- 閉庁日 and a meeting's own 申込締切 (issue 19) ---------------------------------------------------


def closed_day_json(row: ClosedDay) -> AdminClosedDay:
    return {
        "id": row.id,
        "day": row.day.isoformat(),
        "name": row.name,
        "created_at": _iso(row.created_at),
    }


def meeting_deadline_json(meeting: Meeting) -> AdminMeetingDeadline:
    return {
        "meeting_id": meeting.id,
        "title": meeting.title,
        "date": meeting.date.isoformat(),
        "submission_deadline": deadline_of(meeting).isoformat(),
        "deadline_override": _iso(meeting.deadline_override),
    }


@bp.get("/admin/closed-days")
def admin_list_closed_days() -> ResponseReturnValue:
    _admin()
    rows = closed_day_rows()
    answer: AdminClosedDayList = {"closed_days": [closed_day_json(r) for r in rows]}
    return jsonify(answer)


@bp.post("/admin/closed-days")
def admin_add_closed_day() -> ResponseReturnValue:
    actor = _admin()
    body = validate(ClosedDayCreate, json_body())
    row = admin.add_closed_day(actor, "api", day=body.day, name=body.name)
    return written(lambda: closed_day_json(row), 201)


@bp.delete("/admin/closed-days/<int:closed_day_id>")
def admin_remove_closed_day(closed_day_id: int) -> ResponseReturnValue:
    actor = _admin()
    row = _get(ClosedDay, closed_day_id, "閉庁日")
    answer = closed_day_json(row)
    admin.remove_closed_day(actor, "api", row)
    return written(lambda: answer)


@bp.put("/admin/meetings/<int:meeting_id>/deadline")
def admin_set_meeting_deadline(meeting_id: int) -> ResponseReturnValue:
    actor = _admin()
    meeting = _get(Meeting, meeting_id, "会議")
    body = validate(MeetingDeadlineBody, json_body())
    admin.set_meeting_deadline(actor, "api", meeting, body.submission_deadline)
    return written(lambda: meeting_deadline_json(meeting))
