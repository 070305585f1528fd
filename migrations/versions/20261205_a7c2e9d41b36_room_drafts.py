"""Room drafts: what a secretary typed in the meeting room and has not saved (issue 20).

Revision ID: a7c2e9d41b36
Revises: 7c2e9a4d1f60
Create Date: 2026-12-05 01:25:00

One row per agenda entry and user, written as they type (no event, no history), deleted when
the entry is saved or the draft is discarded.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c2e9d41b36'
down_revision = '7c2e9a4d1f60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('room_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['agenda_entries.id'], name=op.f('fk_room_drafts_entry_id_agenda_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_room_drafts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room_drafts')),
    sa.UniqueConstraint('entry_id', 'user_id', name='uq_room_drafts_entry_user'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('room_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_drafts_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('room_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_drafts_user_id'))

    op.drop_table('room_drafts')
