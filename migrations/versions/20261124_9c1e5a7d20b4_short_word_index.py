"""Short-word index: words of one or two characters (道路, 予算) found through an index.

Revision ID: 9c1e5a7d20b4
Revises: 321f28504f84
Create Date: 2026-11-24 02:40:00

Written by hand: the index is outside the models, as the trigram index is. On SQLite a
contentless FTS5 table of each text's characters and pairs of characters, with the triggers that
keep it; on PostgreSQL the function ``chogi_grams`` and a GIN index over it. Both are filled from
the rows already in ``search_documents``. The DDL comes from ``workflow.search_index``, which also
builds it under ``db.create_all()`` and in the search revision (73799ba97563) of a new database,
where this revision then finds it built and does nothing.
"""

from alembic import op

revision = "9c1e5a7d20b4"
down_revision = "321f28504f84"
branch_labels = None
depends_on = None


def upgrade():
    from workflow.search_index import create_short_word_index

    bind = op.get_bind()
    create_short_word_index(bind)
    if bind.dialect.name == "postgresql":
        # The planner's statistics of the new index's elements: without them it takes every
        # short word for a rare one (and search decides from them which words are common).
        op.execute("ANALYZE search_documents")


def downgrade():
    from workflow.search_index import drop_short_word_index

    drop_short_word_index(op.get_bind())
