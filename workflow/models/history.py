"""The append-only, hash-chained history of every workflow event.

Each row carries ``prev_hash``, the ``hash`` of the row before it (``GENESIS`` for the first), and
its own ``hash``: SHA-256 over a canonical JSON of its content and ``prev_hash``. Changing, adding
or deleting a row anywhere but at the end breaks the chain, and ``flask --app wsgi audit verify``
(workflow.audit) names the row. The database refuses UPDATE and DELETE outright (a trigger on
both engines), and ``prev_hash`` is unique, so two writers can never fork the chain.

Rows are chained in ``before_flush``, however they are created. On PostgreSQL the writer first
takes a transaction-level advisory lock, so the head it reads stays the head until it commits;
on SQLite every write transaction already starts with BEGIN IMMEDIATE (workflow.database).

A row names its item or its meeting, except an admin's change to a user, section, token or
meeting kind (``event`` ``admin.*``, written by :mod:`workflow.services.audit_log`), which names
its subject in ``params``.

A SQLite "batch" migration of this table rebuilds it and drops its triggers: such a migration
must create them again (``APPEND_ONLY_DDL``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from workflow.extensions import db
from workflow.models._types import UTCDateTime, utcnow
from workflow.models.user import User

GENESIS = "0" * 64
# pg_advisory_xact_lock key of the history chain ("chogi-hi" as a 64-bit integer).
CHAIN_LOCK_KEY = int.from_bytes(b"chogi-hi", "big") & 0x7FFF_FFFF_FFFF_FFFF

# What the hash covers: everything but the id and the hash itself.
CONTENT_KEYS = (
    "item_id",
    "meeting_id",
    "actor_id",
    "occurred_at",
    "event",
    "from_state",
    "to_state",
    "params",
    "reason",
    "prev_hash",
)

APPEND_ONLY_MESSAGE = "history_events is append-only: UPDATE and DELETE are refused"


class HistoryEvent(db.Model):
    __tablename__ = "history_events"
    __table_args__ = (
        CheckConstraint(
            "item_id IS NOT NULL OR meeting_id IS NOT NULL OR event LIKE 'admin.%'",
            name="has_subject",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The chain: set in before_flush, never by hand.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    actor: Mapped[User | None] = relationship(lazy="joined")

    def content(self) -> dict:
        """What the hash covers (CONTENT_KEYS)."""
        return {key: getattr(self, key) for key in CONTENT_KEYS}


def content_hash(content: dict) -> str:
    """SHA-256 of the canonical JSON of a row's content (see :meth:`HistoryEvent.content`).

    Canonical: sorted keys, no spaces, UTF-8, the time as UTC ISO 8601 with microseconds. This
    function must never change: every stored hash depends on it (the migration that introduced
    the chain holds a copy).
    """
    plain = {key: content[key] for key in CONTENT_KEYS}  # a row dict may carry more (its id)
    moment = plain["occurred_at"]
    plain["occurred_at"] = moment.astimezone(UTC).isoformat(timespec="microseconds")
    text = json.dumps(plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@event.listens_for(HistoryEvent, "before_update")
@event.listens_for(HistoryEvent, "before_delete")
def _refuse_change(_mapper, _connection, target: HistoryEvent) -> None:
    raise RuntimeError(f"history is append-only (row {target.id})")


def chain_head(connection: sa.Connection) -> str:
    """The hash of the last row, or GENESIS; on PostgreSQL, lock the chain until commit first."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
    table = HistoryEvent.__table__
    head = connection.scalar(sa.select(table.c.hash).order_by(table.c.id.desc()).limit(1))
    return head or GENESIS


@event.listens_for(Session, "before_flush")
def _chain_new_rows(session: Session, _context, _instances) -> None:
    """Link every new history row to the head of the chain, in the order they were added."""
    new = [obj for obj in session.new if isinstance(obj, HistoryEvent)]
    if not new:
        return
    new.sort(key=lambda obj: sa.inspect(obj).insert_order)
    head = chain_head(session.connection())
    for row in new:
        if row.occurred_at is None:
            row.occurred_at = utcnow()
        if row.params is None:
            row.params = {}
        if row.reason is None:
            row.reason = ""
        if row.actor_id is None and row.actor is not None:
            row.actor_id = row.actor.id
        row.prev_hash = head
        row.hash = content_hash(row.content())
        head = row.hash


# -- the append-only guard, as triggers (created with the table, and by the migration) ----------

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION history_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'restrict_violation';
END
$$
"""

APPEND_ONLY_DDL: dict[str, list[str]] = {
    "postgresql": [
        _PG_FUNCTION,
        "CREATE TRIGGER history_events_append_only BEFORE UPDATE OR DELETE ON history_events"
        " FOR EACH ROW EXECUTE FUNCTION history_events_append_only()",
        "CREATE TRIGGER history_events_no_truncate BEFORE TRUNCATE ON history_events"
        " FOR EACH STATEMENT EXECUTE FUNCTION history_events_append_only()",
    ],
    "sqlite": [
        "CREATE TRIGGER history_events_no_update BEFORE UPDATE ON history_events"
        f" BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
        "CREATE TRIGGER history_events_no_delete BEFORE DELETE ON history_events"
        f" BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    ],
}

DROP_APPEND_ONLY_DDL: dict[str, list[str]] = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS history_events_append_only ON history_events",
        "DROP TRIGGER IF EXISTS history_events_no_truncate ON history_events",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS history_events_no_update",
        "DROP TRIGGER IF EXISTS history_events_no_delete",
    ],
}


def create_append_only_guard(connection: sa.Connection) -> None:
    """Make the database refuse UPDATE and DELETE (and TRUNCATE) on history_events."""
    for statement in APPEND_ONLY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


def drop_append_only_guard(connection: sa.Connection) -> None:
    """Remove the triggers (tests emptying the database; never in the application)."""
    for statement in DROP_APPEND_ONLY_DDL.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


@event.listens_for(HistoryEvent.__table__, "after_create")
def _guard_after_create(_table, connection: sa.Connection, **_kw) -> None:
    create_append_only_guard(connection)
