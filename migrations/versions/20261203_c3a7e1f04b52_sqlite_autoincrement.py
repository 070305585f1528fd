"""SQLite: every table with an integer id says AUTOINCREMENT, so no id is ever issued twice.

Revision ID: c3a7e1f04b52
Revises: 8d41c2e5a9b7
Create Date: 2026-12-03 16:45:00

Without AUTOINCREMENT SQLite gives a new row the highest id in the table plus one: the id of a
deleted last row, or of rows a `flask restore` took away, comes back, and a page or an API client
still holding the old id finds another row (issue 17). With it, sqlite_sequence keeps the highest
id ever issued. SQLite cannot add AUTOINCREMENT to a table, so each table is rebuilt (copy, drop,
rename); the rebuild keeps its rows, indexes, constraints and ids, and its triggers are made
again as they were (dropping a table drops them). PostgreSQL's sequences never go back: nothing
to do there.
"""

import sqlalchemy as sa
from alembic import op

revision = "c3a7e1f04b52"
down_revision = "8d41c2e5a9b7"
branch_labels = None
depends_on = None

# The tables whose key is one integer column "id" (the models at this revision).
TABLES = (
    "login_attempts",
    "sections",
    "meetings",
    "users",
    "api_tokens",
    "items",
    "user_sessions",
    "history_events",
    "item_coordination",
    "item_details",
    "item_discussion_points",
    "item_history_rows",
    "item_route_steps",
    "item_versions",
    "public_comments",
    "search_documents",
    "agenda_entries",
    "public_comment_opinions",
    "attendance",
    "opinions",
    "item_opinion_notes",
)


def upgrade():
    _rebuild(autoincrement=True)


def downgrade():
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        triggers = bind.execute(
            sa.text(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"
                " ORDER BY rowid"
            ),
            {"table": table},
        ).scalars()
        triggers = list(triggers)
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
        for statement in triggers:
            op.execute(statement)
