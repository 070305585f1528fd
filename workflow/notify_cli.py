"""``flask notify``: the daily reminders (DOMAIN §11), run by cron once a day.

Deadline reminders go to the sections with drafts for a planned meeting from two 開庁日 before
its 申込締切 to the deadline itself (so a day cron missed is caught up); パブリックコメント
closing reminders go out on the closing day and the day before. Each is written once per user
(``notices.dedupe_key``): running the command again, or two crons at once, adds nothing. The
mail goes out through the worker like any other notice.
"""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext

from workflow.extensions import db
from workflow.services import notices
from workflow.services.public_comment import today
from workflow.wareki import to_wareki


def _day(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("YYYY-MM-DD の形で指定してください（例: 2026-04-22）。") from None


@click.command("notify", help="申込締切とパブリックコメント終了の通知を作る（毎日 cron で実行）")
@click.option(
    "--on",
    "on",
    callback=_day,
    metavar="YYYY-MM-DD",
    help="この日として実行する（既定: 今日。取りこぼした日の実行や確認に）",
)
@with_appcontext
def notify_command(on: date | None) -> None:
    day = on or today()
    done = notices.send_reminders(day)
    db.session.commit()
    click.echo(
        f"{to_wareki(day, fullwidth=False)}の通知: 申込締切 {done.deadline}件、"
        f"パブリックコメント終了 {done.closing}件を作りました。"
    )
