"""Deadlines and notices (issue 19, DOMAIN §11).

Revision ID: 0d7d9b814a48
Revises: 8640430a2945
Create Date: 2026-12-04 22:11:23.673171

closed_days: 閉庁日 an admin adds besides weekends, 祝日 and 12/29–1/3.
notices: what a user is told, in the app and by e-mail (the outbox; its mail goes by a job).
items.late: 締切後, the last submission came after the deadline. meetings.deadline_override: one
meeting's 申込締切 set by an admin. users.notify_by_email: e-mail or in-app only.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0d7d9b814a48'
down_revision = '8640430a2945'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('closed_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closed_days')),
    sa.UniqueConstraint('day', name=op.f('uq_closed_days_day')),
    sqlite_autoincrement=True
    )
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mail_status', sa.String(length=10), nullable=False),
    sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_notices_item_id_items')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_notices_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notices_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('user_id', 'dedupe_key', name='uq_notices_user_dedupe_key'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index('ix_notices_user_unread', ['user_id', 'read_at'], unique=False)

    # Plain ADD COLUMN: a batch would rebuild SQLite's tables without AUTOINCREMENT.
    op.add_column('items', sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False))

    op.add_column('meetings', sa.Column('deadline_override', sa.Date(), nullable=True))

    op.add_column('users', sa.Column('notify_by_email', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notify_by_email')

    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_column('deadline_override')

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('late')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_user_unread')
        batch_op.drop_index(batch_op.f('ix_notices_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_notices_item_id'))

    op.drop_table('notices')
    op.drop_table('closed_days')
