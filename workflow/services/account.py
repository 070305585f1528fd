"""What signed-in users do to their own account: change their password."""

from __future__ import annotations

import sqlalchemy as sa

from workflow import credentials
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import User, UserSession
from workflow.models._types import utcnow
from workflow.passwords import password_problem
from workflow.services import audit_log


def change_password(user: User, keep: UserSession | None, current: str, new: str) -> int:
    """Set *user*'s new password, clear a forced change, end their sessions but *keep*; how many
    ended. Refused (ValidationFailed) unless *current* is their password and *new* fits the policy.

    The history row says that the password changed and how many sessions ended, never what it is.
    """
    if user.directory:
        raise ValidationFailed.field(
            "current_password",
            "ディレクトリ（LDAP）のアカウントのパスワードは、この画面では変更できません。",
        )
    verified = credentials.verify(user.login, current)
    if verified is None or verified.id != user.id:
        raise ValidationFailed.field("current_password", "現在のパスワードが正しくありません。")
    if problem := password_problem(new):
        raise ValidationFailed.field("new_password", problem)
    if current == new:
        raise ValidationFailed.field(
            "new_password", "新しいパスワードは、現在のパスワードと別のものにしてください。"
        )
    forced = user.must_change_password
    user.set_password(new)
    user.must_change_password = False
    others = sa.update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        others = others.where(UserSession.id != keep.id)
    ended = db.session.execute(others.values(revoked_at=utcnow())).rowcount
    audit_log.record(
        user,
        "web",
        "user.password",
        "user",
        user.id,
        user.login,
        before={"must_change_password": forced},
        after={"must_change_password": False, "sessions_ended": ended},
    )
    db.session.flush()
    return ended
