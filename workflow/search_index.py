"""The search index: ``search_documents`` kept in step with the items.

Every text a search may find (DOMAIN §3's fields, the back side, and what was said at meetings)
becomes one row of ``search_documents``, written as typed and *folded* (NFKC + casefold, so
「ＩＣＴ」 and 「ict」 are one word on every engine). A session hook rewrites an item's rows after
every flush that changes one of its texts, in the same transaction: the index never disagrees with
a committed item.

On the folded column each engine keeps the index it is good at, and a short-word index for words
of one or two characters (道路, 予算, 橋), which Japanese is full of and a trigram index cannot
answer: workflow/search_structures.py. Both engines give the same hits for the same data.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlalchemy import Connection, event, insert, select
from sqlalchemy.orm import Session

from workflow.extensions import db
from workflow.models.agenda_entry import AgendaEntry, Opinion
from workflow.models.item import (
    Item,
    ItemCoordination,
    ItemDetail,
    ItemDiscussionPoint,
    ItemHistoryRow,
)
from workflow.models.meeting import Meeting
from workflow.models.search_document import SearchDocument
from workflow.search_structures import (
    FTS_TABLE,
    GRAMS_FUNCTION,
    GRAMS_TABLE,
    PG_GRAMS_INDEX,
    PG_TRGM_INDEX,
    SHORT_WORD,
    SQLITE_TABLES,
    create_search_structures,
    create_short_word_index,
    drop_search_structures,
    drop_short_word_index,
    include_object,
    short_grams,
    short_token,
)

# Public here: this module's own names, and the engine's index and short-word tokens of
# workflow/search_structures.py, which the search service and the migrations import from here.
__all__ = [
    "FTS_TABLE",
    "GRAMS_FUNCTION",
    "GRAMS_TABLE",
    "ITEM_TEXT_COLUMNS",
    "PG_GRAMS_INDEX",
    "PG_TRGM_INDEX",
    "SHORT_WORD",
    "SQLITE_TABLES",
    "WITHHELD_OPINIONS",
    "create_search_structures",
    "create_short_word_index",
    "drop_search_structures",
    "drop_short_word_index",
    "fold",
    "fold_with_offsets",
    "include_object",
    "rebuild",
    "reindex",
    "search_cli",
    "short_grams",
    "short_token",
]

# The field of the texts of an opinion not public (Opinion.public false): staff search them as
# opinions, the public never finds them.
WITHHELD_OPINIONS = "opinions_withheld"
# The item's own texts, in the order a snippet prefers them (DOMAIN §3's labels).
ITEM_TEXT_COLUMNS = ("title", "summary", "policy_ref", "schedule_notes", "remarks")
_CHUNK = 500  # ids per IN (…): well under every engine's parameter limit


# -- folding ---------------------------------------------------------------------------------


def fold(text: str) -> str:
    """NFKC + casefold: full-width ＡＢＣ１ and half-width ｶﾅ become abc1 and カナ, case is gone."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _attaches(ch: str) -> bool:
    """Does *ch* combine with the character before it (a dakuten, a combining accent)?"""
    decomposed = unicodedata.normalize("NFKD", ch)
    return bool(decomposed) and unicodedata.combining(decomposed[0]) != 0


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for i in range(1, len(text)):
        if not _attaches(text[i]):
            yield start, i
            start = i
    if text:
        yield start, len(text)


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text, and for each of its characters the offset in *text* it came from.

    Folding cluster by cluster (a base character with its combining marks) keeps the map exact:
    「ｶﾞ」 folds to one 「ガ」 that points back at both. One extra entry maps the end.
    """
    out: list[str] = []
    origin: list[int] = []
    for start, end in _clusters(text):
        piece = fold(text[start:end])
        out.append(piece)
        origin.extend([start] * len(piece))
    origin.append(len(text))
    return "".join(out), origin


# -- what an item says -----------------------------------------------------------------------


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    ids = sorted(ids)
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _texts(conn: Connection, ids: list[int]) -> dict[int, list[tuple[str, str, int | None]]]:
    """(field, text, meeting_id) for each item in *ids*, in snippet order; blank texts left out."""
    columns = [getattr(Item, name) for name in ITEM_TEXT_COLUMNS]
    own = {row.id: row for row in conn.execute(select(Item.id, *columns).where(Item.id.in_(ids)))}
    parts: dict[int, list[tuple[str, str, int | None]]] = {i: [] for i in own}

    def add_rows(field: str, model: Any, *columns: str) -> None:
        query = (
            select(model.item_id, *(getattr(model, c) for c in columns))
            .where(model.item_id.in_(ids))
            .order_by(model.item_id, model.position)
        )
        for item_id, *values in conn.execute(query):
            for value in values:
                parts[item_id].append((field, value, None))

    for item_id, row in own.items():
        parts[item_id] += [(f, getattr(row, f), None) for f in ("title", "summary", "policy_ref")]
    add_rows("discussion_points", ItemDiscussionPoint, "text")
    add_rows("details", ItemDetail, "heading", "body")
    add_rows("history", ItemHistoryRow, "meeting", "content")
    add_rows("coordination", ItemCoordination, "department", "content")
    for item_id, row in own.items():
        parts[item_id] += [(f, getattr(row, f), None) for f in ("schedule_notes", "remarks")]

    said = conn.execute(
        select(
            AgendaEntry.item_id,
            AgendaEntry.id,
            AgendaEntry.meeting_id,
            AgendaEntry.special_notes,
            Opinion.public,
            Opinion.opinion,
            Opinion.response,
            Opinion.follow_up,
        )
        .join(Meeting, AgendaEntry.meeting_id == Meeting.id)
        .outerjoin(Opinion, Opinion.entry_id == AgendaEntry.id)
        .where(AgendaEntry.item_id.in_(ids))
        .order_by(AgendaEntry.item_id, Meeting.date, Meeting.id, Opinion.position)
    ).all()
    notes: dict[int, tuple[int, int, str]] = {}
    for item_id, entry_id, meeting_id, special_notes, public, *said_texts in said:
        # An opinion held back from the public (DOMAIN §10) is kept under its own field name,
        # which search shows staff as "opinions" and never matches for the public.
        field = "opinions" if public is not False else WITHHELD_OPINIONS
        for value in said_texts:
            parts[item_id].append((field, value, meeting_id))
        notes[entry_id] = (item_id, meeting_id, special_notes)
    for item_id, meeting_id, special_notes in notes.values():  # in meeting order (dict keeps it)
        parts[item_id].append(("special_notes", special_notes, meeting_id))

    return {
        item_id: [(f, t, m) for f, t, m in rows if t and t.strip()]
        for item_id, rows in parts.items()
    }


def reindex(conn: Connection, item_ids: Iterable[int]) -> None:
    """Rewrite the search rows of *item_ids* from what the items say now (on *conn*'s transaction)."""
    table = SearchDocument.__table__
    for ids in _chunks(list(set(item_ids))):
        conn.execute(table.delete().where(table.c.item_id.in_(ids)))
        rows = [
            {
                "item_id": item_id,
                "position": position,
                "field": field,
                "meeting_id": meeting_id,
                "text": text,
                "folded": fold(text),
            }
            for item_id, texts in _texts(conn, ids).items()
            for position, (field, text, meeting_id) in enumerate(texts)
        ]
        if rows:
            conn.execute(insert(table), rows)


def rebuild(conn: Connection) -> int:
    """Index every item afresh (after a bulk load or a restore); returns the number of items.

    The engine's index is dropped and built once at the end: building it over all rows at once
    is many times faster than keeping it up to date row by row.
    """
    ids = list(conn.scalars(select(Item.id)))
    drop_search_structures(conn)
    conn.execute(SearchDocument.__table__.delete())
    reindex(conn, ids)
    create_search_structures(conn)
    # Fresh statistics for the planner: right after a bulk load PostgreSQL has none, and may
    # read the whole trigram index for a short query.
    for table in ("items", "search_documents"):
        conn.exec_driver_sql(f"ANALYZE {table}")
    return len(ids)


search_cli = AppGroup("search", help="検索索引の管理")


@search_cli.command("rebuild")
def rebuild_command() -> None:
    """Index every item afresh (after rows were written around the app, e.g. demo generate)."""
    started = time.perf_counter()
    with db.engine.begin() as conn:
        count = rebuild(conn)
    click.echo(
        f"{count}件の案件の検索索引を作り直しました（{time.perf_counter() - started:.1f}秒）。"
    )


# -- keeping it in step ----------------------------------------------------------------------

_ITEM_WATCHED = (*ITEM_TEXT_COLUMNS, "discussion_points", "details", "history_rows", "coordination")
_PARTS = (ItemDiscussionPoint, ItemDetail, ItemHistoryRow, ItemCoordination)


def _values(obj: object, attr: str) -> set[int]:
    """Every value *attr* had in this flush (old and new), without loading anything."""
    state = sa.inspect(obj)
    history = state.attrs[attr].history
    found = {*history.added, *history.unchanged, *history.deleted, state.dict.get(attr)}
    return {v for v in found if isinstance(v, int)}


def _changed(obj: object, attrs: Iterable[str]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attrs)


@event.listens_for(Session, "after_flush")
def _reindex_after_flush(session: Session, _context) -> None:
    """Re-index the items whose texts this flush touched, before the transaction can commit."""
    items: set[int] = set()
    gone: set[int] = set()
    entries: set[int] = set()
    meetings: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Item):
            if obj in session.deleted:
                gone |= _values(obj, "id")  # its rows go with it (ON DELETE CASCADE)
            elif obj in session.new or _changed(obj, _ITEM_WATCHED):
                items |= _values(obj, "id")
        elif isinstance(obj, _PARTS):
            items |= _values(obj, "item_id")
        elif isinstance(obj, AgendaEntry):
            if (
                obj in session.new
                or obj in session.deleted
                or _changed(obj, ("special_notes", "opinions"))
            ):
                items |= _values(obj, "item_id")
        elif isinstance(obj, Opinion):
            entries |= _values(obj, "entry_id")
        elif isinstance(obj, Meeting) and _changed(obj, ("date",)):
            meetings |= _values(obj, "id")
    if not (items or entries or meetings):
        return
    conn = session.connection()
    for ids in _chunks(list(entries)):
        items.update(conn.scalars(select(AgendaEntry.item_id).where(AgendaEntry.id.in_(ids))))
    for ids in _chunks(list(meetings)):
        items.update(
            conn.scalars(select(AgendaEntry.item_id).where(AgendaEntry.meeting_id.in_(ids)))
        )
    reindex(conn, items - gone)
