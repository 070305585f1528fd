"""Whose password is this: the one check behind the sign-in page.

A local account is checked against its own password hash. A directory account (``User.directory``)
and, when ``LDAP_URL`` is set, a login unknown here are checked by the directory
(:mod:`workflow.directory`). An unknown login costs the same time as a known one, so the answer's
time does not tell which login IDs exist. A disabled user is never let in, whichever way.
"""

from __future__ import annotations

import functools
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from workflow.extensions import db
from workflow.models import User


@functools.cache
def _dummy_hash() -> str:
    """What an unknown login is checked against, so it costs the same time as a known one.

    Made on first use: scrypt at import would slow every process start (and cold PDFs).
    """
    return generate_password_hash(secrets.token_urlsafe(16))


def verify(login: str, password: str) -> User | None:
    """The active user *login* if *password* is theirs, else None (the caller commits)."""
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if user.active and user.check_password(password):
        return user
    return None
