"""``flask demo generate --items N``: ten years of 庁議 for benchmarks, written in bulk.

The data is what the services would have written had the city used the system from FY2016 to
FY2025: every item is filed, taken in (sometimes after a 差戻し), carried up its route from meeting
to meeting (forwarded, now and then continued or remanded), approved or noted, amended, put to
public comment and concluded — or withdrawn — each step with its history row, the item's version
counting its updates, and every meeting held, confirmed and published behind it. Items filed in
the last weeks before the reference day (``AS_OF``) are still on their way: drafts, requests in
the intake queue, items awaiting or scheduled for a planned meeting, in public comment …

Going through the services would take hours for 100 000 items, so the workflow is simulated in
plain Python (plan.py, on the city of city.py) and the rows (rows.py) go in with Core ``insert()``
executemany, in batches: this module. A test generates a small set and checks it against the rules
the services keep (tests/test_generate.py).

Everything derives from ``--seed``, so the same seed gives the same rows.
"""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

from sqlalchemy import Connection, Table, func, select, text
from werkzeug.security import generate_password_hash

from workflow.demo.city import AS_OF, SECTIONS
from workflow.demo.plan import Ids, Planner, World
from workflow.demo.rows import item_rows, meeting_rows
from workflow.extensions import db
from workflow.models import (
    AgendaEntry,
    Attendance,
    HistoryEvent,
    Item,
    ItemCoordination,
    ItemDetail,
    ItemDiscussionPoint,
    ItemHistoryRow,
    ItemRouteStep,
    Meeting,
    Opinion,
    PublicComment,
    PublicCommentOpinion,
    Section,
    User,
)
from workflow.states.states import Role
from workflow.wareki import fiscal_year

BATCH_ITEMS = 2000  # items whose rows go to the database together


class NotEmpty(RuntimeError):
    """The database already holds items or meetings."""


def _next_id(conn: Connection, table: Table) -> int:
    return (conn.scalar(select(func.max(table.c.id))) or 0) + 1


