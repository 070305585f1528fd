"""「対応が必要なもの」: what waits for the signed-in user (issue 19), for the home page and
GET /api/v1/me/tasks alike.

A department user's tasks are items of their own section (the item list's ``mine`` filter, so
never another section's item):

- ``draft``: 作成中 — finish the form and submit it;
- ``returned``: 差戻し中 — the reason of the return (or the meeting's 差し戻しとする。) in full,
  first, then what to do; it ends when the item is submitted again;
- ``amend``: 修正対応中 after 原案を一部修正し承認する。 — submit the amended form;
- ``amendment_returned``: 修正対応中 after the secretariat returned the amendment, with its reason;
- ``forwarded``: 付議待ち after 原案を上部庁議へ付議する — review the 様式２ for the next meeting;
  it ends when the form is revised after the outcome (a ``revise`` history row) or scheduled.

What is to be filed (``draft``, ``returned``, ``forwarded``) also names the 申込締切 of the next
planned meeting of the kind it goes to, or says it has passed (DOMAIN §11).

The secretariat's:

- ``intake``: 申込済 — take in or return (a late request, ``Item.late``, says 締切後);
- ``amendment_to_confirm``: 修正確認中 — confirm or return the amendment;
- ``empty_agenda``: a planned meeting within :data:`AGENDA_DAYS` days of today with no agenda;
- ``minutes``: a held meeting whose minutes are not confirmed;
- ``public_comment_closing``: an open パブリックコメント closing within :data:`CLOSING_DAYS` days,
  or already past its closing day and not closed;
- ``public_comment_results``: a closed パブリックコメント whose results are not published.

Viewers and admins have none. Order: what was sent back to the reader (``returned``,
``amendment_returned``) first, then everything by ``since``, the oldest wait first.

Each role's list takes a fixed number of statements however many items and meetings there are
(a department's, one or two more per meeting kind its items are to be filed for).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from workflow.deadlines import next_deadlines
from workflow.extensions import db
from workflow.models import (
    AgendaEntry,
    HistoryEvent,
    Item,
    ItemRouteStep,
    Meeting,
    MeetingKind,
    PublicComment,
    Section,
    User,
)
from workflow.permissions import readable_items, readable_meetings
from workflow.queries.items import ItemFilter, filter_clauses
from workflow.services import public_comment as public_comment_service
from workflow.services.versions import REVISE_EVENT
from workflow.states.states import (
    ItemStatus,
    MeetingStatus,
    Outcome,
    PublicCommentStatus,
    Role,
)
from workflow.wareki import to_wareki

AGENDA_DAYS = 7  # a planned meeting this close with an empty agenda needs the secretariat
CLOSING_DAYS = 3  # a パブリックコメント closing this soon needs closing
# What was sent back to the reader comes before everything else.
URGENT = ("returned", "amendment_returned")

# The kinds of task, on an item and on a meeting (the API's schema declares these).
ITEM_KINDS = (
    "draft",
    "returned",
    "amend",
    "amendment_returned",
    "forwarded",
    "intake",
    "amendment_to_confirm",
    "public_comment_closing",
    "public_comment_results",
)
MEETING_KINDS = ("empty_agenda", "minutes")
# What the home page labels each kind with.
KIND_LABELS = {
    "draft": "作成中",
    "returned": "差戻し",
    "amend": "一部修正",
    "amendment_returned": "修正の差戻し",
    "forwarded": "上部庁議へ付議",
    "intake": "受付待ち",
    "amendment_to_confirm": "修正確認",
    "public_comment_closing": "意見募集の締切",
    "public_comment_results": "意見募集の結果",
    "empty_agenda": "議題なし",
    "minutes": "議事録の確定",
}


@dataclass(frozen=True)
class Task:
    """One thing that waits for the reader: on an item (``item_id``) or a meeting (``meeting_id``)."""

    kind: str
    title: str
    message: str
    url: str
    since: datetime  # aware; a task that waits from a day waits from its midnight in the city
    item_id: int | None = None
    meeting_id: int | None = None
    # 締切後 (an intake): the page marks it; the API's title stays the item's, its message says it.
    late: bool = False

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def urgent(self) -> bool:
        return self.kind in URGENT

    @property
    def since_day(self) -> date:
        """The city's calendar day of ``since`` (what the home page prints in 和暦)."""
        return self.since.astimezone(public_comment_service.city_zone()).date()


def _midnight(day: date) -> datetime:
    """The start of *day* in the city, in UTC."""
    return datetime.combine(day, time(), public_comment_service.city_zone()).astimezone(UTC)


