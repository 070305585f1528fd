"""Routing through reviews, versions per meeting, joint sittings and the form's new fields.

Revision ID: 415683ff23b9
Revises: 7e3a9c51d2f0
Create Date: 2026-12-03 13:25:25

DOMAIN §8 and §9:
- ``meeting_kinds.review`` (事務事業調整会議 is a review on the way, not a rung of the ladder);
- ``meetings.second_kind``: two 庁議 kinds sitting as one (関係課長会議兼事務事業調整会議);
- ``item_versions``: the form as saved, version 1 the form as first submitted; each agenda entry
  points at the version frozen when it was scheduled (``form_version_id``) and keeps what the
  system filled in then (``frozen_parts``);
- ``item_opinion_notes``: the department's follow-ups under earlier opinions;
- ``items.status`` may be ``amendment_submitted`` (修正確認中): its CHECK is made again;
- the form's new fields: 検討経過's 備考, 定例会議, 議会上程時期, an invited section's absence (□).

Entries made before this revision have no frozen version: their meeting's 様式２ prints the
item's current form (the service says so), and an item's first later save keeps the form it had
as version 1 first.
"""

import sqlalchemy as sa
from alembic import op

revision = "415683ff23b9"
down_revision = "7e3a9c51d2f0"
branch_labels = None
depends_on = None

ITEM_STATUSES = (
    "draft",
    "submitted",
    "returned",
    "accepted",
    "scheduled",
    "amending",
    "approved",
    "public_comment",
    "public_comment_closed",
    "concluded",
    "withdrawn",
)
NEW_STATUS = "amendment_submitted"
REVIEW_KINDS = ("affairs_coordination",)


def _enum(name: str, *values: str) -> sa.Enum:
    """A VARCHAR(32) holding one of *values*, checked by the database (as the initial schema)."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _status_check(batch_op, statuses: tuple[str, ...]) -> None:
    batch_op.drop_constraint(op.f("ck_items_item_status"), type_="check")
    listed = ", ".join(f"'{s}'" for s in statuses)
    batch_op.create_check_constraint("item_status", f"status IN ({listed})")


def upgrade():
    op.create_table(
        "item_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_item_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_versions_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_versions")),
        sa.UniqueConstraint("item_id", "number", name="uq_item_versions_item_number"),
    )
    op.create_index(op.f("ix_item_versions_item_id"), "item_versions", ["item_id"])

    op.create_table(
        "item_opinion_notes",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("opinion_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_opinion_notes_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opinion_id"],
            ["opinions.id"],
            name=op.f("fk_item_opinion_notes_opinion_id_opinions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_opinion_notes")),
    )
    op.create_index(op.f("ix_item_opinion_notes_item_id"), "item_opinion_notes", ["item_id"])

    with op.batch_alter_table("agenda_entries") as batch_op:
        batch_op.add_column(sa.Column("form_version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("frozen_parts", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_agenda_entries_form_version_id_item_versions"),
            "item_versions",
            ["form_version_id"],
            ["id"],
        )

    with op.batch_alter_table("attendance") as batch_op:
        batch_op.add_column(
            sa.Column("present", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table("item_history_rows") as batch_op:
        batch_op.add_column(sa.Column("remarks", sa.Text(), server_default="", nullable=False))

    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(
            sa.Column(
                "council_regular_session", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "ordinance_submission_label",
                _enum("submission_label", "proposal", "placement"),
                server_default="proposal",
                nullable=False,
            )
        )
        _status_check(batch_op, (*ITEM_STATUSES, NEW_STATUS))

    with op.batch_alter_table("meeting_kinds") as batch_op:
        batch_op.add_column(
            sa.Column("review", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    kinds = sa.table("meeting_kinds", sa.column("code", sa.String), sa.column("review", sa.Boolean))
    op.execute(kinds.update().where(kinds.c.code.in_(REVIEW_KINDS)).values(review=True))

    with op.batch_alter_table("meetings") as batch_op:
        batch_op.add_column(sa.Column("second_kind", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_meetings_second_kind_meeting_kinds"),
            "meeting_kinds",
            ["second_kind"],
            ["code"],
        )
        batch_op.create_check_constraint(
            "second_kind_differs", "second_kind IS NULL OR second_kind <> kind"
        )


def downgrade():
    # An item waiting for its amendment to be confirmed goes back to amending: the old schema
    # has no such state.
    items = sa.table("items", sa.column("status", sa.String))
    op.execute(items.update().where(items.c.status == NEW_STATUS).values(status="amending"))
    with op.batch_alter_table("meetings") as batch_op:
        batch_op.drop_constraint(op.f("ck_meetings_second_kind_differs"), type_="check")
        batch_op.drop_constraint(
            op.f("fk_meetings_second_kind_meeting_kinds"), type_="foreignkey"
        )
        batch_op.drop_column("second_kind")
    with op.batch_alter_table("meeting_kinds") as batch_op:
        batch_op.drop_column("review")
    with op.batch_alter_table("items") as batch_op:
        _status_check(batch_op, ITEM_STATUSES)
        batch_op.drop_constraint(op.f("ck_items_submission_label"), type_="check")
        batch_op.drop_column("ordinance_submission_label")
        batch_op.drop_column("council_regular_session")
    with op.batch_alter_table("item_history_rows") as batch_op:
        batch_op.drop_column("remarks")
    with op.batch_alter_table("attendance") as batch_op:
        batch_op.drop_column("present")
    with op.batch_alter_table("agenda_entries") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_agenda_entries_form_version_id_item_versions"), type_="foreignkey"
        )
        batch_op.drop_column("frozen_parts")
        batch_op.drop_column("form_version_id")
    op.drop_index(op.f("ix_item_opinion_notes_item_id"), table_name="item_opinion_notes")
    op.drop_table("item_opinion_notes")
    op.drop_index(op.f("ix_item_versions_item_id"), table_name="item_versions")
    op.drop_table("item_versions")
