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
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from workflow.deadlines import admin_closed_days, deadline_of, open_days_before
from workflow.extensions import db
from workflow.jobs import enqueue
from workflow.models import (
    HistoryEvent,
    Item,
    Meeting,
    MeetingKind,
    Notice,
    PublicComment,
    User,
)
from workflow.models._types import utcnow
from workflow.models.notice import MAIL_NONE, MAIL_PENDING
from workflow.states.states import (
    ItemStatus,
    MeetingStatus,
    Outcome,
    PublicCommentStatus,
    Role,
)
from workflow.wareki import to_wareki

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
    its mail where the user gets e-mail. In the caller's transaction.

    With *dedupe_key*, a user who already has a notice of that key gets none (reminders, minutes
    published again; the unique (user, key) refuses a second one written concurrently)."""
    mail = mail_configured()
    made: list[Notice] = []
    seen: set[int] = set()
    recipients = []
    for user in users:
        if not user.active or user.id in seen or (actor is not None and user.id == actor.id):
            continue
        seen.add(user.id)
        recipients.append(user)
    if dedupe_key is not None and recipients:
        # Once per user and key (a reminder cron runs daily, a meeting may be published again).
        have = already_told(dedupe_key, [user.id for user in recipients])
        recipients = [user for user in recipients if user.id not in have]
    for user in recipients:
        notice = Notice(
            user_id=user.id,
            kind=kind,
            item_id=item.id if item is not None else None,
            meeting_id=meeting.id if meeting is not None else None,
            title=_one_line(title, TITLE_MAX),
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


TITLE_MAX = Notice.__table__.c.title.type.length


def _one_line(text: str, limit: int) -> str:
    """A title is a mail's subject: one line, within the column."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def already_told(dedupe_key: str, user_ids: list[int]) -> set[int]:
    """Which of *user_ids* already have a notice with *dedupe_key*."""
    return set(
        db.session.scalars(
            select(Notice.user_id).where(
                Notice.dedupe_key == dedupe_key, Notice.user_id.in_(user_ids)
            )
        )
    )


