"""Index public comments by (published_on, id): the public list pages through them newest first.

Without it every page of 「パブリックコメント」 sorted the whole table (about 10 ms at 100 000
items, more with every year kept).

Revision ID: 5b0d8e2c41a7
Revises: 9c1e5a7d20b4
Create Date: 2026-11-24 05:15:00
"""

from alembic import op

revision = "5b0d8e2c41a7"
down_revision = "9c1e5a7d20b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_public_comments_published_on_id", "public_comments", ["published_on", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_public_comments_published_on_id", table_name="public_comments")
