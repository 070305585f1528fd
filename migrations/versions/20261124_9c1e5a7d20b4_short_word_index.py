"""Short-word index: words of one or two characters (道路, 予算) found through an index.

Revision ID: 9c1e5a7d20b4
Revises: 321f28504f84
Create Date: 2026-11-24 02:40:00

Written by hand: the index is outside the models, as the trigram index is. On SQLite a
contentless FTS5 table of each text's characters and pairs of characters, with the triggers that
keep it; on PostgreSQL the function ``chogi_grams`` and a GIN index over it. Both are filled from
the rows already in ``search_documents``. The DDL and the SQLite function are copies of
``workflow.search_index`` (a migration must not import app code); tests/test_migrations.py checks
that they still agree. Every statement tolerates what exists already: an earlier form of the
search revision (73799ba97563) built this index too.

On SQLite the triggers call ``chogi_grams()``, a Python function each connection must know: the
app registers it on every connection it opens (workflow.search_index), and this revision on its
own connection, for the first filling.
"""

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "9c1e5a7d20b4"
down_revision = "321f28504f84"
branch_labels = None
depends_on = None

GRAMS_TABLE = "search_grams"
GRAMS_FUNCTION = "chogi_grams"
PG_GRAMS_INDEX = "ix_search_documents_folded_grams"

# Contentless (content=''): only which texts hold each token; detail=none: no positions, since a
# token is the whole word asked for. A contentless table must be told a deleted row's tokens,
# which the triggers compute again from the old text.
SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE {GRAMS_TABLE} USING fts5(grams, content='', detail=none, "
    "tokenize='ascii')"
)
SQLITE_FILL = (
    "INSERT INTO search_grams(rowid, grams) SELECT id, chogi_grams(folded) FROM search_documents"
)
SQLITE_TRIGGERS = (
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
# IMMUTABLE to be indexed; PL/pgSQL appends to an array in place, the cheapest form measured.
POSTGRESQL_DDL = (
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


def short_grams(folded: str) -> str:
    """Every character and every pair of adjacent characters, each as its UTF-32 code points in
    hex (one ASCII token whatever the characters are): workflow.search_index.short_grams."""
    code = folded.encode("utf-32-be", "surrogatepass").hex()
    size = len(code)
    return " ".join(
        [code[i : i + 8] for i in range(0, size, 8)]
        + [code[i : i + 16] for i in range(0, size - 8, 8)]
    )


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        raw = bind.connection.driver_connection
        if isinstance(raw, sqlite3.Connection):
            raw.create_function(GRAMS_FUNCTION, 1, short_grams, deterministic=True)
        exists = bind.execute(
            sa.text("SELECT count(*) FROM sqlite_master WHERE name = :name"),
            {"name": GRAMS_TABLE},
        ).scalar()
        if not exists:
            op.execute(SQLITE_TABLE)
            op.execute(SQLITE_FILL)
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        for statement in POSTGRESQL_DDL:
            op.execute(statement)
        # The planner's statistics of the new index's elements: without them it takes every
        # short word for a rare one (and search decides from them which words are common).
        op.execute("ANALYZE search_documents")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_documents_grams_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {GRAMS_TABLE}")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_GRAMS_INDEX}")
        op.execute(f"DROP FUNCTION IF EXISTS {GRAMS_FUNCTION}(text)")
