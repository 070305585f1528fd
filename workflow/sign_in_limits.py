"""Sign-in limits that cannot lock out the owner (issue 18): who may have a password checked now.

Failures are counted in ``login_attempts`` over the last ``LOGIN_WINDOW_MINUTES``:

- A browser that signed in to this login ID before carries a device cookie for it
  (:mod:`workflow.device_cookies`, OWASP's "Slow Down Online Guessing Attacks with Device
  Cookies"). Its attempts are counted on their own, per device: after ``LOGIN_FAILURES_PER_DEVICE``
  failures that browser waits, and nothing else holds it back, neither the account's count of
  unknown browsers nor its address's. The address limit is there to stop one address guessing
  across many accounts, which a cookie that vouches for one login ID cannot help with; and behind
  a NAT or a proxy a whole building shares one address, where one attacker could otherwise lock
  out every colleague.
- Any other attempt (an unknown browser) waits after ``LOGIN_FAILURES_PER_ACCOUNT`` failures for
  this login ID from this address, after ``LOGIN_FAILURES_PER_ACCOUNT_UNTRUSTED`` for this login
  ID from any address (so an attacker spread over many addresses locks out only unknown
  browsers), and after ``LOGIN_FAILURES_PER_ADDRESS`` from this address over every login ID.

A refused attempt (429) is logged with ``refused`` set and never counted: no password is checked
for it, so it teaches an attacker nothing and costs the owner nothing. An admin's unlock
(``users.unlocked_at``) drops the account's failures before it from every count but the
address's. The answer says at once how long to wait (``Retry-After``), never by holding the
request open.

Why concurrent attempts cannot slip under a limit, with any number of workers: the count and the
attempt's row are written in one short transaction that first takes the turn of its login ID and
address (SQLite's one write lock; on PostgreSQL transaction-level advisory locks, taken in a fixed
order), and committed before the password is checked. The row counts as a failure until the
check turns it into a success, so every attempt after it sees it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from workflow.extensions import db
from workflow.models import LoginAttempt, User
from workflow.models._types import utcnow
from workflow.models.login_attempt import ADDRESS_MAX, LOGIN_MAX

# A failure: neither a success nor refused unchecked. An attempt being checked counts too.
FAILED = sa.and_(LoginAttempt.success.is_(False), LoginAttempt.refused.is_(False))
UNTRUSTED = LoginAttempt.device.is_(None)


@dataclass(frozen=True)
class Limits:
    """The configured numbers (workflow.config)."""

    window: timedelta
    per_pair: int
    per_account: int
    per_address: int
    per_device: int

    @classmethod
    def configured(cls) -> Limits:
        cfg = current_app.config
        return cls(
            window=timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"]),
            per_pair=cfg["LOGIN_FAILURES_PER_ACCOUNT"],
            per_account=cfg["LOGIN_FAILURES_PER_ACCOUNT_UNTRUSTED"],
            per_address=cfg["LOGIN_FAILURES_PER_ADDRESS"],
            per_device=cfg["LOGIN_FAILURES_PER_DEVICE"],
        )


def admit(login_id: str, address: str, device: str | None) -> tuple[LoginAttempt, int | None]:
    """Log this attempt and commit; with it, the seconds to wait when it is refused (else None).

    *device* is the nonce of a valid device cookie for *login_id*, or None. The row is a failure
    until the caller marks it a success.
    """
    login_id, address = login_id[:LOGIN_MAX], address[:ADDRESS_MAX]
    _take_turn(login_id, None if device else address)
    now = utcnow()
    wait = seconds_to_wait(login_id, address, device, now)
    attempt = LoginAttempt(
        login=login_id, address=address, device=device, success=False, refused=wait is not None
    )
    attempt.at = now
    db.session.add(attempt)
    db.session.commit()
    return attempt, wait


def seconds_to_wait(login_id: str, address: str, device: str | None, now: datetime) -> int | None:
    """How long until this attempt would be under every limit that applies to it; None: now."""
    limits = Limits.configured()
    start = now - limits.window
    unlocked = db.session.scalar(sa.select(User.unlocked_at).where(User.login == login_id))
    account_start = max(start, unlocked) if unlocked else start
    same_login = LoginAttempt.login == login_id
    same_address = LoginAttempt.address == address
    if device is not None:
        checks = [((same_login, LoginAttempt.device == device), account_start, limits.per_device)]
    else:
        checks = [
            ((same_login, same_address, UNTRUSTED), account_start, limits.per_pair),
            ((same_login, UNTRUSTED), account_start, limits.per_account),
            ((same_address, UNTRUSTED), start, limits.per_address),
        ]
    waits = [_wait(where, since, limit, limits.window, now) for where, since, limit in checks]
    known = [w for w in waits if w is not None]
    return max(known) if known else None


def _wait(
    where: tuple, since: datetime, limit: int, window: timedelta, now: datetime
) -> int | None:
    """Seconds until fewer than *limit* failures matching *where* are left after *since*: when
    the *limit*-th latest leaves the window. None when there are fewer already."""
    latest = db.session.scalars(
        sa.select(LoginAttempt.at)
        .where(FAILED, LoginAttempt.at > since, *where)
        .order_by(LoginAttempt.at.desc())
        .limit(max(limit, 1))
    ).all()
    if len(latest) < max(limit, 1):
        return None
    return max(1, math.ceil((latest[-1] + window - now).total_seconds()))


def _take_turn(login_id: str, address: str | None) -> None:
    """Wait for the other attempts on this login ID (and *address*) to be counted and logged.

    SQLite: a writing transaction holds the one write lock already (workflow.database).
    PostgreSQL: advisory locks until the commit, in the order of their numbers, so two attempts
    that share a login ID or an address take turns and never wait for each other in a circle.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    names = [f"login\0{login_id}"] + ([f"address\0{address}"] if address is not None else [])
    for key in sorted(_lock_id(name) for name in names):
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _lock_id(name: str) -> int:
    """An advisory lock's number for *name*: 64 bits of a hash, signed as PostgreSQL's."""
    digest = hashlib.sha256(f"chogi-sign-in\0{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def locked_for_unknown_browsers(untrusted_failures: int) -> bool:
    """Whether an account with this many failures from unknown browsers in the window refuses
    every unknown browser now (the admin page's 「ロック中」)."""
    return untrusted_failures >= max(Limits.configured().per_account, 1)
