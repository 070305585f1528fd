"""Whose password is this: the one check behind the sign-in page.

A local account is checked against its own password hash. A directory account (``User.directory``)
and, when ``LDAP_URL`` is set, a login unknown here are checked by the directory
(:mod:`workflow.directory`). An unknown login costs the same time as a known one, so the answer's
time does not tell which login IDs exist. A disabled user is never let in, whichever way.

A directory sign-in creates or updates the local user from what the directory says (role from
its groups, section from its section attribute, name, e-mail); a change is an audit row
(``admin.user.directory_sync``) in the sign-in's transaction.
"""

from __future__ import annotations

import functools
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from workflow import directory
from workflow.extensions import db
from workflow.models import Section, User
from workflow.services import audit_log
from workflow.states.states import Role

log = logging.getLogger("workflow.credentials")


@functools.cache
def _dummy_hash() -> str:
    """What an unknown login is checked against, so it costs the same time as a known one.

    Made on first use: scrypt at import would slow every process start (and cold PDFs).
    """
    return generate_password_hash(secrets.token_urlsafe(16))


def verify(login: str, password: str) -> User | None:
    """The active user *login* if *password* is theirs, else None (the caller commits).

    Raises :class:`workflow.directory.DirectoryUnavailable` when the directory must answer and
    cannot.
    """
    user = _by_login(login)
    if user is not None and user.has_password:  # a local account: its own password only
        if user.active and user.check_password(password):
            return user
        return None
    if not directory.enabled(current_app.config):
        # Nobody, or an account without a local password: the same time as a wrong password.
        check_password_hash(_dummy_hash(), password)
        return None
    settings = directory.Settings.from_config(current_app.config)
    entry = directory.authenticate(settings, login, password)
    if entry is None:
        return None
    return _sync(entry)


@dataclass(frozen=True)
class Refusal:
    """Why a directory sign-in is refused here: for the log, and for ``flask directory check``."""

    log: str
    message: str


@dataclass(frozen=True)
class Assessment:
    """What a directory sign-in of an entry would find here, and whether it is let in."""

    user: User | None  # the local user of that login, if any
    section: Section | None  # the open 課 the entry's section attribute names
    refusal: Refusal | None


def assess(entry: directory.DirectoryEntry) -> Assessment:
    """Whether the directory's *entry*, its password proved, may sign in here (nothing written)."""
    user = _by_login(entry.login)
    named = entry.section_name
    found = db.session.scalar(select(Section).where(Section.name == named)) if named else None
    section = found if found is not None and found.retired_at is None else None
    refusal = None
    if user is not None and user.has_password:
        refusal = Refusal(
            "a local account has that login", "同じログインIDのローカル利用者がいます"
        )
    elif user is not None and not user.active:
        refusal = Refusal("the account is disabled here", "この利用者は無効にされています")
    elif entry.role is None:
        refusal = Refusal(
            "in no group of LDAP_ROLE_GROUPS", "LDAP_ROLE_GROUPS のどのグループにも属していません"
        )
    elif entry.role == Role.DEPARTMENT and section is None:
        refusal = _no_section(named, found)
    elif named and section is None:  # another role signs in without a 課
        log.warning("directory sign-in of %r: section %r is not open here", entry.login, named)
    return Assessment(user, section, refusal)


def _no_section(named: str | None, found: Section | None) -> Refusal:
    if not named:
        return Refusal(
            "a department user without a section attribute",
            "所管課職員ですが、課の属性（LDAP_SECTION_ATTRIBUTE）がありません",
        )
    if found is None:
        return Refusal(f"section {named!r} is unknown", f"課「{named}」は登録されていません")
    return Refusal(f"section {named!r} is retired", f"課「{named}」は廃止されています")


def _sync(entry: directory.DirectoryEntry) -> User | None:
    """The local user of a directory sign-in, created or updated from *entry*; None if refused."""
    found = assess(entry)
    if found.refusal is not None:
        log.warning(
            "directory sign-in of %r (%s) refused: %s", entry.login, entry.dn, found.refusal.log
        )
        return None
    user = found.user
    wanted: dict[str, Any] = {
        "display_name": entry.display_name,
        "email": entry.email,
        "role": entry.role,
        "section": found.section,
        # An account made without a local password (the April reshuffle) becomes the directory's.
        "directory": True,
    }
    created = user is None
    if user is None:
        user = User(login=entry.login, **wanted)
        user.clear_password()
        if not _inserted(user):
            return _sync(entry)  # another sign-in of the same person created it a moment ago
        before = {}
    else:
        before = {k: _shown(getattr(user, k)) for k in wanted}
        for key, value in wanted.items():
            setattr(user, key, value)
    after = {k: _shown(v) for k, v in wanted.items()}
    changed = [k for k in after if created or before[k] != after[k]]
    if not changed:
        return user
    db.session.flush()
    audit_log.record(
        None,
        "web",
        "user.directory_sync",
        "user",
        user.id,
        user.login,
        before={k: before[k] for k in changed if k in before},
        after={k: after[k] for k in changed},
        reason="ディレクトリからのサインインで作成"
        if created
        else "ディレクトリからのサインインで更新",
    )
    log.info(
        "directory account %r %s: %s", user.login, "created" if created else "updated", changed
    )
    return user


def _by_login(login: str) -> User | None:
    return db.session.scalar(select(User).where(User.login == login))


def _inserted(user: User) -> bool:
    """Insert *user*; False if a concurrent sign-in inserted the same login first.

    A savepoint, so losing the race undoes only this insert: the caller then finds that row.
    """
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        if _by_login(user.login) is None:
            raise  # not the login after all
        return False
    return True


def _shown(value: Any) -> Any:
    """A field's value as the audit row keeps it (JSON): a section by its name, a role by value."""
    if isinstance(value, Section):
        return value.name
    if isinstance(value, Role):
        return value.value
    return value
