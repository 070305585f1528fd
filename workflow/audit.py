"""``flask --app wsgi audit verify``: is the history chain (workflow.models.history) intact?

It walks every history row in id order, recomputes each row's hash from its content and checks
that its ``prev_hash`` is the hash of the row before. One Japanese line per problem, naming the
row; exit status 1 if there is any. A clean chain ends with the number of rows and the hash of
the last one: keep that line somewhere else (a ticket, a printout), and ``--anchor HASH`` later
proves that the chain up to it was not rewritten wholesale, which hashes alone cannot show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from workflow.extensions import db
from workflow.models.history import CONTENT_KEYS, GENESIS, HistoryEvent, content_hash

audit_cli = AppGroup("audit", help="履歴（監査証跡）の検査")


@dataclass(frozen=True, slots=True)
class Problem:
    row_id: int
    message: str

    def line(self) -> str:
        return f"履歴 #{self.row_id}: {self.message}"


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows: int
    head: str
    problems: list[Problem]
    hashes_seen: frozenset[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows() -> Iterator[sa.Row]:
    """Plain rows typed as the model, not ORM objects (78,414 rows: 8.5 s instead of 20 s)."""
    table = HistoryEvent.__table__
    columns = [table.c.id, table.c.hash, *(table.c[key] for key in CONTENT_KEYS)]
    query = sa.select(*columns).order_by(table.c.id).execution_options(yield_per=5000)
    yield from db.session.execute(query)


def verify_chain() -> ChainReport:
    """Recompute the chain; a problem is reported once, where it starts."""
    problems: list[Problem] = []
    hashes: set[str] = set()
    previous_hash, previous_id = GENESIS, None
    count = 0
    for row in _rows():
        count += 1
        if row.prev_hash != previous_hash:
            where = f"履歴 #{previous_id}" if previous_id is not None else "鎖の始まり"
            problems.append(
                Problem(
                    row.id,
                    f"直前の{where}とのつながりが切れています"
                    "（間の履歴が削除・挿入されたか、書き換えられています）",
                )
            )
        if content_hash(row._mapping) != row.hash:
            problems.append(
                Problem(row.id, "内容がハッシュと一致しません（記録後に書き換えられています）")
            )
        hashes.add(row.hash)
        previous_hash, previous_id = row.hash, row.id
    db.session.rollback()  # a read only; on SQLite even a read holds the write lock
    return ChainReport(count, previous_hash, problems, frozenset(hashes))


@audit_cli.command("verify")
@click.option(
    "--anchor",
    metavar="HASH",
    help="以前に控えた先頭ハッシュ。鎖の中にまだあることも確かめる",
)
def verify_command(anchor: str | None) -> None:
    """履歴のハッシュの鎖を検査する。問題があれば1件1行で表示し、終了コード1で終わる。"""
    report = verify_chain()
    for problem in report.problems:
        click.echo(problem.line())
    count = len(report.problems)
    if anchor is not None and anchor.strip().lower() not in report.hashes_seen:
        click.echo(f"控えたハッシュ {anchor.strip()} が履歴の鎖の中にありません（書き換えの疑い）")
        count += 1
    if count:
        click.echo(f"エラー: 履歴の鎖に{count}件の問題があります。", err=True)
        raise SystemExit(1)
    if report.rows == 0:
        click.echo("履歴はまだありません。")
        return
    click.echo(f"履歴の鎖に問題はありません（{report.rows:,}件、最後のハッシュ {report.head}）。")
