"""An admin's changes to users, API tokens, sections and meeting kinds (issue 18).

The one place these rules live: the admin pages, ``/api/v1/admin/…``, the CLI and the April
reshuffle import all call these functions. Each checks its input (a Japanese
:class:`~workflow.errors.ValidationFailed` naming the field, :class:`~workflow.errors.Conflict`,
:class:`~workflow.errors.NotFound`), makes the change and adds its audit row
(:func:`workflow.services.audit_log.record`) to the session; the caller commits, so the change
and its row land together or not at all.

*actor* is the admin making the change (None on the CLI) and *via* where it came from.
"""

from __future__ import annotations

from workflow.models import ApiToken, MeetingKind, Section, User
from workflow.services.audit_log import Via
from workflow.states.states import Role


class _Unset:
    """A keyword left out (``None`` is a value: no e-mail, no section)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


# -- lookups -------------------------------------------------------------------------------------


def user_by_login(login: str) -> User:
    """The user *login*, or NotFound 「ログインID「…」の利用者はいません。」."""
    raise NotImplementedError


def section_by_name(name: str) -> Section:
    """The section named *name*, or NotFound 「課「…」は登録されていません。」."""
    raise NotImplementedError


# -- users ---------------------------------------------------------------------------------------


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
    raise NotImplementedError


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
    Taking the admin role from the last active admin is refused."""
    raise NotImplementedError


def disable_user(actor: User | None, via: Via, user: User, reason: str = "") -> None:
    """無効にする: ends the user's sessions; their tokens stop working while disabled. Refused
    for the actor themself and for the last active admin."""
    raise NotImplementedError


def enable_user(actor: User | None, via: Via, user: User) -> None:
    raise NotImplementedError


def set_password(
    actor: User | None, via: Via, user: User, password: str, *, must_change: bool = False
) -> None:
    """A new local password (the policy of workflow.passwords); ends the user's sessions."""
    raise NotImplementedError


def reset_password(actor: User | None, via: Via, user: User) -> str:
    """A random temporary password, to be changed at the next sign-in; returned to show once."""
    raise NotImplementedError


def end_sessions(actor: User | None, via: Via, user: User) -> int:
    """Revoke every live session of *user*; how many there were."""
    raise NotImplementedError


def unlock(actor: User | None, via: Via, user: User) -> None:
    """Clear the sign-in limit of *user*'s account (failures before now stop counting)."""
    raise NotImplementedError


# -- API tokens ----------------------------------------------------------------------------------


def issue_token(
    actor: User | None, via: Via, user: User, *, name: str = "", days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for *user*, expiring after *days* (default ``API_TOKEN_DAYS``); the plain
    token is returned to show once."""
    raise NotImplementedError


def revoke_token(actor: User | None, via: Via, token: ApiToken) -> None:
    raise NotImplementedError


# -- sections ------------------------------------------------------------------------------------


def create_section(
    actor: User | None, via: Via, *, name: str, bureau: str = "", division: str = ""
) -> Section:
    raise NotImplementedError


def rename_section(actor: User | None, via: Via, section: Section, new_name: str) -> None:
    raise NotImplementedError


def move_section(
    actor: User | None, via: Via, section: Section, *, bureau: str, division: str
) -> None:
    """Move *section* to another 局・区 / 部."""
    raise NotImplementedError


def merge_section(actor: User | None, via: Via, source: Section, into: Section) -> None:
    """*source* joins *into*: its items and users move there; *source* is retired."""
    raise NotImplementedError


def retire_section(actor: User | None, via: Via, section: Section) -> None:
    """廃止: keeps its items; no new request can be filed for it."""
    raise NotImplementedError


# -- meeting kinds -------------------------------------------------------------------------------


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
    raise NotImplementedError


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
    raise NotImplementedError
