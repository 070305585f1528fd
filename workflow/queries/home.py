"""The home page: each reader's counts by state and by meeting kind, the longest waits, and the
meetings to come — all of them cut by the same read rules and filters as the item list, so a
count and the list it links to always agree."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, MeetingKind, User
from workflow.permissions import readable_meetings
from workflow.queries.items import NEWEST_FIRST, ItemFilter, filter_clauses
from workflow.services.public_comment import today
from workflow.states.states import FINAL_ITEM_STATES, ItemStatus, MeetingStatus, Role

# States in which an item waits for someone (the 「長く待っている案件」 list).
WAITING = (
    ItemStatus.SUBMITTED,
    ItemStatus.ACCEPTED,
    ItemStatus.AMENDING,
    ItemStatus.AMENDMENT_SUBMITTED,
    ItemStatus.RETURNED,
)
SHORT_LIST = 8


@dataclass(frozen=True)
class KindCounts:
    """Items waiting for (付議待ち) and on the agenda of (審議予定) meetings of one kind."""

    kind: MeetingKind
    accepted: int
    scheduled: int


@dataclass
class Home:
    by_status: dict[ItemStatus, int]
    by_kind: list[KindCounts]
    waiting: list[Item]
    upcoming: list[tuple[Meeting, int]]  # the meeting and the number of items on its agenda
    mine: list[Item] = field(default_factory=list)


def home(user: User) -> Home:
    """What *user*'s home page shows."""
    counts = {
        (ItemStatus(status), kind): n
        for status, kind, n in db.session.execute(
            select(Item.status, Item.level_kind, func.count())
            .where(*filter_clauses(user, ItemFilter()))
            .group_by(Item.status, Item.level_kind)
        )
    }
    by_status: dict[ItemStatus, int] = dict.fromkeys(ItemStatus, 0)
    for (status, _kind), n in counts.items():
        by_status[status] += n
    kinds = db.session.scalars(select(MeetingKind).order_by(MeetingKind.sort_order)).all()
    by_kind = [
        KindCounts(
            k,
            counts.get((ItemStatus.ACCEPTED, k.code), 0),
            counts.get((ItemStatus.SCHEDULED, k.code), 0),
        )
        for k in kinds
    ]
    # A department's longest waits are its own section's: another section's item is not its to
    # chase (it may read those from 申込済 on, in the item list).
    own = ItemFilter(mine=getattr(user, "role", None) == Role.DEPARTMENT)
    waiting = db.session.scalars(
        select(Item)
        .where(*filter_clauses(user, own), Item.status.in_(WAITING))
        .order_by(Item.updated_at, Item.id)
        .limit(SHORT_LIST)
    ).all()
    upcoming = db.session.execute(
        select(Meeting, func.count(AgendaEntry.id))
        .outerjoin(AgendaEntry, AgendaEntry.meeting_id == Meeting.id)
        .where(
            readable_meetings(user),
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.date >= today(),
        )
        .group_by(Meeting.id)
        .order_by(Meeting.date, Meeting.id)
        .limit(SHORT_LIST)
    ).all()
    mine: list[Item] = []
    if user.role == Role.DEPARTMENT:
        mine = list(
            db.session.scalars(
                select(Item)
                .where(
                    *filter_clauses(user, ItemFilter(mine=True)),
                    Item.status.not_in(tuple(FINAL_ITEM_STATES)),
                )
                .order_by(*NEWEST_FIRST)
            )
        )
    return Home(by_status, by_kind, list(waiting), [tuple(row) for row in upcoming], mine)
