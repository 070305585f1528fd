"""Index items by (updated_at, id): the item list and the API page through them newest first.

Without it every page of the list sorted the whole table (measured at 100 000 items on SQLite:
about 300 ms a page; with it, a few milliseconds).

Revision ID: f942e37513f4
Revises: f46382df07c0
Create Date: 2026-11-23 19:09:57
"""

from alembic import op

revision = "f942e37513f4"
down_revision = "f46382df07c0"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_updated_at_id", "items", ["updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_updated_at_id", table_name="items")
