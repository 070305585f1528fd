"""Idempotency keys of the API's writes: each user's key, its request's fingerprint, its answer.

Revision ID: d81f5b2c9e07
Revises: c3a7e1f04b52
Create Date: 2026-12-03 17:00:00

See workflow/api/idempotency.py: the answer is stored in the same transaction as the change.
"""

import sqlalchemy as sa
from alembic import op

revision = "d81f5b2c9e07"
down_revision = "c3a7e1f04b52"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
        sqlite_autoincrement=True,  # as every table since c3a7e1f04b52: no id issued twice
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade():
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