def section_users(*section_ids: int) -> list[User]:
    """The active users of the sections (the 所管課 of an item, of a meeting's items)."""
    return list(
        db.session.scalars(
            select(User).where(User.section_id.in_(section_ids), User.active).order_by(User.id)
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


def _sent_back(row: HistoryEvent, what: str, then: str) -> None:
    """A return, of the request or of its amendment: the owning section, with the reason in
    full (they must act on it)."""
    item = db.session.get(Item, row.item_id)
    notify(
        section_users(item.section_id),
        kind=row.event,
        title=f"案件「{item.title}」{what}が差し戻されました",
        body=f"差戻しの理由:\n{row.reason}\n\n{then}",
        url=item_url(item.id),
        item=item,
        actor=row.actor,
    )


def _returned(row: HistoryEvent) -> None:
    """差戻し of the request."""
    _sent_back(row, "", "申込書を修正して、再度申し込んでください。")


def _amendment_returned(row: HistoryEvent) -> None:
    """修正の差戻し: the amended form goes back."""
    _sent_back(row, "の修正版", "修正版を直して、再度提出してください。")


ANNOUNCERS["return"] = _returned


def _kind_name(code: str | None) -> str:
    kind = db.session.get(MeetingKind, code) if code else None
    return kind.name if kind is not None else (code or "")


def _meeting_line(meeting: Meeting) -> str:
    """「第２回 関係課長会議（令和８年５月７日）」."""
    return f"{meeting.title}（{to_wareki(meeting.date)}）"


def _row_meeting(row: HistoryEvent) -> Meeting | None:
    meeting_id = (row.params or {}).get("meeting_id") or row.meeting_id
    return db.session.get(Meeting, meeting_id) if meeting_id else None


def _accepted(row: HistoryEvent) -> None:
    """受付: the owning section learns which meeting the item now waits for."""
    item = db.session.get(Item, row.item_id)
    body = f"案件「{item.title}」を庁議事務局が受け付けました。"
    if item.level_kind:
        body += f"\n{_kind_name(item.level_kind)}の議題になるのを待ちます。"
    if item.late:
        body += "\n申込締切の後に申し込まれたため、「締切後」として受け付けています。"
    notify(
        section_users(item.section_id),
        kind=row.event,
        title=f"案件「{item.title}」が受け付けられました",
        body=body,
        url=item_url(item.id),
        item=item,
        actor=row.actor,
    )


def _time_and_place(meeting: Meeting) -> list[str]:
    """A meeting's 開始 and 会場 lines, those that are set."""
    lines = []
    if meeting.start_time is not None:
        lines.append(f"開始：{meeting.start_time:%H:%M}")
    if meeting.venue:
        lines.append(f"会場：{meeting.venue}")
    return lines


def _scheduled(row: HistoryEvent) -> None:
    """付議: the owning section, with the meeting's name and date (and time and place if set)."""
    item = db.session.get(Item, row.item_id)
    meeting = _row_meeting(row)
    lines = [
        f"案件「{item.title}」を次の会議の議題にしました。",
        f"会議：{meeting.title}",
        f"日付：{to_wareki(meeting.date)}",
    ]
    lines += _time_and_place(meeting)
    notify(
        section_users(item.section_id),
        kind=row.event,
        title=f"案件「{item.title}」が{_meeting_line(meeting)}の議題になりました",
        body="\n".join(lines),
        url=item_url(item.id),
        item=item,
        meeting=meeting,
        actor=row.actor,
    )


def _next_step(item: Item, outcome: Outcome) -> str:
    """What the owning section does or waits for after an outcome (DOMAIN §4)."""
    if outcome is Outcome.APPROVED:
        if item.public_comment_planned:
            return "承認されました。庁議事務局がパブリックコメント（意見募集）を始めます。"
        return "承認されました。"
    if outcome is Outcome.APPROVED_WITH_AMENDMENTS:
        return "修正版を作成して、庁議事務局に提出してください。"
    if outcome is Outcome.FORWARDED:
        return f"次は{_kind_name(item.level_kind)}の議題になるのを待ちます。"
    if outcome is Outcome.CONTINUED:
        return (
            f"引き続き{_kind_name(item.level_kind)}で審議します。次の会議の議題になるのを待ちます。"
        )
    if outcome is Outcome.REMANDED:
        return "申込書を修正して、再度申し込んでください。"
    return "この案件は完了しました。"


def _outcome(row: HistoryEvent) -> None:
    """結果: the owning section, with the wording as the minutes print it and what comes next."""
    item = db.session.get(Item, row.item_id)
    meeting = _row_meeting(row)
    outcome = Outcome(row.params["outcome"])
    wording = outcome.wording(_kind_name(row.params.get("forward_to")) or None)
    notify(
        section_users(item.section_id),
        kind=row.event,
        title=f"案件「{item.title}」の結果：{wording}",
        body=(
            f"{_meeting_line(meeting)}で、案件「{item.title}」の結果が登録されました。\n"
            f"結果：{wording}\n\n{_next_step(item, outcome)}"
        ),
        url=item_url(item.id),
        item=item,
        meeting=meeting,
        actor=row.actor,
    )


def _minutes_published(row: HistoryEvent) -> None:
    """議事録の公開: the owning sections of every item on the agenda, once per user and meeting
    (published again after 公開取消, nobody is told twice)."""
    meeting = db.session.get(Meeting, row.meeting_id)
    section_ids = sorted({entry.item.section_id for entry in meeting.entries})
    if not section_ids:
        return
    notify(
        section_users(*section_ids),
        kind=row.event,
        title=f"{_meeting_line(meeting)}の議事録が公開されました",
        body=(
            f"{_meeting_line(meeting)}の議事録を公開しました。"
            "議題の案件と議事録は、公開ページでだれでも見られます。"
        ),
        url=meeting_url(meeting.id),
        meeting=meeting,
        dedupe_key=f"published:{meeting.id}",
        actor=row.actor,
    )


def _submitted(row: HistoryEvent) -> None:
    """申込: the secretariat, 「締切後」 first in the title when the request came late."""
    item = db.session.get(Item, row.item_id)
    late = "締切後：" if item.late else ""
    again = row.from_state == ItemStatus.RETURNED.value  # 差戻しの後の再申込
    verb = "再申込" if again else "申込"
    lines = [f"{item.section.name}から案件「{item.title}」の{verb}がありました。"]
    if again and row.reason:  # an answer to the return (services.items.submit)
        lines.append("差し戻した案件が、回答を添えて再び申し込まれました。")
        lines.append(f"差戻しへの回答：{row.reason}")
    elif again:
        lines.append("差し戻した案件が、修正されて再び申し込まれました。")
    if item.route:
        lines.append(f"付議先：{_kind_name(item.route[0])}")
    if item.late:
        lines.append("申込締切の後の申込です（締切後）。")
    lines.append("受付の画面で内容を確かめ、受け付けるか差し戻してください。")
    notify(
        secretariat_users(),
        kind=row.event,
        title=f"{late}案件「{item.title}」が{'再び' if again else ''}申し込まれました",
        body="\n".join(lines),
        url=item_url(item.id),
        item=item,
        actor=row.actor,
    )


def _amendment_submitted(row: HistoryEvent) -> None:
    """修正版の提出: the secretariat confirms it or returns it."""
    item = db.session.get(Item, row.item_id)
    notify(
        secretariat_users(),
        kind=row.event,
        title=f"案件「{item.title}」の修正版が提出されました",
        body=(
            f"{item.section.name}が案件「{item.title}」の修正版を提出しました。"
            "内容を確かめ、修正を確認するか差し戻してください。"
        ),
        url=item_url(item.id),
        item=item,
        actor=row.actor,
    )


# A revision the secretariat must hear of: the item was taken in and waits for (or sits on) a
# meeting (DOMAIN §9). Drafts and returned requests come back through 申込; amendments through
# 修正版の提出.
REVISION_NOTICED = (ItemStatus.ACCEPTED, ItemStatus.SCHEDULED)


def _revised(row: HistoryEvent) -> None:
    """様式２の修正 between meetings: the secretariat, with the new version's number."""
    item = db.session.get(Item, row.item_id)
    if ItemStatus(item.status) not in REVISION_NOTICED:
        return
    number = (row.params or {}).get("version_number")
    notify(
        secretariat_users(),
        kind=row.event,
        title=f"案件「{item.title}」の様式２が修正されました（第{number}版）",
        body=(
            f"{item.section.name}が案件「{item.title}」の様式２を修正しました（第{number}版）。"
            "版の一覧で、前の版との違いを確かめられます。"
        ),
        url=f"{item_url(item.id)}/versions",
        item=item,
        actor=row.actor,
    )


def _agenda_items_by_section(item_ids: Iterable[int]) -> dict[int, list[str]]:
    """The titles of the agenda's items, by their section (a section hears of its own items)."""
    ids = list(item_ids)
    if not ids:
        return {}
    titles: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(Item.section_id, Item.title).where(Item.id.in_(ids)).order_by(Item.id)
    )
    for section_id, title in rows:
        titles.setdefault(section_id, []).append(title)
    return titles


def _meeting_cancelled(row: HistoryEvent) -> None:
    """中止: each section of the items that were on the agenda, naming its items, with the
    reason; their items wait for the next meeting of the kind again."""
    meeting = db.session.get(Meeting, row.meeting_id)
    by_section = _agenda_items_by_section((row.params or {}).get("item_ids", []))
    for section_id, titles in by_section.items():
        named = "\n".join(f"・{title}" for title in titles)
        notify(
            section_users(section_id),
            kind=row.event,
            title=f"{_meeting_line(meeting)}は中止になりました",
            body=(
                f"{_meeting_line(meeting)}は中止になりました。\n"
                f"中止の理由:\n{row.reason}\n\n"
                f"この会議の議題だった貴課の案件:\n{named}\n\n"
                "これらの案件は、次の会議の議題になるのを待ちます。"
                "議題になったときに、あらためてお知らせします。"
            ),
            url=meeting_url(meeting.id),
            meeting=meeting,
            actor=row.actor,
        )


def _meeting_edited(row: HistoryEvent) -> None:
    """A planned meeting's date changed: the sections of the items on its agenda, with the old
    and the new date (and the time and place as they are now)."""
    changed = row.params or {}
    if "date" not in changed:
        return
    meeting = db.session.get(Meeting, row.meeting_id)
    section_ids = sorted({entry.item.section_id for entry in meeting.entries})
    if not section_ids:
        return
    old, new = (date.fromisoformat(value) for value in changed["date"])
    lines = [
        f"{meeting.title}の開催日が変わりました。",
        f"変更前：{to_wareki(old)}",
        f"変更後：{to_wareki(new)}",
    ]
    lines += _time_and_place(meeting)
    lines.append("この会議の議題の案件は、変更後の日に審議します。")
    notify(
        section_users(*section_ids),
        kind="meeting_date_changed",
        title=f"{meeting.title}の開催日が{to_wareki(new)}に変わりました",
        body="\n".join(lines),
        url=meeting_url(meeting.id),
        meeting=meeting,
        actor=row.actor,
    )


ANNOUNCERS.update(
    {
        "cancel": _meeting_cancelled,
        "edit_meeting": _meeting_edited,
        "accept": _accepted,
        "schedule": _scheduled,
        "record_outcome": _outcome,
        "return_amendment": _amendment_returned,
        "publish": _minutes_published,
        "submit": _submitted,
        "submit_amendment": _amendment_submitted,
        "revise": _revised,
    }
)


# -- reading and marking (pages and API) ------------------------------------------------------


def mark_read(notice: Notice) -> bool:
    """Mark one notice read; False when it already was (nothing written)."""
    if notice.read_at is not None:
        return False
    notice.read_at = utcnow()
    db.session.flush()
    return True


def mark_all_read(user: User) -> int:
    """Mark every unread notice of *user* read; how many were."""
    result = db.session.execute(
        update(Notice)
        .where(Notice.user_id == user.id, Notice.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def set_mail_choice(user: User, by_email: bool) -> bool:
    """The user's choice: e-mail and in-app, or in-app only. False when nothing changed."""
    if user.notify_by_email == by_email:
        return False
    user.notify_by_email = by_email
    db.session.flush()
    return True


# -- `flask notify`: the daily reminders --------------------------------------------------------

# Drafts a deadline reminder is about: not yet sent (作成中), or sent back (差戻し中).
DRAFT_STATES = (ItemStatus.DRAFT, ItemStatus.RETURNED)
# How many 開庁日 before a deadline the reminder starts.
REMIND_OPEN_DAYS = 2


@dataclass
class Reminded:
    deadline: int = 0
    closing: int = 0


# Two crons at once (PostgreSQL): how often a reminder is tried again after the other one wrote
# some of the same (user, key) rows between this one's check and its insert.
RACE_RETRIES = 3


def _notify_once(users: Iterable[User], **kw) -> list[Notice]:
    """:func:`notify` in a savepoint: when a concurrent run inserted one of the same (user, key)
    first, only this call is undone, and it is made again for the users still without one."""
    users = list(users)
    for _attempt in range(RACE_RETRIES):
        try:
            with db.session.begin_nested():
                return notify(users, **kw)
        except IntegrityError:
            continue
    return []


def send_reminders(on: date) -> Reminded:
    """The reminders for the day *on*, each once per user (the caller commits)."""
    done = Reminded()
    extra = admin_closed_days()
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.status == MeetingStatus.PLANNED, Meeting.date >= on)
        .order_by(Meeting.date, Meeting.id)
    ).all()
    due = []
    for meeting in meetings:
        deadline = deadline_of(meeting, extra)
        if open_days_before(deadline, REMIND_OPEN_DAYS, extra) <= on <= deadline:
            due.append((meeting, deadline))
    if due:
        drafts = db.session.scalars(  # read once for every meeting whose deadline is near
            select(Item)
            .where(Item.status.in_(DRAFT_STATES))
            .order_by(Item.id)
            .options(selectinload(Item.route_steps))
        ).all()
        for meeting, deadline in due:
            done.deadline += _remind_deadline(meeting, deadline, drafts)
    done.closing = _remind_closing(on)
    return done


def _drafts_for(meeting: Meeting, drafts: Iterable[Item]) -> dict[int, list[Item]]:
    """The *drafts* whose first route kind the meeting sits as, by section."""
    kinds = set(meeting.kinds)
    by_section: dict[int, list[Item]] = {}
    for item in drafts:
        route = item.route
        if route and route[0] in kinds:
            by_section.setdefault(item.section_id, []).append(item)
    return by_section


def _remind_deadline(meeting: Meeting, deadline: date, drafts: Iterable[Item]) -> int:
    made = 0
    when = _meeting_line(meeting)
    for section_id, items in _drafts_for(meeting, drafts).items():
        titles = "\n".join(f"・{item.title}（{ItemStatus(item.status).label}）" for item in items)
        url = item_url(items[0].id) if len(items) == 1 else "/items/?mine=1"
        made += len(
            _notify_once(
                section_users(section_id),
                kind="deadline",
                title=f"申込締切は{to_wareki(deadline)}です：{when}",
                body=(
                    f"{when}の申込締切は{to_wareki(deadline)}です。\n"
                    f"申込がまだの案件:\n{titles}\n\n"
                    "締切の後の申込は「締切後」として扱われます。"
                ),
                url=url,
                item=items[0] if len(items) == 1 else None,
                meeting=meeting,
                dedupe_key=f"deadline:{meeting.id}",
            )
        )
    return made


def _remind_closing(on: date) -> int:
    """パブリックコメント closing today or tomorrow: the owning section and the secretariat."""
    made = 0
    processes = db.session.scalars(
        select(PublicComment)
        .where(
            PublicComment.status == PublicCommentStatus.OPEN,
            PublicComment.closes_on.between(on, on + timedelta(days=1)),
        )
        .order_by(PublicComment.id)
    ).all()
    for process in processes:
        item = process.item
        day = "本日" if process.closes_on == on else "明日"
        users = [*section_users(item.section_id), *secretariat_users()]
        made += len(
            _notify_once(
                users,
                kind="pc_closing",
                title=f"パブリックコメント「{item.title}」は{day}（{to_wareki(process.closes_on)}）で終わります",
                body=(
                    f"案件「{item.title}」のパブリックコメント（意見募集）は"
                    f"{to_wareki(process.closes_on)}に締め切ります。\n"
                    f"届いた意見：{len(process.opinions)}件\n"
                    "締切の後、庁議事務局が意見募集を終了し、意見ごとに市の考え方を入力します。"
                ),
                url=item_url(item.id),
                item=item,
                dedupe_key=f"pc_closing:{process.id}",
            )
        )
    return made
