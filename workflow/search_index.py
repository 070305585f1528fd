"""The search index: ``search_documents`` kept in step with the items, and the engine's index on it.

Every text a search may find (DOMAIN §3's fields, the back side, and what was said at meetings)
becomes one row of ``search_documents``, written as typed and *folded* (NFKC + casefold, so
「ＩＣＴ」 and 「ict」 are one word on every engine). A session hook rewrites an item's rows after
every flush that changes one of its texts, in the same transaction: the index never disagrees with
a committed item.

On the folded column each engine builds the index it is good at, outside the models (autogenerate
must not see it, :func:`include_object`): SQLite an FTS5 table with the ``trigram`` tokenizer kept
by triggers, PostgreSQL a GIN ``gin_trgm_ops`` index. Both answer "contains this substring", so
the same data gives the same hits on both.

A trigram index cannot answer a word of one or two characters (道路, 予算, 橋), which Japanese is
full of. Beside it each engine keeps a *short-word index*: every character and every pair of
adjacent characters of each text (:func:`short_grams`), as a contentless FTS5 table on SQLite and
a GIN index over ``chogi_grams(folded)`` on PostgreSQL, so a short word is looked up in an
index instead of found by reading every text.
"""

from __future__ import annotations

import sqlite3
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlalchemy import Connection, Engine, event, insert, select
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

FTS_TABLE = "search_fts"
GRAMS_TABLE = "search_grams"  # SQLite: the short-word index
GRAMS_FUNCTION = "chogi_grams"  # its grams of a folded text, in SQL, on either engine
# FTS5 keeps its indexes in these shadow tables; none of them is a model.
SQLITE_TABLES = frozenset(
    {FTS_TABLE, GRAMS_TABLE}
    | {
        f"{table}_{s}"
        for table in (FTS_TABLE, GRAMS_TABLE)
        for s in ("data", "idx", "docsize", "config", "content")
    }
)
PG_TRGM_INDEX = "ix_search_documents_folded_trgm"
PG_GRAMS_INDEX = "ix_search_documents_folded_grams"
SHORT_WORD = 2  # words this long or shorter are looked up in the short-word index

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


# -- short words -----------------------------------------------------------------------------


def short_token(word: str) -> str:
    """One or two characters as one FTS5 token: their UTF-32 code points in hex (8 digits each).

    FTS5's tokenizers split at punctuation and spaces, which a pair of characters may hold
    (「道、」); hex digits are one ASCII token whatever the characters are.
    """
    return word.encode("utf-32-be", "surrogatepass").hex()


def short_grams(folded: str) -> str:
    """Every character and every pair of adjacent characters of *folded*, as FTS5 tokens.

    SQLite's short-word index stores these (:data:`GRAMS_FUNCTION` in its triggers), so a word of
    one or two characters is found by its :func:`short_token`. Changing this function changes the
    index: the rows already in it would no longer be deleted right (rebuild it in a migration).
    """
    code = short_token(folded)
    size = len(code)
    return " ".join(
        [code[i : i + 8] for i in range(0, size, 8)]
        + [code[i : i + 16] for i in range(0, size - 8, 8)]
    )


