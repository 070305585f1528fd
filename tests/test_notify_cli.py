"""``flask notify``: deadline reminders to sections with drafts for a meeting, パブリックコメント
closing reminders, each once however often cron runs it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.factories import make_item, make_meeting, make_section, make_user
from workflow.extensions import db
from workflow.models import Notice
from workflow.services import notices
from workflow.states.states import ItemStatus, Role


@pytest.fixture
def world(app):
    a, b = make_section("情報政策課"), make_section("財政課")
    w = {
        "a": make_user(Role.DEPARTMENT, a),
        "a2": make_user(Role.DEPARTMENT, a),
        "a_gone": make_user(Role.DEPARTMENT, a, active=False),
        "b": make_user(Role.DEPARTMENT, b),
        "sec": make_user(Role.SECRETARIAT),
    }
    db.session.commit()
    return w


def run(app, *args: str):
    result = app.test_cli_runner().invoke(args=["notify", *args])
    db.session.expire_all()
    return result


def told(kind: str) -> list[tuple[int, str | None]]:
    rows = db.session.execute(
        sa.select(Notice.user_id, Notice.dedupe_key).where(Notice.kind == kind).order_by(Notice.id)
    )
    return [tuple(row) for row in rows]


def test_deadline_reminders_from_two_open_days_before_to_the_deadline_once(app, world):
    # Meeting on 2026-05-07 (木), N = 5: the deadline is 2026-04-24 (金) (DOMAIN §11).
    meeting = make_meeting(world["sec"], on=date(2026, 5, 7))
    first = make_item(ItemStatus.DRAFT, department=world["a"], secretariat=world["sec"])
    make_item(ItemStatus.RETURNED, department=world["a"], secretariat=world["sec"])
    # Section B's draft goes to 政策調整会議 first: not for this meeting.
    make_item(
        ItemStatus.DRAFT,
        department=world["b"],
        secretariat=world["sec"],
        route=["policy_coordination"],
    )
    # Submitted already: nothing to remind of.
    make_item(ItemStatus.SUBMITTED, department=world["b"], secretariat=world["sec"])
    db.session.commit()

    result = run(app, "--on", "2026-04-21")
    assert result.exit_code == 0, result.output
    assert told("deadline") == []
    assert "申込締切 0件" in result.output

    result = run(app, "--on", "2026-04-22")  # two 開庁日 before the deadline
    assert result.exit_code == 0, result.output
    key = f"deadline:{meeting.id}"
    assert told("deadline") == [(world["a"].id, key), (world["a2"].id, key)]
    assert "令和8年4月22日の通知: 申込締切 2件、パブリックコメント終了 0件" in result.output
    notice = db.session.scalars(sa.select(Notice).where(Notice.kind == "deadline")).first()
    assert notice.title == f"申込締切は令和８年４月２４日です：{meeting.title}（令和８年５月７日）"
    assert first.title in notice.body
    assert "（差戻し中）" in notice.body

    for day in ("2026-04-22", "2026-04-23", "2026-04-24"):  # again, and a missed day caught up
        assert "申込締切 0件" in run(app, "--on", day).output
    assert len(told("deadline")) == 2
    db.session.execute(sa.delete(Notice).where(Notice.kind == "deadline"))
    db.session.commit()
    assert "申込締切 0件" in run(app, "--on", "2026-04-27").output  # past the deadline


def test_a_deadline_day_missed_by_cron_is_caught_up(app, world):
    make_meeting(world["sec"], on=date(2026, 5, 7))
    make_item(ItemStatus.DRAFT, department=world["a"], secretariat=world["sec"])
    db.session.commit()
    assert "申込締切 2件" in run(app, "--on", "2026-04-24").output


def test_public_comment_closing_reminders_today_or_tomorrow_once(app, world):
    # make_item opens the comment from 2020-01-06, closing on 2020-02-04.
    item = make_item(ItemStatus.PUBLIC_COMMENT, department=world["a"], secretariat=world["sec"])
    db.session.commit()
    assert "パブリックコメント終了 0件" in run(app, "--on", "2020-02-02").output
    result = run(app, "--on", "2020-02-03")
    assert "パブリックコメント終了 3件" in result.output
    assert {user for user, _key in told("pc_closing")} == {
        world["a"].id,
        world["a2"].id,
        world["sec"].id,
    }
    notice = db.session.scalars(sa.select(Notice).where(Notice.kind == "pc_closing")).first()
    assert notice.title == (
        f"パブリックコメント「{item.title}」は明日（令和２年２月４日）で終わります"
    )
    assert "パブリックコメント終了 0件" in run(app, "--on", "2020-02-04").output
    assert len(told("pc_closing")) == 3


def test_a_reminder_another_cron_wrote_first_does_not_lose_the_others(app, world, monkeypatch):
    """Two crons on PostgreSQL: the other one's row makes this insert fail; the rest go in."""
    make_meeting(world["sec"], on=date(2026, 5, 7))
    make_item(ItemStatus.DRAFT, department=world["a"], secretariat=world["sec"])
    db.session.commit()
    # What the other cron committed between this one's check and its insert.
    meeting_id = db.session.scalar(sa.text("SELECT id FROM meetings"))
    db.session.add(
        Notice(
            user_id=world["a"].id,
            kind="deadline",
            title="先に書かれた通知",
            dedupe_key=f"deadline:{meeting_id}",
        )
    )
    db.session.commit()
    checked = notices.already_told
    calls = []

    def missed_the_other_cron_once(key, ids):
        calls.append(key)
        return set() if len(calls) == 1 else checked(key, ids)

    monkeypatch.setattr(notices, "already_told", missed_the_other_cron_once)
    result = run(app, "--on", "2026-04-23")
    assert result.exit_code == 0, result.output
    assert "申込締切 1件" in result.output
    assert len(calls) == 2  # undone once, made again
    assert sorted(told("deadline")) == sorted(
        [(world["a"].id, f"deadline:{meeting_id}"), (world["a2"].id, f"deadline:{meeting_id}")]
    )


def test_a_bad_day_is_refused_in_japanese(app, world):
    result = run(app, "--on", "2026-13-01")
    assert result.exit_code == 2
    assert "YYYY-MM-DD の形で指定してください" in result.output


def test_without_on_it_uses_the_citys_today(app, world, monkeypatch):
    from workflow import notify_cli

    monkeypatch.setattr(notify_cli, "today", lambda: date(2026, 4, 22))
    make_meeting(world["sec"], on=date(2026, 5, 7))
    make_item(ItemStatus.DRAFT, department=world["a"], secretariat=world["sec"])
    db.session.commit()
    assert "令和8年4月22日の通知: 申込締切 2件" in run(app).output
