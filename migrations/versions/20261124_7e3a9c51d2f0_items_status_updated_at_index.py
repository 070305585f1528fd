"""Index items by (status, updated_at, id): the requests of one state, oldest or newest first.

The secretariat's intake reads the submitted requests oldest first. SQLite plans a statement
once for any value of its parameters, so it could not tell that 'submitted' is rare and read the
(updated_at, id) index from the oldest item on, filtering: 37 ms at 100 000 items, against
1.3 ms for the same statement with the state written in. With this index both engines go
straight to the state's rows, already in order (the item list's state filter too).

Revision ID: 7e3a9c51d2f0
Revises: 5b0d8e2c41a7
Create Date: 2026-11-24 05:25:00
"""

from alembic import op

revision = "7e3a9c51d2f0"
down_revision = "5b0d8e2c41a7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_status_updated_at_id", "items", ["status", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_status_updated_at_id", table_name="items")