@event.listens_for(Engine, "connect")
def _register_grams(dbapi_connection, _record) -> None:
    """Every SQLite connection can compute :func:`short_grams`, which the triggers call.

    A connection made elsewhere (the ``sqlite3`` shell) lacks it: it may read everything, but
    writing ``search_documents`` there fails with "no such function: chogi_grams", leaving the
    index as it was.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(GRAMS_FUNCTION, 1, short_grams, deterministic=True)


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
    for item_id, entry_id, meeting_id, special_notes, *said_texts in said:
        for value in said_texts:
            parts[item_id].append(("opinions", value, meeting_id))
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


# -- the engine's index ----------------------------------------------------------------------

_SQLITE_DDL = (
    # External content: FTS5 indexes search_documents.folded without a second copy of it.
    # case_sensitive 1: the text is casefolded already, and FTS5's own folding is not ours.
    "CREATE VIRTUAL TABLE search_fts USING fts5(folded, content='search_documents', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); "
    "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END",
    # Index whatever the table holds already (a migration over existing rows).
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
)
# The short-word index. Contentless (content=''): only which texts hold each token, no second
# copy of the text; detail=none: no positions either, since a token is the whole word asked
# for, which keeps it smaller than the trigram table. A contentless table must be told a deleted
# row's tokens, which the triggers compute again from the old text.
_SQLITE_GRAMS_TABLE = (
    f"CREATE VIRTUAL TABLE {GRAMS_TABLE} USING fts5(grams, content='', detail=none, "
    "tokenize='ascii')"
)
_SQLITE_GRAMS_DDL = (  # GRAMS_TABLE and GRAMS_FUNCTION, written out
    "CREATE TRIGGER IF NOT EXISTS search_documents_grams_ai AFTER INSERT ON search_documents "
    "BEGIN INSERT INTO search_grams(rowid, grams) VALUES (new.id, chogi_grams(new.folded)); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_grams_ad AFTER DELETE ON search_documents "
    "BEGIN INSERT INTO search_grams(search_grams, rowid, grams) "
    "VALUES ('delete', old.id, chogi_grams(old.folded)); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_grams_au "
    "AFTER UPDATE OF id, folded ON search_documents BEGIN "
    "INSERT INTO search_grams(search_grams, rowid, grams) "
    "VALUES ('delete', old.id, chogi_grams(old.folded)); "
    "INSERT INTO search_grams(rowid, grams) VALUES (new.id, chogi_grams(new.folded)); END",
)
_SQLITE_GRAMS_FILL = (
    "INSERT INTO search_grams(rowid, grams) SELECT id, chogi_grams(folded) FROM search_documents"
)
_POSTGRESQL_DDL = (
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {PG_TRGM_INDEX} ON search_documents "
    "USING gin (folded gin_trgm_ops)",
)
# The short-word index: a GIN index over each text's characters and pairs of characters. The
# function must be IMMUTABLE to be indexed, and cheap: PostgreSQL may also run it as a filter on
# each text it reads newest first. PL/pgSQL appends to an array in place, which costs less than
# a set-returning SQL function building the same array.
_POSTGRESQL_GRAMS_DDL = (
    f"CREATE OR REPLACE FUNCTION {GRAMS_FUNCTION}(folded text) RETURNS text[] "
    "LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$\n"
    "DECLARE chars text[] := string_to_array(folded, NULL); grams text[] := chars;\n"
    "BEGIN\n"
    "  FOR i IN 1 .. coalesce(array_length(chars, 1), 0) - 1 LOOP\n"
    "    grams := grams || (chars[i] || chars[i + 1]);\n"
    "  END LOOP;\n"
    "  RETURN grams;\n"
    "END $$",
    f"CREATE INDEX IF NOT EXISTS {PG_GRAMS_INDEX} ON search_documents "
    f"USING gin ({GRAMS_FUNCTION}(folded))",
)


def create_search_structures(conn: Connection) -> None:
    """The engine's indexes over ``search_documents.folded`` (the table must exist)."""
    statements = {"sqlite": _SQLITE_DDL, "postgresql": _POSTGRESQL_DDL}.get(conn.dialect.name, ())
    for statement in statements:
        conn.exec_driver_sql(statement)
    create_short_word_index(conn)


def create_short_word_index(conn: Connection) -> None:
    """The short-word index, filled from the rows already there; a no-op where it exists."""
    if conn.dialect.name == "sqlite":
        exists = conn.execute(
            sa.text("SELECT count(*) FROM sqlite_master WHERE name = :name"),
            {"name": GRAMS_TABLE},
        ).scalar()
        if not exists:
            conn.exec_driver_sql(_SQLITE_GRAMS_TABLE)
            conn.exec_driver_sql(_SQLITE_GRAMS_FILL)
        statements = _SQLITE_GRAMS_DDL
    elif conn.dialect.name == "postgresql":
        statements = _POSTGRESQL_GRAMS_DDL
    else:
        statements = ()
    for statement in statements:
        conn.exec_driver_sql(statement)


def drop_short_word_index(conn: Connection) -> None:
    """Undo :func:`create_short_word_index`."""
    if conn.dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS search_documents_grams_{trigger}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {GRAMS_TABLE}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {PG_GRAMS_INDEX}")
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {GRAMS_FUNCTION}(text)")


def drop_search_structures(conn: Connection) -> None:
    """Undo :func:`create_search_structures` (the extension stays: others may use it)."""
    drop_short_word_index(conn)
    if conn.dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS search_documents_{trigger}")
        conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {PG_TRGM_INDEX}")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For autogenerate: the engine's search index is no model, so it is no difference either."""
    if type_ == "table":
        return name not in SQLITE_TABLES
    if type_ == "index":
        return name not in (PG_TRGM_INDEX, PG_GRAMS_INDEX)
    return True


@event.listens_for(SearchDocument.__table__, "after_create")
def _after_create(_table, conn: Connection, **_kw) -> None:
    create_search_structures(conn)  # db.create_all() (the tests) builds what the migration does


@event.listens_for(SearchDocument.__table__, "before_drop")
def _before_drop(_table, conn: Connection, **_kw) -> None:
    drop_search_structures(conn)