def _order(tasks: Iterable[Task]) -> list[Task]:
    return sorted(
        tasks,
        key=lambda t: (t.kind not in URGENT, t.since, t.kind, t.item_id or 0, t.meeting_id or 0),
    )


def tasks_for(user: User | None) -> list[Task]:
    """What waits for *user*, ordered (see the module's docstring); empty for anyone else."""
    role = getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None
    if role == Role.DEPARTMENT:
        return _order(_department_tasks(user))
    if role == Role.SECRETARIAT:
        return _order(
            [
                *_item_tasks_for_secretariat(user),
                *_meeting_tasks(user),
                *_public_comment_tasks(user),
            ]
        )
    return []


# -- items: the history row that brought each into its state -------------------------------------

_ENTERED = aliased(HistoryEvent, name="entered")
_AWAITED = aliased(MeetingKind, name="awaited")


def _entered_id():
    """The id of the latest history row that moved the item into its current state."""
    return (
        select(func.max(HistoryEvent.id))
        .where(
            HistoryEvent.item_id == Item.id,
            HistoryEvent.to_state == Item.status,
            HistoryEvent.from_state != HistoryEvent.to_state,
        )
        .correlate(Item)
        .scalar_subquery()
    )


def _item_rows(clauses: list, statuses: tuple[ItemStatus, ...]) -> list:
    revised_after = (
        exists()
        .where(
            HistoryEvent.item_id == Item.id,
            HistoryEvent.event == REVISE_EVENT,
            HistoryEvent.id > _ENTERED.id,
        )
        .correlate(Item, _ENTERED)
    )
    return db.session.execute(
        select(
            Item.id,
            Item.title,
            Item.status,
            Item.late,
            Item.level_kind,
            Item.created_at,
            Item.updated_at,
            Section.name.label("section_name"),
            _AWAITED.name.label("awaited_name"),
            _ENTERED.event,
            _ENTERED.reason,
            _ENTERED.params,
            _ENTERED.occurred_at,
            revised_after.label("revised_after"),
        )
        .join(Section, Section.id == Item.section_id)
        .outerjoin(_AWAITED, _AWAITED.code == Item.level_kind)
        .outerjoin(_ENTERED, _ENTERED.id == _entered_id())
        .where(*clauses, Item.status.in_(statuses))
        .order_by(Item.id)
    ).all()


@dataclass(frozen=True)
class _Decided:
    """An agenda entry's outcome as a task quotes it."""

    meeting: Meeting
    special_notes: str
    forward_name: str | None

    @property
    def where(self) -> str:
        return f"{self.meeting.title}（{to_wareki(self.meeting.date)}）"


def _decided(item_ids: list[int]) -> dict[tuple[int, int], _Decided]:
    """The decided agenda entries of *item_ids*, by (item id, meeting id), in one statement."""
    if not item_ids:
        return {}
    forward = aliased(MeetingKind, name="forward")
    rows = db.session.execute(
        select(AgendaEntry.item_id, AgendaEntry.special_notes, forward.name, Meeting)
        .join(Meeting, Meeting.id == AgendaEntry.meeting_id)
        .outerjoin(forward, forward.code == AgendaEntry.forward_to)
        .where(AgendaEntry.item_id.in_(item_ids), AgendaEntry.outcome.is_not(None))
    ).all()
    return {
        (item_id, meeting.id): _Decided(meeting, notes or "", forward_name)
        for item_id, notes, forward_name, meeting in rows
    }


def _notes(decided: _Decided | None) -> str:
    if decided is None or not decided.special_notes.strip():
        return ""
    return f"特記事項：{decided.special_notes.strip()}\n"


def _first_kinds(item_ids: list[int]) -> dict[int, str]:
    """The first kind of each item's route, in one statement."""
    if not item_ids:
        return {}
    first: dict[int, str] = {}
    for item_id, kind in db.session.execute(
        select(ItemRouteStep.item_id, ItemRouteStep.kind)
        .where(ItemRouteStep.item_id.in_(item_ids))
        .order_by(ItemRouteStep.item_id, ItemRouteStep.position.desc())
    ):
        first[item_id] = kind  # the lowest position comes last and stays
    return first