def _world(conn: Connection) -> World:
    """Sections and users: the demo accounts (see ``flask demo load``) plus one author per 課."""
    from workflow.demo.load import DEMO_PASSWORD, USERS

    existing = {name for name in conn.scalars(select(Section.name))}
    next_section = _next_id(conn, Section.__table__)
    rows = []
    for bureau, division, names in SECTIONS:
        for name in names:
            if name not in existing:
                rows.append(
                    {"id": next_section, "name": name, "bureau": bureau, "division": division}
                )
                next_section += 1
    if rows:
        conn.execute(Section.__table__.insert(), rows)
    sections = [
        (r.id, r.name, r.bureau, r.division)
        for r in conn.execute(select(Section.id, Section.name, Section.bureau, Section.division))
    ]
    by_name = {s[1]: s[0] for s in sections}

    logins = set(conn.scalars(select(User.login)))
    next_user = _next_id(conn, User.__table__)
    demo_hash = generate_password_hash(DEMO_PASSWORD)
    # Authors sign in with nobody's password: a random one, thrown away.
    author_hash = generate_password_hash(secrets.token_urlsafe(24))
    now = datetime.now(UTC)
    users = []
    for login, display, role, section in USERS:
        if login not in logins:
            users.append(
                {
                    "id": next_user,
                    "login": login,
                    "display_name": display,
                    "role": role,
                    "section_id": by_name.get(section) if section else None,
                    "password_hash": demo_hash,
                    "active": True,
                    "created_at": now,
                }
            )
            next_user += 1
    for n, (sid, name, _bureau, _division) in enumerate(sections, start=1):
        login = f"staff{n:03d}"
        if login not in logins:
            users.append(
                {
                    "id": next_user,
                    "login": login,
                    "display_name": f"{name} 担当",
                    "role": Role.DEPARTMENT,
                    "section_id": sid,
                    "password_hash": author_hash,
                    "active": True,
                    "created_at": now,
                }
            )
            next_user += 1
    if users:
        conn.execute(User.__table__.insert(), users)
    authors: dict[int, int] = {}
    for uid, sid in conn.execute(
        select(User.id, User.section_id)
        .where(User.role == Role.DEPARTMENT, User.login.like("staff%"))
        .order_by(User.id)
    ):
        authors.setdefault(sid, uid)
    secretariat_id = conn.scalar(select(User.id).where(User.login == "secretariat"))
    return World(sections, authors, secretariat_id)


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """PostgreSQL: the ids were given explicitly, so move each serial past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
            )
        )


ORDER = [  # parents before children
    Meeting.__table__,
    Item.__table__,
    ItemDiscussionPoint.__table__,
    ItemHistoryRow.__table__,
    ItemCoordination.__table__,
    ItemDetail.__table__,
    ItemRouteStep.__table__,
    AgendaEntry.__table__,
    Opinion.__table__,
    Attendance.__table__,
    PublicComment.__table__,
    PublicCommentOpinion.__table__,
]
HISTORY = HistoryEvent.__table__


def _write_history(conn: Connection, history: list[dict]) -> int:
    """Insert the history rows in the order they happened, as the services would have.

    When history rows are hash-chained (``prev_hash``/``hash``), the new rows continue the
    chain from its current head, the way the model's before_flush hook links them.
    """
    history.sort(key=lambda row: row["occurred_at"])  # stable: ties keep their planned order
    chained = "hash" in HISTORY.c
    if chained:
        from workflow.models.history import chain_head, content_hash

        head = chain_head(conn)
    for start in range(0, len(history), 10_000):
        batch = history[start : start + 10_000]
        if chained:
            for row in batch:
                row["prev_hash"] = head
                row["hash"] = head = content_hash(row)
        conn.execute(HISTORY.insert(), batch)
    return len(history)


def generate(n: int, seed: int = 1, progress=None) -> Counter[str]:
    """Write *n* items and ten years of meetings into the (item-less) database; count the rows.

    Runs in the session's transaction; the caller commits.
    """
    conn = db.session.connection()
    for model in (Item, Meeting):
        if conn.scalar(select(func.count()).select_from(model)):
            raise NotEmpty
    world = _world(conn)
    ids = {
        name: Ids(_next_id(conn, table))
        for name, table in (
            ("items", Item.__table__),
            ("agenda_entries", AgendaEntry.__table__),
            ("public_comments", PublicComment.__table__),
            ("meetings", Meeting.__table__),
        )
    }
    planner = Planner(world, n, seed, ids)
    plans = planner.plan_all()

    # Number the sittings that took place or are planned: per kind per 年度, in date order.
    # A past sitting no item reached did not take place (a held meeting needs an agenda).
    counts: Counter[str] = Counter()
    sittings = [m for ms in planner.meetings.values() for m in ms if m.entries or m.day > AS_OF]
    sittings.sort(key=lambda m: (m.day, m.start, m.kind))
    numbers: Counter[tuple[str, int]] = Counter()
    meeting_rng = random.Random(seed + 7)  # noqa: S311
    rows: dict[Table, list[dict]] = defaultdict(list)
    history = rows[HISTORY] = []

    def flush() -> None:
        for table in ORDER:
            batch = rows.pop(table, None)
            if batch:
                conn.execute(table.insert(), batch)
                counts[table.name] += len(batch)

    for meeting in sittings:
        numbers[meeting.kind, fiscal_year(meeting.day)] += 1
        meeting.number = numbers[meeting.kind, fiscal_year(meeting.day)]
        meeting.id = ids["meetings"]()
        for table, row in meeting_rows(meeting, world.secretariat_id, meeting_rng):
            rows[table].append(row)
    flush()
    for start in range(0, len(plans), BATCH_ITEMS):
        for plan in plans[start : start + BATCH_ITEMS]:
            for table, row in item_rows(plan, world, seed):
                rows[table].append(row)
        flush()
        if progress is not None:
            progress(min(start + BATCH_ITEMS, len(plans)), len(plans))
    counts[HISTORY.name] = _write_history(conn, history)
    _reset_sequences(conn, [*ORDER, HISTORY, Section.__table__, User.__table__])
    # Fresh statistics for the planner: right after a bulk load PostgreSQL has none yet and may
    # walk a whole table in primary-key order (an item's history, for one).
    conn.execute(text("ANALYZE"))
    return counts


def run(n: int, seed: int, echo) -> None:
    """The CLI's body: generate, commit, report in Japanese."""
    from workflow.services.transaction import unit_of_work

    started = time.perf_counter()
    from workflow.search_index import rebuild

    with unit_of_work():
        counts = generate(n, seed, progress=lambda done, total: echo(f"  {done}/{total} 件"))
        # Core inserts bypass the index's flush hook: build it once over everything.
        rebuild(db.session.connection())
    if db.engine.dialect.name == "postgresql":
        # A bulk load leaves the visibility map empty until autovacuum comes round, and counting
        # the items (every list's total) reads the table instead of an index-only scan. VACUUM
        # cannot run inside a transaction.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
    seconds = time.perf_counter() - started
    echo(
        f"{n}件の案件と{counts['meetings']}回の会議を作成しました"
        f"（{sum(counts.values())}行、{seconds:.1f}秒）。"
    )
