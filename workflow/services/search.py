"""Finding items: the filtered list, and full-text search with a snippet around the hit.

Search runs on ``search_documents`` (kept by :mod:`workflow.search_index`): every text folded
with NFKC + casefold and matched as a substring, through the engine's trigram index, so SQLite and
PostgreSQL give the same hits for the same data. Permissions are SQL: the items the caller may
read, and what was said at a meeting only where the caller may read its minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, column, exists, func, or_, select, table, true

from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, SearchDocument, User
from workflow.permissions import MINUTES_READABLE
from workflow.search_index import FTS_TABLE, fold, fold_with_offsets
from workflow.states.states import ItemStatus, MeetingStatus, Role

SNIPPET_RADIUS = 40
MAX_QUERY_LENGTH = 200
# What a hit's ``field`` may be, in the order an item's texts are searched (DOMAIN §3's labels).
SEARCH_FIELDS = {
    "title": "案件名",
    "summary": "概要",
    "policy_ref": "施策番号及び実施計画事業名",
    "discussion_points": "審議内容（論点）",
    "details": "事案の具体的な内容",
    "history": "検討経過等",
    "coordination": "関係部局との調整",
    "schedule_notes": "日程等調整事項",
    "remarks": "備考",
    "opinions": "主な意見等",
    "special_notes": "特記事項",
}
# FTS5's trigram tokenizer matches only queries of three characters or more.
TRIGRAM = 3
# A shorter query ranks only the newest this many items that contain it (see search()).
SHORT_QUERY_ITEMS = 1000
_SPACE = re.compile(r"\s+")
_UNSTORABLE = re.compile(r"[\x00-\x1f\ud800-\udfff]")
_FTS = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))


def readable_items_clause(user: User | None) -> ColumnElement[bool]:
    """SQL for :func:`workflow.permissions.can_read_item` (a test holds the two equal)."""
    role = user.role if user is not None and getattr(user, "is_authenticated", False) else None
    if role in (Role.SECRETARIAT, Role.ADMIN):
        return true()
    if role == Role.VIEWER:
        return Item.status != ItemStatus.DRAFT
    if role == Role.DEPARTMENT:
        return or_(Item.status != ItemStatus.DRAFT, Item.section_id == user.section_id)
    # The public: an agenda entry on a published meeting. An EXISTS per item, not Item.id IN (the
    # entries of published meetings): at 100 000 items both count in ~0.1 s on either engine, but
    # on SQLite the IN list keeps the newest-first page from stopping at its 50 rows (it sorts
    # them all: 0.6 → 130 ms a page, and a short search, which pages alike, 30 → 380–690 ms).
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


def readable_minutes_clause(user: User | None) -> ColumnElement[bool]:
    """SQL for :func:`workflow.permissions.can_read_minutes`, on ``Meeting``."""
    role = user.role if user is not None and getattr(user, "is_authenticated", False) else None
    if role in (Role.SECRETARIAT, Role.ADMIN):
        return true()
    if role is not None:
        return Meeting.status.in_(MINUTES_READABLE)
    return Meeting.status == MeetingStatus.PUBLISHED


@dataclass(frozen=True)
class SearchHit:
    item: Item
    field: str  # a key of SEARCH_FIELDS
    before: str  # the snippet is before + match + after; match is the hit as written
    match: str
    after: str

    @property
    def snippet(self) -> str:
        """The hit with about SNIPPET_RADIUS characters either side, ``…`` where cut."""
        return self.before + self.match + self.after

    @property
    def field_label(self) -> str:
        return SEARCH_FIELDS.get(self.field, self.field)


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    total: int  # items found, over all pages
    page: int
    per_page: int
    limited: bool = False  # a short query stopped at SHORT_QUERY_ITEMS items

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def check_query(q: str) -> str:
    """The query stripped; a Japanese :class:`ValidationFailed` when no database could take it."""
    q = q.strip()
    if len(q) > MAX_QUERY_LENGTH:
        raise ValidationFailed.field(
            "q", f"検索語は{MAX_QUERY_LENGTH}文字以内で入力してください（現在{len(q)}文字）。"
        )
    if _UNSTORABLE.search(q):
        raise ValidationFailed.field("q", "使用できない文字（制御文字など）が含まれています。")
    return q


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text)


def highlight(text: str, folded_query: str, radius: int = SNIPPET_RADIUS) -> tuple[str, str, str]:
    """(before, hit, after) around the first hit of *folded_query* in *text*, cut to *radius*."""
    folded, origin = fold_with_offsets(text)
    at = folded.find(folded_query)
    if at < 0:  # folding a cluster alone differs from folding the whole (very rare): no mark
        end = min(radius * 2, len(text))
        return "", "", _one_line(text[:end]).strip() + ("…" if end < len(text) else "")
    start, end = origin[at], origin[at + len(folded_query)]
    cut_start, cut_end = max(start - radius, 0), min(end + radius, len(text))
    before = ("…" if cut_start > 0 else "") + _one_line(text[cut_start:start]).lstrip()
    after = _one_line(text[end:cut_end]).rstrip() + ("…" if cut_end < len(text) else "")
    return before, _one_line(text[start:end]), after


def _matches(folded_query: str) -> ColumnElement[bool]:
    """Documents whose folded text contains *folded_query* (the same set on every engine)."""
    if db.engine.dialect.name == "sqlite" and len(folded_query) >= TRIGRAM:
        phrase = '"' + folded_query.replace('"', '""') + '"'  # one FTS5 phrase: a substring
        return SearchDocument.id.in_(
            select(_FTS.c.rowid).where(_FTS.c[FTS_TABLE].op("MATCH")(phrase))
        )
    # PostgreSQL: the GIN gin_trgm_ops index serves LIKE for three characters or more.
    # LIKE, not ILIKE: both sides are casefolded already (ILIKE would fold again, by the locale).
    # One or two characters (both engines) make no trigram, so no trigram index can serve them:
    # this is a LIKE scan, which search() bounds (SHORT_QUERY_ITEMS).
    escaped = folded_query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return SearchDocument.folded.like(f"%{escaped}%", escape="\\")


def search(user: User | None, q: str, *, page: int = 1, per_page: int = 20) -> SearchResults:
    """Items *user* may read that say *q* anywhere searchable: title hits first, then newest."""
    folded_query = fold(check_query(q)).strip()
    page = max(page, 1)
    if not folded_query:
        return SearchResults([], 0, page, per_page)
    said_readable = or_(
        SearchDocument.meeting_id.is_(None),
        exists().where(Meeting.id == SearchDocument.meeting_id, readable_minutes_clause(user)),
    )
    matching = and_(_matches(folded_query), said_readable)
    if len(folded_query) < TRIGRAM:
        # The bounded scan: walk the readable items newest first (ix_items_updated_at_id) and stop
        # at SHORT_QUERY_ITEMS with a match. A common one- or two-character word stops early; a
        # rare one reads every row once, as any scan must. Ranking happens among those items.
        newest = (
            select(Item.id)
            .where(
                readable_items_clause(user),
                exists().where(SearchDocument.item_id == Item.id, matching).correlate(Item),
            )
            .order_by(Item.updated_at.desc(), Item.id.desc())
            .limit(SHORT_QUERY_ITEMS)
            .correlate(None)  # its own scan of items, not the outer query's row
        )
        scope = SearchDocument.item_id.in_(newest.scalar_subquery())
    else:
        scope = readable_items_clause(user)
    found = (
        select(
            SearchDocument.item_id,
            func.min(case((SearchDocument.field == "title", 0), else_=1)).label("rank"),
            func.min(SearchDocument.position).label("first"),
        )
        .join(Item, Item.id == SearchDocument.item_id)
        .where(matching, scope)
        .group_by(SearchDocument.item_id)
        .subquery()
    )
    # One pass: the page, with the count of all it was cut from.
    rows = db.session.execute(
        select(Item, found.c.first, func.count().over())
        .join(found, found.c.item_id == Item.id)
        .order_by(found.c.rank, Item.updated_at.desc(), Item.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    if not rows:  # past the last page (or nothing at all): count apart
        total = db.session.scalar(select(func.count()).select_from(found)) if page > 1 else 0
        return SearchResults([], total or 0, page, per_page)
    first = db.session.execute(
        select(SearchDocument.item_id, SearchDocument.field, SearchDocument.text).where(
            or_(
                *(
                    and_(SearchDocument.item_id == item.id, SearchDocument.position == position)
                    for item, position, _total in rows
                )
            )
        )
    ).all()
    texts = {item_id: (field, text) for item_id, field, text in first}
    hits = []
    for item, _position, _total in rows:
        field, text = texts[item.id]
        hits.append(SearchHit(item, field, *highlight(text, folded_query)))
    total = rows[0][2]
    short = len(folded_query) < TRIGRAM
    return SearchResults(hits, total, page, per_page, short and total >= SHORT_QUERY_ITEMS)


def search_items(user: User | None, q: str, *, limit: int = 50) -> list[SearchHit]:
    """The first *limit* hits of :func:`search` (the API's shape)."""
    return search(user, q, per_page=limit).hits
