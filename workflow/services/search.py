"""Finding items: the filtered list, and full-text search with a snippet around the hit.

The search is a plain case-insensitive substring match done in Python, so every engine gives the
same answer (SQLite's LIKE folds ASCII only). The production search engine replaces
:func:`search_items`; its callers and its result shape stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, or_, select, true
from sqlalchemy.orm import selectinload

from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, Opinion, User
from workflow.permissions import can_read_item, can_read_minutes
from workflow.states.states import ItemStatus, MeetingStatus, Role

SNIPPET_RADIUS = 40


def readable_items_clause(user: User | None) -> ColumnElement[bool]:
    """SQL for :func:`workflow.permissions.can_read_item` (a test holds the two equal)."""
    role = user.role if user is not None and getattr(user, "is_authenticated", False) else None
    if role in (Role.SECRETARIAT, Role.ADMIN):
        return true()
    if role == Role.VIEWER:
        return Item.status != ItemStatus.DRAFT
    if role == Role.DEPARTMENT:
        return or_(Item.status != ItemStatus.DRAFT, Item.section_id == user.section_id)
    return exists().where(
        AgendaEntry.item_id == Item.id,
        AgendaEntry.meeting_id == Meeting.id,
        Meeting.status == MeetingStatus.PUBLISHED,
    )


def list_items(
    user: User | None,
    *,
    status: ItemStatus | None = None,
    kind: str | None = None,
    q: str = "",
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Item], int]:
    """The items *user* may read, newest first, filtered; returns one page and the total."""
    query = select(Item).where(readable_items_clause(user))
    if status is not None:
        query = query.where(Item.status == status)
    if kind:
        query = query.where(Item.level_kind == kind)
    if q:
        query = query.where(
            or_(
                Item.title.icontains(q, autoescape=True), Item.summary.icontains(q, autoescape=True)
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Item.updated_at.desc(), Item.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total or 0


@dataclass(frozen=True)
class SearchHit:
    item: Item
    field: str  # title, summary, discussion_points, details, opinions
    snippet: str


def snippet(text: str, match: re.Match[str], radius: int = SNIPPET_RADIUS) -> str:
    """The hit with *radius* characters either side, on one line, ``…`` where cut."""
    start, end = max(match.start() - radius, 0), min(match.end() + radius, len(text))
    core = " ".join(text[start:end].split())
    return ("…" if start > 0 else "") + core + ("…" if end < len(text) else "")


def _texts(item: Item, opinions: list[Opinion]) -> Iterator[tuple[str, str]]:
    yield "title", item.title
    yield "summary", item.summary
    for point in item.discussion_points:
        yield "discussion_points", point.text
    for detail in item.details:
        yield "details", detail.heading
        yield "details", detail.body
    for opinion in opinions:
        yield "opinions", opinion.opinion
        if opinion.response:
            yield "opinions", opinion.response


def _readable_opinions(user: User | None, item_ids: Iterable[int]) -> dict[int, list[Opinion]]:
    """Opinions and responses of the meetings whose minutes *user* may read, by item."""
    rows = db.session.execute(
        select(Opinion, AgendaEntry.item_id, Meeting)
        .join(AgendaEntry, Opinion.entry_id == AgendaEntry.id)
        .join(Meeting, AgendaEntry.meeting_id == Meeting.id)
        .where(AgendaEntry.item_id.in_(list(item_ids)))
        .order_by(Meeting.date, Meeting.id, Opinion.position)
    ).all()
    found: dict[int, list[Opinion]] = {}
    for opinion, item_id, meeting in rows:
        if can_read_minutes(user, meeting):
            found.setdefault(item_id, []).append(opinion)
    return found


def search_items(user: User | None, q: str, *, limit: int = 50) -> list[SearchHit]:
    """Items *user* may read whose title, summary, 論点, back side or opinions contain *q*."""
    q = q.strip()
    if not q:
        return []
    pattern = re.compile(re.escape(q), re.IGNORECASE)
    candidates = db.session.scalars(
        select(Item)
        .where(readable_items_clause(user))
        .options(selectinload(Item.discussion_points), selectinload(Item.details))
        .order_by(Item.updated_at.desc(), Item.id.desc())
    ).all()
    opinions = _readable_opinions(user, [i.id for i in candidates])
    hits: list[SearchHit] = []
    for item in candidates:
        for field, text in _texts(item, opinions.get(item.id, [])):
            match = pattern.search(text or "")
            if match:
                if can_read_item(user, item):
                    hits.append(SearchHit(item, field, snippet(text, match)))
                break
        if len(hits) >= limit:
            break
    return hits
