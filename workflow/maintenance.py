"""Pruning the tables that grow with use: the sign-in log, the PDF cache, sign-in sessions and
the API's idempotency keys.

``flask --app wsgi prune``, run daily (cron, a systemd timer), deletes in one transaction:

* sign-in attempts older than ``LOGIN_ATTEMPTS_RETENTION_DAYS`` (90). The sign-in limits
  (workflow.sign_in_limits) count only the last ``LOGIN_WINDOW_MINUTES``, and a retention
  shorter than that window is refused, so a prune never changes whether a sign-in is let
  through; the days beyond it keep the sign-in log for review.
* cached PDFs no download has read for ``PDF_CACHE_RETENTION_DAYS`` (30). A key hashes all that a
  document prints, so a row never goes stale, it only stops being asked for (after an edit, or a
  new template or WeasyPrint); one pruned and asked for again is simply rendered again.
* server-side sign-in sessions that ended more than ``SESSION_RETENTION_DAYS`` (30) ago. A session
  ends at its logout (``revoked_at``), ``SESSION_IDLE_MINUTES`` after it was last seen, or
  ``SESSION_ABSOLUTE_MINUTES`` after it began, whichever comes first (workflow.auth
  ``session_is_live``); nothing brings an ended session back, and a live one is never deleted. A
  deactivated user's session that has not ended stays, since reactivating the user revives it.
  The retention keeps recent sign-ins for review, and is a margin should this command run with
  shorter session limits than the web workers. No table refers to ``user_sessions``.
* the API's ``Idempotency-Key`` answers older than 24 hours (workflow.api.idempotency): a retry
  after that starts afresh anyway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from workflow.extensions import db
from workflow.models import IdempotencyKey, LoginAttempt, PdfCache, UserSession
from workflow.models._types import utcnow
from workflow.models.idempotency_key import KEEP

__all__ = ["PruneError", "PruneResult", "prune", "prune_command", "retention"]

_MINUTES_PER_DAY = 24 * 60


class PruneError(click.ClickException):
    """A retention the configuration must not have: one line of Japanese on stderr, exit 1."""

    def show(self, file=None) -> None:
        click.echo(f"エラー: {self.format_message()}", err=True)


@dataclass(frozen=True, slots=True)
class PruneResult:
    """How many rows a prune removed (or, for a dry run, would remove), and the rule it applied."""

    login_attempts: int
    pdf_cache: int
    sessions: int
    idempotency_keys: int
    login_attempts_days: int
    pdf_cache_days: int
    sessions_days: int
    dry_run: bool


def _days(config: Mapping[str, Any], name: str) -> int:
    value = config[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PruneError(f"{name} は1以上の日数（整数）にしてください（今の値: {value!r}）。")
    return value


def retention(config: Mapping[str, Any]) -> tuple[int, int, int]:
    """The days to keep sign-in attempts, unused PDFs and ended sessions; checks each of them."""
    login_days = _days(config, "LOGIN_ATTEMPTS_RETENTION_DAYS")
    pdf_days = _days(config, "PDF_CACHE_RETENTION_DAYS")
    session_days = _days(config, "SESSION_RETENTION_DAYS")
    window = config["LOGIN_WINDOW_MINUTES"]
    if login_days * _MINUTES_PER_DAY < window:
        raise PruneError(
            f"LOGIN_ATTEMPTS_RETENTION_DAYS（{login_days}日）がログイン試行を数える時間 "
            f"LOGIN_WINDOW_MINUTES（{window}分）より短いため、削除できません。"
            f"{math.ceil(window / _MINUTES_PER_DAY)}日以上にしてください。"
        )
    return login_days, pdf_days, session_days


def _ended_before(cutoff: datetime, config: Mapping[str, Any]) -> sa.ColumnElement[bool]:
    """Sessions that ended before *cutoff*: the converse of workflow.auth.session_is_live.

    Each rule alone means the session is over; one still within all three is never matched.
    """
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(minutes=config["SESSION_ABSOLUTE_MINUTES"])
    return sa.or_(
        UserSession.revoked_at < cutoff,
        UserSession.last_seen_at < cutoff - idle,
        UserSession.created_at < cutoff - absolute,
    )


def _remove(model: type[db.Model], condition: sa.ColumnElement[bool], dry_run: bool) -> int:
    if dry_run:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(condition))
    # No session synchronisation: the commit right after expires every object anyway, and
    # "fetch" would bring back the id of every deleted row.
    statement = sa.delete(model).where(condition).execution_options(synchronize_session=False)
    return db.session.execute(statement).rowcount


def prune(now: datetime | None = None, *, dry_run: bool = False) -> PruneResult:
    """Delete old sign-in attempts, unused cached PDFs, long-ended sessions and expired idempotency
    keys in one transaction.

    With *dry_run* only count them. Raises :class:`PruneError` before touching anything when
    the configured retention is not allowed. Returns the counts.
    """
    config = current_app.config
    login_days, pdf_days, session_days = retention(config)
    now = now or utcnow()
    old_attempts = LoginAttempt.at < now - timedelta(days=login_days)
    unused_pdfs = PdfCache.last_used_at < now - timedelta(days=pdf_days)
    ended_sessions = _ended_before(now - timedelta(days=session_days), config)
    try:
        result = PruneResult(
            login_attempts=_remove(LoginAttempt, old_attempts, dry_run),
            pdf_cache=_remove(PdfCache, unused_pdfs, dry_run),
            sessions=_remove(UserSession, ended_sessions, dry_run),
            idempotency_keys=_remove(
                IdempotencyKey, IdempotencyKey.created_at < now - KEEP, dry_run
            ),
            login_attempts_days=login_days,
            pdf_cache_days=pdf_days,
            sessions_days=session_days,
            dry_run=dry_run,
        )
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


@click.command(
    "prune",
    help="古いログイン試行の記録、使われていないPDFキャッシュ、終了したログインセッション、"
    "期限切れの Idempotency-Key の記録を削除する",
)
@click.option("--dry-run", is_flag=True, help="削除せず、削除する件数だけを表示する")
@with_appcontext
def prune_command(dry_run: bool) -> None:
    result = prune(dry_run=dry_run)
    attempts = f"{result.login_attempts_days}日より前のログイン試行の記録"
    pdfs = f"{result.pdf_cache_days}日以上使われていないPDFキャッシュ"
    sessions = f"終了から{result.sessions_days}日を過ぎたログインセッション"
    keys = "24時間を過ぎた Idempotency-Key の記録"
    if dry_run:
        click.echo(f"{attempts}が{result.login_attempts:,}件あります。")
        click.echo(f"{pdfs}が{result.pdf_cache:,}件あります。")
        click.echo(f"{sessions}が{result.sessions:,}件あります。")
        click.echo(f"{keys}が{result.idempotency_keys:,}件あります。")
        click.echo("--dry-run のため、何も削除していません。")
    else:
        click.echo(f"{attempts}を{result.login_attempts:,}件削除しました。")
        click.echo(f"{pdfs}を{result.pdf_cache:,}件削除しました。")
        click.echo(f"{sessions}を{result.sessions:,}件削除しました。")
        click.echo(f"{keys}を{result.idempotency_keys:,}件削除しました。")