def _deadline_lines(kinds: set[str]) -> dict[str, str]:
    """For each kind: the 申込締切 of its next planned meeting, as a line of a task's message
    (a statement or two per kind, however many items wait for it)."""
    lines = {}
    for next_one in next_deadlines(sorted(kinds), public_comment_service.today()):
        if next_one.meeting is None:
            continue
        meeting, deadline = next_one.meeting, next_one.deadline
        name = f"次の{meeting.title}（{to_wareki(meeting.date)}）"
        if next_one.passed:
            lines[next_one.kind.code] = (
                f"{name}の申込締切（{to_wareki(deadline)}）は過ぎています。"
                "いま申し込むと「締切後」の扱いになります。\n"
            )
        else:
            lines[next_one.kind.code] = f"{name}の申込締切は{to_wareki(deadline)}です。\n"
    return lines


def _department_tasks(user: User) -> list[Task]:
    rows = _item_rows(
        filter_clauses(user, ItemFilter(mine=True)),
        (ItemStatus.DRAFT, ItemStatus.RETURNED, ItemStatus.AMENDING, ItemStatus.ACCEPTED),
    )
    outcome_of = {
        row.id: (row.params or {}).get("outcome") for row in rows if row.event == "record_outcome"
    }
    # 付議待ち only waits for the department after 上部庁議へ付議, until the form is revised.
    rows = [
        row
        for row in rows
        if row.status != ItemStatus.ACCEPTED
        or (outcome_of.get(row.id) == Outcome.FORWARDED.value and not row.revised_after)
    ]
    decided = _decided([row.id for row in rows if outcome_of.get(row.id)])
    # The meeting kind each draft, returned or forwarded item is to be filed for next.
    first = _first_kinds(
        [row.id for row in rows if row.status in (ItemStatus.DRAFT, ItemStatus.RETURNED)]
    )
    next_kind = {
        row.id: row.level_kind if row.status == ItemStatus.ACCEPTED else first.get(row.id)
        for row in rows
        if row.status != ItemStatus.AMENDING
    }
    deadline = _deadline_lines({kind for kind in next_kind.values() if kind})
    tasks = []
    for row in rows:
        since = row.occurred_at or row.updated_at
        meeting_id = (row.params or {}).get("meeting_id")
        entry = decided.get((row.id, meeting_id)) if outcome_of.get(row.id) else None
        where = entry.where if entry is not None else "会議"
        due = deadline.get(next_kind.get(row.id) or "", "")  # the next 申込締切, if any
        kind, message = "", ""
        match row.status:
            case ItemStatus.DRAFT:
                kind, since = "draft", row.created_at
                message = (
                    "作成中の申込書です。内容を確かめて、申込締切までに申し込んでください。\n" + due
                )
            case ItemStatus.RETURNED if row.event == "record_outcome":
                kind = "returned"
                message = (
                    f"{where}の結果：{Outcome.REMANDED.label}\n{_notes(entry)}"
                    "申込書を直して、もう一度申し込んでください。\n" + due
                )
            case ItemStatus.RETURNED:
                kind = "returned"
                message = (
                    f"差戻しの理由：{row.reason}\n"
                    "理由に沿って申込書を直し、もう一度申し込んでください。\n" + due
                )
            case ItemStatus.AMENDING if row.event == "return_amendment":
                kind = "amendment_returned"
                message = (
                    f"修正の差戻しの理由：{row.reason}\n"
                    "理由に沿って修正し、もう一度「修正版の提出」をしてください。"
                )
            case ItemStatus.AMENDING:
                kind = "amend"
                message = (
                    f"{where}の結果：{Outcome.APPROVED_WITH_AMENDMENTS.label}\n{_notes(entry)}"
                    "申込書を修正して保存し、「修正版の提出」をしてください。"
                )
            case ItemStatus.ACCEPTED:
                kind = "forwarded"
                forward = entry.forward_name if entry is not None else None
                message = (
                    f"{where}の結果：{Outcome.FORWARDED.wording(forward)}\n"
                    f"次は{row.awaited_name or '上部の会議'}に付議されます。"
                    "その会議に出す様式２（申込日・検討経過など）を見直して保存してください。\n"
                    + due
                )
        url, since = f"/items/{row.id}", since or row.updated_at
        tasks.append(Task(kind, row.title, message.rstrip("\n"), url, since, row.id))
    return tasks


