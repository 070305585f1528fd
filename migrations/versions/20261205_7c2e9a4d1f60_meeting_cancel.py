"""Meetings may be cancelled (中止, issue 20, DOMAIN §2).

Revision ID: 7c2e9a4d1f60
Revises: 0d7d9b814a48
Create Date: 2026-12-05 01:30:00

meetings.status may be ``cancelled``: the enum's CHECK (ck_meetings_meeting_status) is made
again with it. meetings.cancel_reason and meetings.cancelled_at: why and when a planned meeting
was called off. SQLite changes a CHECK only by rebuilding the table: the rebuild keeps
AUTOINCREMENT (c3a7e1f04b52) and the table's triggers are made again as they were (dropping a
table drops them). The downgrade puts a cancelled meeting back to planned: the older schema
knows no other state for it.
"""

import sqlalchemy as sa
from alembic import op

revision = "7c2e9a4d1f60"
down_revision = "0d7d9b814a48"
branch_labels = None
depends_on = None

OLD_STATUSES = ("planned", "held", "confirmed", "published")
NEW_STATUS = "cancelled"
KEEP_AUTOINCREMENT = {"sqlite_autoincrement": True}


def _status_check(statuses: tuple[str, ...], *, drop_columns: bool = False) -> None:
    bind = op.get_bind()
    triggers = []
    if bind.dialect.name == "sqlite":
        triggers = list(
            bind.execute(
                sa.text(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                    " AND tbl_name = 'meetings' ORDER BY rowid"
                )
            ).scalars()
        )
    with op.batch_alter_table("meetings", table_kwargs=KEEP_AUTOINCREMENT) as batch_op:
        batch_op.drop_constraint(op.f("ck_meetings_meeting_status"), type_="check")
        listed = ", ".join(f"'{s}'" for s in statuses)
        batch_op.create_check_constraint("meeting_status", f"status IN ({listed})")
        if drop_columns:  # in the same rebuild
            batch_op.drop_column("cancelled_at")
            batch_op.drop_column("cancel_reason")
    for statement in triggers:
        op.execute(statement)


def upgrade():
    # Plain ADD COLUMN first: the one rebuild below carries them.
    op.add_column(
        "meetings", sa.Column("cancel_reason", sa.Text(), server_default="", nullable=False)
    )
    op.add_column("meetings", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    _status_check((*OLD_STATUSES, NEW_STATUS))


def downgrade():
    meetings = sa.table("meetings", sa.column("status", sa.String))
    op.execute(meetings.update().where(meetings.c.status == NEW_STATUS).values(status="planned"))
    _status_check(OLD_STATUSES, drop_columns=True)
