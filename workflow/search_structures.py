"""The engine's own index over ``search_documents.folded``, beside the models, not in them.

SQLite keeps an FTS5 table with the ``trigram`` tokenizer, PostgreSQL a GIN ``gin_trgm_ops``
index: both answer "contains this substring". For words of one or two characters, which a
trigram index cannot answer, each engine also keeps a *short-word index* of every character and
every pair of adjacent characters (:func:`short_grams`): a contentless FTS5 table on SQLite, a GIN
index over ``chogi_grams(folded)`` on PostgreSQL.

Here are their names, their DDL on each engine, and what creates and drops them (the migrations,
``db.create_all()`` through the table's events, and :func:`workflow.search_index.rebuild`).
Autogenerate must not see them: :func:`include_object`.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, event

from workflow.extensions import db
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


# The engine's search index by kind of object: no model, so no difference for autogenerate
# either. migrations/env.py finds it in the metadata Flask-Migrate hands it (it imports no app
# code), so autogenerate and the tests skip the same objects.
OUTSIDE_MODELS: dict[str, frozenset[str]] = {
    "table": SQLITE_TABLES,
    "index": frozenset({PG_TRGM_INDEX, PG_GRAMS_INDEX}),
}
db.metadata.info["outside_models"] = OUTSIDE_MODELS


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For autogenerate: the engine's search index is no model, so it is no difference either."""
    return name not in OUTSIDE_MODELS.get(type_, ())


@event.listens_for(SearchDocument.__table__, "after_create")
def _after_create(_table, conn: Connection, **_kw) -> None:
    create_search_structures(conn)  # db.create_all() (the tests) builds what the migration does


@event.listens_for(SearchDocument.__table__, "before_drop")
def _before_drop(_table, conn: Connection, **_kw) -> None:
    drop_search_structures(conn)
