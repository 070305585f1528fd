"""Notices (DOMAIN §11): who is told what, written in the transaction of the change itself.

:func:`announce` is called with every history row the workflow writes (``workflow.states.machine
.fire`` and a revision's row in ``workflow.services.versions``) and finds in :data:`ANNOUNCERS`
who must hear of that event and in what words. :func:`notify` writes one :class:`Notice` per
user and, where the user gets e-mail, the job that mails it (``mail_notice``, workflow.mail):
both commit or roll back with the change, so a notice is never lost and never sent for a change
that did not happen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import current_app, has_app_context
from sqlalchemy import select

from workflow.extensions import db
from workflow.jobs import enqueue
from workflow.models import HistoryEvent, Item, Meeting, Notice, User
from workflow.models.notice import MAIL_NONE, MAIL_PENDING
from workflow.states.states import Role

MAIL_JOB = "mail_notice"

# event name → what to announce for a history row of that event (filled below).
ANNOUNCERS: dict[str, Callable[[HistoryEvent], None]] = {}


def mail_configured() -> bool:
    return has_app_context() and bool(current_app.config.get("MAIL_SERVER"))


def wants_mail(user: User) -> bool:
    """A user with an address gets e-mail unless they chose in-app only."""
    return bool(user.email) and user.notify_by_email


def notify(
    users: Iterable[User],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    item: Item | None = None,
    meeting: Meeting | None = None,
    dedupe_key: str | None = None,
    actor: User | None = None,
) -> list[Notice]:
    """Write a notice for each active user of *users* (once each, never to *actor*), and queue
    its mail where the user gets e-mail. In the caller's transaction."""
    mail = mail_configured()
    made: list[Notice] = []
    seen: set[int] = set()
    for user in users:
        if not user.active or user.id in seen or (actor is not None and user.id == actor.id):
            continue
        seen.add(user.id)
        notice = Notice(
            user_id=user.id,
            kind=kind,
            item_id=item.id if item is not None else None,
            meeting_id=meeting.id if meeting is not None else None,
            title=title,
            body=body,
            url=url,
            dedupe_key=dedupe_key,
            mail_status=MAIL_PENDING if mail and wants_mail(user) else MAIL_NONE,
        )
        db.session.add(notice)
        made.append(notice)
    if not made:
        return made
    db.session.flush()
    for notice in made:
        if notice.mail_status == MAIL_PENDING:
            enqueue(MAIL_JOB, notice_id=notice.id)
    return made


def section_users(section_id: int) -> list[User]:
    """The active users of a section (the 所管課 of an item)."""
    return list(
        db.session.scalars(
            select(User).where(User.section_id == section_id, User.active).order_by(User.id)
        )
    )


def secretariat_users() -> list[User]:
    """The active users of the 庁議事務局."""
    return list(
        db.session.scalars(
            select(User).where(User.role == Role.SECRETARIAT, User.active).order_by(User.id)
        )
    )


def announce(row: HistoryEvent) -> None:
    """Write the notices a history row calls for (none for most events)."""
    announcer = ANNOUNCERS.get(row.event)
    if announcer is not None:
        announcer(row)


# -- what each event announces ---------------------------------------------------------------


def item_url(item_id: int) -> str:
    return f"/items/{item_id}"


def meeting_url(meeting_id: int) -> str:
    return f"/meetings/{meeting_id}"


def _returned(row: HistoryEvent) -> None:
    """差戻し: the owning section, with the reason in full (they must act on it)."""
    item = db.session.get(Item, row.item_id)
    notify(
        section_users(item.section_id),
        kind=row.event,
        title=f"案件「{item.title}」が差し戻されました",
        body=f"差戻しの理由:\n{row.reason}\n\n申込書を修正して、再度申し込んでください。",
        url=item_url(item.id),
        item=item,
        actor=row.actor,
    )


ANNOUNCERS["return"] = _returned
