"""Accounts under attack: login IDs with failed sign-ins in the window, for the admin's page.

Counted as :mod:`workflow.sign_in_limits` counts them: failures in the last
``LOGIN_WINDOW_MINUTES``, after an admin's unlock; refused attempts (429) are not failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from workflow.extensions import db
from workflow.models import LoginAttempt, User
from workflow.models._types import utcnow
from workflow.sign_in_limits import FAILED, UNTRUSTED, Limits, locked_for_unknown_browsers


@dataclass(frozen=True)
class AttackRow:
    """One login ID's failures in the window."""

    login: str
    failures: int  # every failure, from any browser
    addresses: int  # how many distinct addresses they came from
    last_at: datetime
    locked: bool  # an unknown browser would be refused now (a known one still signs in)
    user_id: int | None  # None: no such account (someone guesses login IDs)


def accounts_under_attack(now: datetime | None = None) -> list[AttackRow]:
    """Login IDs with failures in the window, those nearest to (or in) a lockout first."""
    now = now or utcnow()
    start = now - Limits.configured().window
    untrusted = sa.func.sum(sa.case((UNTRUSTED, 1), else_=0))
    rows = db.session.execute(
        sa.select(
            LoginAttempt.login,
            sa.func.count().label("failures"),
            sa.func.count(sa.distinct(LoginAttempt.address)),
            sa.func.max(LoginAttempt.at),
            untrusted.label("untrusted"),
            User.id,
        )
        .outerjoin(User, User.login == LoginAttempt.login)
        .where(
            FAILED,
            LoginAttempt.at > start,
            sa.or_(User.unlocked_at.is_(None), LoginAttempt.at > User.unlocked_at),
        )
        .group_by(LoginAttempt.login, User.id)
        .order_by(sa.desc("untrusted"), sa.desc("failures"), sa.func.max(LoginAttempt.at).desc())
    ).all()
    return [
        AttackRow(
            login=login,
            failures=failures,
            addresses=addresses,
            last_at=last_at,
            locked=locked_for_unknown_browsers(untrusted),
            user_id=user_id,
        )
        for login, failures, addresses, last_at, untrusted, user_id in rows
    ]
