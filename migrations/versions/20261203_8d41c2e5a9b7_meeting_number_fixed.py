"""Meetings remember a number given by hand: automatic numbers follow the date (DOMAIN §2).

Revision ID: 8d41c2e5a9b7
Revises: 415683ff23b9
Create Date: 2026-12-03 15:05:00

A planned meeting's automatic number may move when a meeting is registered for an earlier day;
one typed by hand (and a held meeting's) never does. Meetings already there count as numbered
automatically: the held ones keep theirs by their state.
"""

import sqlalchemy as sa
from alembic import op

revision = "8d41c2e5a9b7"
down_revision = "415683ff23b9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.add_column(
            sa.Column("number_fixed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.drop_column("number_fixed")
