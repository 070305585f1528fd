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
    # Addresses where an unknown browser is refused for this login ID (its per-address limit,
    # ``LOGIN_FAILURES_PER_ACCOUNT``) while the account is not locked as a whole.
    locked_addresses: int = 0

    @property
    def state_label(self) -> str:
        if self.locked:
            return "ロック中（以前ログインしたブラウザからはログインできます）"
        if self.locked_addresses:
            return f"一部の接続元で制限中（{self.locked_addresses}か所）"
        return "監視中"


@dataclass(frozen=True)
class AddressRow:
    """An address over its own limit: every unknown browser there is refused, whatever the
    login ID, until enough of its failures leave the window (an unlock cannot clear it)."""

    address: str
    failures: int
    logins: int  # how many distinct login IDs were tried from it
    frees_at: datetime  # when it is under the limit again, if nothing more fails


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
    pairs = _locked_pairs(start)
    return [
        AttackRow(
            login=login,
            failures=failures,
            addresses=addresses,
            last_at=last_at,
            locked=locked_for_unknown_browsers(untrusted),
            user_id=user_id,
            locked_addresses=pairs.get(login, 0),
        )
        for login, failures, addresses, last_at, untrusted, user_id in rows
    ]


def _locked_pairs(start: datetime) -> dict[str, int]:
    """Per login ID, how many addresses are at its per-(account, address) limit for unknown
    browsers, counted as sign_in_limits counts them (after the account's unlock)."""
    limit = max(Limits.configured().per_pair, 1)
    rows = db.session.execute(
        sa.select(LoginAttempt.login, LoginAttempt.address)
        .outerjoin(User, User.login == LoginAttempt.login)
        .where(
            FAILED,
            UNTRUSTED,
            LoginAttempt.at > start,
            sa.or_(User.unlocked_at.is_(None), LoginAttempt.at > User.unlocked_at),
        )
        .group_by(LoginAttempt.login, LoginAttempt.address)
        .having(sa.func.count() >= limit)
    ).all()
    counts: dict[str, int] = {}
    for login, _address in rows:
        counts[login] = counts.get(login, 0) + 1
    return counts


def addresses_under_attack(now: datetime | None = None) -> list[AddressRow]:
    """Addresses at or over ``LOGIN_FAILURES_PER_ADDRESS`` failures of unknown browsers in the
    window, across every login ID; most failures first."""
    now = now or utcnow()
    limits = Limits.configured()
    start = now - limits.window
    limit = max(limits.per_address, 1)
    rows = db.session.execute(
        sa.select(
            LoginAttempt.address,
            sa.func.count().label("failures"),
            sa.func.count(sa.distinct(LoginAttempt.login)),
        )
        .where(FAILED, UNTRUSTED, LoginAttempt.at > start, LoginAttempt.address.is_not(None))
        .group_by(LoginAttempt.address)
        .having(sa.func.count() >= limit)
        .order_by(sa.desc("failures"), LoginAttempt.address)
    ).all()
    return [
        AddressRow(address, failures, logins, _frees_at(address, start, limit) + limits.window)
        for address, failures, logins in rows
    ]


def _frees_at(address: str, start: datetime, limit: int) -> datetime:
    """The *limit*-th latest failure from *address*: the address is free once it leaves."""
    latest = db.session.scalars(
        sa.select(LoginAttempt.at)
        .where(FAILED, UNTRUSTED, LoginAttempt.at > start, LoginAttempt.address == address)
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    ).all()
    return latest[-1]
