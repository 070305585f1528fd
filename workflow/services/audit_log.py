"""An admin's change as a row of the history chain (issue 18): who, when, what, before → after.

Users, sections, tokens and meeting kinds are not items or meetings, so their rows name neither;
their ``event`` starts with ``admin.`` (the table's CHECK allows a row without a subject only
then) and ``params`` says what changed::

    {"subject": {"type": "user", "id": 7, "name": "tanaka"},
     "before": {"role": "department"}, "after": {"role": "secretariat"}, "via": "web"}

``via`` is ``web`` (an admin page), ``api`` (an admin token) or ``cli``; a CLI change has no
actor in the application, so its row names the operating-system account that ran it. Written in
the caller's transaction, so the change and its row commit together or not at all, and chained
by ``before_flush`` like every history row, so ``flask audit verify`` checks them too.
"""

from __future__ import annotations

import getpass
from typing import Any, Literal

from workflow.extensions import db
from workflow.models import HistoryEvent, User

Via = Literal["web", "api", "cli"]
SubjectType = Literal[
    "user", "section", "token", "meeting_kind", "user_import", "login", "closed_day", "meeting"
]

EVENT_PREFIX = "admin."


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's random uid)
        return "unknown"


def record(
    actor: User | None,
    via: Via,
    event: str,
    subject_type: SubjectType,
    subject_id: int | str | None,
    subject_name: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> HistoryEvent:
    """Add the history row of an admin's change *event* (``user.disable``) to the session."""
    params: dict[str, Any] = {
        "subject": {"type": subject_type, "id": subject_id, "name": subject_name},
        "before": before or {},
        "after": after or {},
        "via": via,
    }
    if via == "cli":
        params["os_user"] = _os_user()
    row = HistoryEvent(
        actor=actor,
        event=f"{EVENT_PREFIX}{event}"[:40],
        from_state="",
        to_state="",
        params=params,
        reason=reason,
    )
    db.session.add(row)
    return row