def _item_tasks_for_secretariat(user: User) -> list[Task]:
    rows = _item_rows(
        [readable_items(user)], (ItemStatus.SUBMITTED, ItemStatus.AMENDMENT_SUBMITTED)
    )
    tasks = []
    for row in rows:
        since = row.occurred_at or row.updated_at
        if row.status == ItemStatus.SUBMITTED:
            message = "申込締切の後に届いた申込です（締切後）。\n" if row.late else ""
            message += (
                f"{row.section_name}から申込がありました。"
                "内容を確かめて、受け付けるか、理由を付けて差し戻してください。"
            )
            tasks.append(
                Task("intake", row.title, message, f"/items/{row.id}", since, row.id, late=row.late)
            )
        else:
            message = (
                f"{row.section_name}から修正版が提出されました。"
                "修正を確かめて、確認するか、理由を付けて差し戻してください。"
            )
            tasks.append(
                Task("amendment_to_confirm", row.title, message, f"/items/{row.id}", since, row.id)
            )
    return tasks


# -- meetings ------------------------------------------------------------------------------------


def _meeting_title(meeting: Meeting) -> str:
    return f"{meeting.title}（{to_wareki(meeting.date)}）"


def _meeting_tasks(user: User) -> list[Task]:
    today = public_comment_service.today()
    empty = db.session.scalars(
        select(Meeting)
        .where(
            readable_meetings(user),
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.date >= today,
            Meeting.date <= today + timedelta(days=AGENDA_DAYS),
            ~exists().where(AgendaEntry.meeting_id == Meeting.id),
        )
        .order_by(Meeting.date, Meeting.id)
    ).all()
    tasks = []
    for meeting in empty:
        days = (meeting.date - today).days
        when = "本日開催" if days == 0 else f"開催まであと{days}日"
        message = (
            f"{when}ですが、議題がありません。"
            "付議待ちの案件を議題に載せるか、開催を見直してください。"
        )
        since = max(_midnight(meeting.date - timedelta(days=AGENDA_DAYS)), meeting.created_at)
        url = f"/meetings/{meeting.id}"
        tasks.append(
            Task("empty_agenda", _meeting_title(meeting), message, url, since, None, meeting.id)
        )
    held_at = (
        select(func.max(HistoryEvent.occurred_at))
        .where(HistoryEvent.meeting_id == Meeting.id, HistoryEvent.event == "hold")
        .correlate(Meeting)
        .scalar_subquery()
    )
    held = db.session.execute(
        select(Meeting, held_at)
        .where(readable_meetings(user), Meeting.status == MeetingStatus.HELD)
        .order_by(Meeting.date, Meeting.id)
    ).all()
    for meeting, at in held:
        message = "開催済の会議です。議事録（案）を確かめて、議事録を確定してください。"
        since = at or _midnight(meeting.date)
        url = f"/meetings/{meeting.id}"
        tasks.append(
            Task("minutes", _meeting_title(meeting), message, url, since, None, meeting.id)
        )
    return tasks


# -- パブリックコメント ---------------------------------------------------------------------------


def _public_comment_tasks(user: User) -> list[Task]:
    today = public_comment_service.today()
    rows = db.session.execute(
        select(PublicComment, Item.title)
        .join(Item, Item.id == PublicComment.item_id)
        .where(
            readable_items(user),
            (
                and_(
                    PublicComment.status == PublicCommentStatus.OPEN,
                    PublicComment.closes_on <= today + timedelta(days=CLOSING_DAYS),
                )
                | (PublicComment.status == PublicCommentStatus.CLOSED)
            ),
        )
        .order_by(PublicComment.id)
    ).all()
    tasks = []
    for process, title in rows:
        url = f"/public-comments/{process.item_id}"
        if process.status == PublicCommentStatus.OPEN:
            closes = to_wareki(process.closes_on)
            days = (process.closes_on - today).days
            if days < 0:
                message = (
                    f"意見募集の締切日（{closes}）を過ぎています。"
                    "意見を記録し終えたら、意見募集を終了してください。"
                )
            else:
                left = "本日が締切日です" if days == 0 else f"あと{days}日"
                message = (
                    f"意見募集の締切日は{closes}です（{left}）。"
                    "締切日以後に、意見を記録し終えたら意見募集を終了してください。"
                )
            start = max(process.closes_on - timedelta(days=CLOSING_DAYS), process.published_on)
            tasks.append(
                Task(
                    "public_comment_closing", title, message, url, _midnight(start), process.item_id
                )
            )
        else:
            closed = process.closed_on or process.closes_on
            message = (
                f"意見募集は{to_wareki(closed)}に終了しました。"
                "意見ごとに市の考え方と対応区分を記入し、結果を公表してください。"
            )
            tasks.append(
                Task(
                    "public_comment_results",
                    title,
                    message,
                    url,
                    _midnight(closed),
                    process.item_id,
                )
            )
    return tasks
