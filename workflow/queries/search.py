"""Full-text search over everything a reader may read, with a snippet around the hit.

Search runs on ``search_documents`` (kept by :mod:`workflow.search_index`): every text folded
with NFKC + casefold and matched as a substring, through the engine's trigram index, so SQLite and
PostgreSQL give the same hits for the same data. Permissions are SQL: the items the caller may
read, and what was said at a meeting only where the caller may read its minutes.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import (
    Select,
    and_,
    case,
    column,
    exists,
    func,
    or_,
    select,
    table,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from workflow.database import time_limit
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, SearchDocument, User
from workflow.permissions import (
    readable_entries,
    readable_items,
    readable_meetings,
    readable_minutes,
    reads_everything,
)
from workflow.queries.disclosure import is_public_reader
from workflow.schemas.limits import QUERY_MAX, UNSTORABLE_MESSAGE, storable, too_long_message
from workflow.search_index import (
    FTS_TABLE,
    GRAMS_FUNCTION,
    GRAMS_TABLE,
    PG_GRAMS_INDEX,
    SHORT_WORD,
    WITHHELD_OPINIONS,
    fold,
    fold_with_offsets,
    short_token,
)
from workflow.wareki import fiscal_year

SNIPPET_RADIUS = 40
MAX_QUERY_LENGTH = QUERY_MAX
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
# Search reads the matching texts newest first and stops after this many, so that a common word
# costs no more than a rare one; what it found is then ranked, and a page that hit the limit says
# 「N件以上」 and asks for a narrower word (figures: benchmarks/RESULTS.md, "search limits").
SEARCH_TEXT_LIMIT = 1000
# PostgreSQL: search the newest this many texts first, then wider windows (_text_ids).
SEARCH_WINDOW = 100_000
# A search that still runs this long (PostgreSQL reading every text of a common word that one of
# its indexes offered, on a large database) is stopped, so that it cannot hold a worker; the
# caller gets a Japanese message.
SEARCH_SECONDS = 5.0
# PostgreSQL: a word of one or two characters said in this share of all texts or more (by the
# index's statistics, _short_word_share) is found by reading the texts newest first, without the
# short-word index: such a word fills the limit from the newest texts quickly, and offered the
# index the planner would still read newest first but compute chogi_grams() again on every text
# that holds the word.
COMMON_SHARE = 0.01
TOO_LONG = "検索に時間がかかりすぎたため中止しました。語を長くするか、別の語で検索してください。"
_SPACE = re.compile(r"\s+")
_FTS = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))
_GRAMS = table(GRAMS_TABLE, column("rowid"), column(GRAMS_TABLE))


@dataclass(frozen=True)
class SearchHit:
    item: Item
    field: str  # a key of SEARCH_FIELDS
    before: str  # the snippet is before + match + after; match is the hit as written
    match: str
    after: str
    # What tells two items of one title apart on the results page (:func:`with_meetings`).
    fiscal_year: int | None = None  # of 申込日, else of its first meeting the reader may see
    last_meeting: Meeting | None = None  # the latest by date that the reader may see

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
    limited: bool = False  # search stopped at SEARCH_TEXT_LIMIT texts: there may be more items

    @property
    def text_limit(self) -> int:
        return SEARCH_TEXT_LIMIT

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def check_query(q: str) -> str:
    """The query stripped; a Japanese :class:`ValidationFailed` when no database could take it."""
    q = q.strip()
    if len(q) > MAX_QUERY_LENGTH:
        raise ValidationFailed.field("q", "検索語は" + too_long_message(MAX_QUERY_LENGTH, len(q)))
    if not storable(q, one_line=True):
        raise ValidationFailed.field("q", UNSTORABLE_MESSAGE)
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


def _short_word_share(word: str) -> float | None:
    """PostgreSQL: the share of all texts that say *word* (one or two characters), by the
    statistics of the short-word index; None on SQLite, for longer words, or before the index
    was first analyzed.

    ANALYZE keeps the index's most common elements and their shares in ``pg_stats`` (1 000 of
    them by default): a word among them has its share; a word not among them is rarer than the
    least common of them, and is given 0.0.
    """
    if db.engine.dialect.name != "postgresql" or len(word) > SHORT_WORD:
        return None
    analyzed, share = db.session.execute(
        sql_text(
            "SELECT true, (SELECT m.share FROM unnest(s.most_common_elems::text::text[],"
            " s.most_common_elem_freqs) AS m(word, share) WHERE m.word = :word)"
            " FROM pg_stats AS s WHERE s.schemaname = current_schema() AND s.tablename = :index"
        ),
        {"index": PG_GRAMS_INDEX, "word": word},
    ).first() or (False, None)
    return (share or 0.0) if analyzed else None


def _first_window(share: float | None) -> int:
    """How many of the newest texts PostgreSQL searches first (see :func:`_text_ids`).

    SEARCH_WINDOW, unless the statistics tell a short word's share: then a window that should
    hold half as many again as SEARCH_TEXT_LIMIT, or every text for a word rarer than all the
    index's common ones: the default window would hold too few of a rare word's texts, and the
    wider window that followed would read every text anyway (two searches instead of one).
    """
    if share is None or share >= COMMON_SHARE:
        return SEARCH_WINDOW
    if share == 0.0:
        return sys.maxsize
    return max(SEARCH_WINDOW, math.ceil(1.5 * SEARCH_TEXT_LIMIT / share))


def _newest_matches(folded_query: str, share: float | None = None) -> Select:
    """The texts that contain *folded_query*, newest first (the same texts on every engine).

    A text's id grows each time its item's texts are written, so id order is the order in which
    items were last written. On SQLite an FTS5 table answers, which hands its rowids over in
    descending order and stops with the LIMIT: the trigram table for three characters or more,
    the short-word table (:mod:`workflow.search_index`) for one or two. On PostgreSQL a GIN index
    answers: ``gin_trgm_ops`` serves LIKE for three characters or more (LIKE, not ILIKE, because
    both sides are casefolded already and ILIKE would fold again, by the locale), and the
    short-word index serves ``chogi_grams(folded) @> {word}``.
    """
    columns = (
        SearchDocument.id,
        SearchDocument.item_id,
        SearchDocument.field,
        SearchDocument.position,
    )
    if db.engine.dialect.name == "sqlite":
        if len(folded_query) > SHORT_WORD:
            index = _FTS
            phrase = '"' + folded_query.replace('"', '""') + '"'  # one FTS5 phrase: a substring
        else:
            index, phrase = _GRAMS, f'"{short_token(folded_query)}"'
        return (
            select(*columns)
            .select_from(index)
            .join(SearchDocument, SearchDocument.id == index.c.rowid)
            .where(index.c[index.name].op("MATCH")(phrase))
            .order_by(index.c.rowid.desc())
        )
    if len(folded_query) > SHORT_WORD:
        escaped = folded_query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        contains = SearchDocument.folded.like(f"%{escaped}%", escape="\\")
    else:
        contains = func.strpos(SearchDocument.folded, folded_query) > 0
        if share is None or share < COMMON_SHARE:
            # The planner may now read the GIN index and fetch what it found, instead of
            # reading the whole table.
            grams = getattr(func, GRAMS_FUNCTION)(SearchDocument.folded, type_=ARRAY(Text))
            contains = and_(grams.contains([folded_query]), contains)
    return select(*columns).where(contains).order_by(SearchDocument.id.desc())


def _text_ids() -> tuple[int, int] | None:
    """PostgreSQL: the newest and oldest text ids, the bounds of its windows; None elsewhere.

    A GIN index hands over every text that holds the word, in no order, so PostgreSQL fetches
    and rechecks them all before the newest are chosen. Asked for the newest texts only
    (``id >= floor``), it ANDs the GIN bitmap with the primary key's and fetches only those.
    SQLite's FTS5 tables hand their rowids over newest first and stop at the LIMIT by themselves.
    """
    if db.engine.dialect.name != "postgresql":
        return None
    newest, oldest = db.session.execute(
        select(func.max(SearchDocument.id), func.min(SearchDocument.id))
    ).one()
    return None if newest is None else (newest, oldest)


def _floor(bounds: tuple[int, int] | None, window: int) -> int | None:
    """The lowest id of the newest *window* texts; None (every text) for a quarter or more.

    The primary key's bitmap costs in proportion to the window: past a quarter of the texts,
    fetching every text that holds the word is cheaper.
    """
    if bounds is None:
        return None
    newest, oldest = bounds
    return newest - window + 1 if window * 4 <= newest - oldest + 1 else None


def _wider(window: int, read: int) -> int:
    """A window wide enough to hold half as many again as the limit, at the share *read* had;
    every text when it had none (the public may read few of the newest texts)."""
    return window * max(4, math.ceil(1.5 * SEARCH_TEXT_LIMIT / read)) if read else sys.maxsize


def _ranked(texts: Select, page: int, per_page: int) -> tuple[list, int, int]:
    """One page of the items that the newest SEARCH_TEXT_LIMIT of *texts* belong to, ranked.

    Returns (item id, position of its first text) per row, the number of items and the number
    of texts read.
    """
    texts = texts.limit(SEARCH_TEXT_LIMIT).subquery()
    found = (
        select(
            texts.c.item_id,
            func.min(case((texts.c.field == "title", 0), else_=1)).label("rank"),
            func.min(texts.c.position).label("first"),
            func.count().label("texts"),
        )
        .group_by(texts.c.item_id)
        .subquery()
    )
    # Each found item's time by its primary key: joining items instead, PostgreSQL expected one
    # found item per text read (it cannot know how many texts share one) and hashed all 100 000.
    updated = select(Item.updated_at).where(Item.id == found.c.item_id).scalar_subquery()
    # One pass: the page, with the count of all it was cut from (items, and their texts).
    rows = db.session.execute(
        select(found.c.item_id, found.c.first, func.count().over(), func.sum(found.c.texts).over())
        .order_by(found.c.rank, updated.desc(), found.c.item_id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    if rows:
        pairs = [(item_id, first) for item_id, first, _total, _read in rows]
        return pairs, rows[0][2], int(rows[0][3])
    if page == 1:  # nothing at all
        return [], 0, 0
    # Past the last page: count apart.
    total, read = db.session.execute(
        select(func.count(), func.coalesce(func.sum(found.c.texts), 0))
    ).one()
    return [], total, int(read)


def _disclosed(user: User | None) -> list:
    """What was said at a meeting, cut further for the public (DOMAIN §10): only at an entry it
    sees (not 非公開: :func:`readable_entries`), and no opinion held back (``can_read_opinion``:
    the public reads only public ones; their texts are indexed as WITHHELD_OPINIONS)."""
    if not is_public_reader(user):
        return []
    return [
        exists().where(
            AgendaEntry.item_id == SearchDocument.item_id,
            AgendaEntry.meeting_id == SearchDocument.meeting_id,
            readable_entries(user),
        ),
        SearchDocument.field != WITHHELD_OPINIONS,
    ]


def search(user: User | None, q: str, *, page: int = 1, per_page: int = 20) -> SearchResults:
    """Items *user* may read that say *q* anywhere searchable: title hits first, then newest.

    Only the newest SEARCH_TEXT_LIMIT texts that say *q* are read (``limited`` tells when there
    were more); a search still running after SEARCH_SECONDS is stopped (:class:`TookTooLong`).
    """
    folded_query = fold(check_query(q)).strip()
    page = max(page, 1)
    if not folded_query:
        return SearchResults([], 0, page, per_page)
    said_readable = or_(
        SearchDocument.meeting_id.is_(None),
        and_(
            exists().where(Meeting.id == SearchDocument.meeting_id, readable_minutes(user)),
            *_disclosed(user),
        ),
    )
    share = _short_word_share(folded_query)
    texts = _newest_matches(folded_query, share).where(said_readable)
    if not reads_everything(user):  # no join where it filters nothing: the planner hashes it
        texts = texts.join(Item, Item.id == SearchDocument.item_id).where(readable_items(user))
    with time_limit(SEARCH_SECONDS, TOO_LONG):
        bounds, window = _text_ids(), _first_window(share)
        while True:
            # The newest *window* texts, or every text once the window holds them all. Where it
            # holds fewer than the limit, a wider one: the answer is as without windows.
            floor = _floor(bounds, window)
            texts_in = texts if floor is None else texts.where(SearchDocument.id >= floor)
            rows, total, read = _ranked(texts_in, page, per_page)
            if floor is None or read >= SEARCH_TEXT_LIMIT:
                break
            window = _wider(window, read)
    if not rows:
        return SearchResults([], total, page, per_page, read >= SEARCH_TEXT_LIMIT)
    ids = [item_id for item_id, _position in rows]
    items_by_id = {
        item.id: item for item in db.session.scalars(select(Item).where(Item.id.in_(ids)))
    }
    first = db.session.execute(
        select(SearchDocument.item_id, SearchDocument.field, SearchDocument.text).where(
            or_(
                *(
                    and_(SearchDocument.item_id == item_id, SearchDocument.position == position)
                    for item_id, position in rows
                )
            )
        )
    ).all()
    # A text held back from the public is an opinion to staff, who alone find it.
    texts_of = {
        item_id: ("opinions" if field == WITHHELD_OPINIONS else field, text)
        for item_id, field, text in first
    }
    hits = [
        SearchHit(
            items_by_id[item_id],
            texts_of[item_id][0],
            *highlight(texts_of[item_id][1], folded_query),
        )
        for item_id in ids
    ]
    return SearchResults(hits, total, page, per_page, read >= SEARCH_TEXT_LIMIT)


def with_meetings(user: User | None, results: SearchResults) -> SearchResults:
    """*results* with each hit's 年度 and last meeting, as *user* may see its meetings: one
    query for the page, however many hits it holds."""
    if not results.hits:
        return results
    meetings_of: dict[int, list[Meeting]] = {}
    rows = db.session.execute(
        select(AgendaEntry.item_id, Meeting)
        .join(Meeting, Meeting.id == AgendaEntry.meeting_id)
        .where(
            AgendaEntry.item_id.in_([hit.item.id for hit in results.hits]),
            readable_entries(user),
            readable_meetings(user),
        )
        .order_by(Meeting.date, Meeting.id)
    ).all()
    for item_id, meeting in rows:
        meetings_of.setdefault(item_id, []).append(meeting)

    def year(applied_on: date | None, held: list[Meeting]) -> int | None:
        first = applied_on or (held[0].date if held else None)
        return fiscal_year(first) if first else None

    hits = []
    for hit in results.hits:
        held = meetings_of.get(hit.item.id, [])
        last = held[-1] if held else None
        hits.append(replace(hit, fiscal_year=year(hit.item.applied_on, held), last_meeting=last))
    return replace(results, hits=hits)


def search_items(user: User | None, q: str, *, limit: int = 50) -> list[SearchHit]:
    """The first *limit* hits of :func:`search` (the API's shape)."""
    return search(user, q, per_page=limit).hits
