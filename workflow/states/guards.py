"""Guards: the rules a transition checks. A guard that fails raises with the rule, in Japanese.

Guards receive transitions' ``EventData``; the service's context is in ``event.kwargs``.
Only ``outcome_is`` returns False: it selects which ``record_outcome`` transition applies.
"""

from __future__ import annotations

from datetime import timedelta

from workflow.errors import ValidationFailed
from workflow.states.routing import forward_targets
from workflow.states.states import MeetingStatus, Outcome, because
from workflow.wareki import to_wareki

# 行政手続法 §39③: 公示の日から起算して三十日以上 (the publication day counts as day 1).
MIN_COMMENT_DAYS = 30


def _fail(field: str, message: str) -> None:
    raise ValidationFailed.field(field, message)


def reason_given(event) -> bool:
    if not (event.kwargs.get("reason") or "").strip():
        _fail("reason", "理由を入力してください。")
    return True


def has_route(event) -> bool:
    if not event.model.route_steps:
        _fail("route", "審議の経路を一つ以上選んでください。")
    return True


def meeting_takes_item(event) -> bool:
    item, meeting = event.model, event.kwargs["meeting"]
    if meeting.status != MeetingStatus.PLANNED:
        _fail("meeting_id", f"{because(meeting.status)}、この会議には案件を追加できません。")
    if item.level_kind not in meeting.kinds:
        awaited = item.awaited.name if item.awaited else "（なし）"
        _fail(
            "meeting_id",
            f"この案件は{awaited}での審議を待っています。{meeting.kind_row.name}には付議できません。",
        )
    return True


def entry_still_open(event) -> bool:
    entry = event.kwargs["entry"]
    if entry.meeting.status != MeetingStatus.PLANNED:
        _fail("meeting_id", "開催済の会議からは案件を外せません。")
    if entry.outcome is not None:
        _fail("meeting_id", "結果が登録された案件は外せません。")
    return True


def outcome_is(outcome: Outcome):
    """A condition that selects the transition of one outcome."""

    def condition(event) -> bool:
        return event.kwargs.get("outcome") == outcome

    condition.__name__ = f"outcome_is_{outcome.value}"
    return condition


def outcome_valid(event) -> bool:
    entry, outcome = event.kwargs["entry"], event.kwargs["outcome"]
    meeting = entry.meeting
    if meeting.status != MeetingStatus.PLANNED:
        _fail("outcome", f"{because(meeting.status)}、結果を登録できません。")
    if outcome == Outcome.FORWARDED:
        forwarded_to_valid(event.model, meeting, event.kwargs.get("forward_to"))
    elif event.kwargs.get("forward_to") is not None:
        _fail("forward_to", "付議先は「上部庁議へ付議」のときだけ指定できます。")
    return True


def forwarded_to_valid(item, meeting, target) -> None:
    """DOMAIN §8: the 上部庁議 named is a ladder kind above the meeting, further on the route."""
    from workflow.models import review_kinds

    if target is None:
        _fail("forward_to", "付議先の上部庁議を選んでください。")
    if target.review:
        _fail(
            "forward_to",
            f"{target.name}は上部庁議へ向かう途中の会議のため、付議先には指定できません。"
            "付議先の上部庁議を選んでください（途中の会議は経路のとおり経由します）。",
        )
    levels = [meeting.kind_row.level]
    if meeting.second_kind_row is not None:
        levels.append(meeting.second_kind_row.level)
    if target.level <= max(levels):
        _fail("forward_to", f"付議先は{meeting.kinds_name}より上位の会議でなければなりません。")
    if target.code not in forward_targets(item.route, meeting.kinds, review_kinds()):
        _fail(
            "forward_to",
            f"{target.name}はこの案件の審議の経路にありません。"
            "経路にある上位の会議を選ぶか、所管課が経路を変更してください。",
        )


def public_comment_valid(event) -> bool:
    item, kw = event.model, event.kwargs
    if not item.public_comment_planned:
        _fail(
            "public_comment", "この案件はパブリックコメントを予定していません（様式２で「なし」）。"
        )
    published_on, closes_on = kw["published_on"], kw["closes_on"]
    if closes_on < published_on:
        _fail("closes_on", "締切日は公示日より後の日付にしてください。")
    days = (closes_on - published_on).days + 1
    if days < MIN_COMMENT_DAYS and not (kw.get("shortened_reason") or "").strip():
        last = published_on + timedelta(days=MIN_COMMENT_DAYS - 1)
        _fail(
            "shortened_reason",
            f"意見提出期間が{days}日です。公示日から起算して30日以上（{to_wareki(last)}以降の締切）"
            "とするか、短くする理由を入力してください（行政手続法第40条第1項）。",
        )
    if not (kw.get("how_to_submit") or "").strip():
        _fail("how_to_submit", "意見の提出方法を入力してください。")
    return True


def closing_day(event) -> bool:
    public_comment, today = event.kwargs["public_comment"], event.kwargs["today"]
    if today < public_comment.closes_on:
        _fail(
            "today",
            f"意見募集は{to_wareki(public_comment.closes_on)}まで行われています。"
            "締切日以降に終了してください。",
        )
    return True


def all_answered(event) -> bool:
    public_comment = event.kwargs["public_comment"]
    missing = [
        o.number for o in public_comment.opinions if not o.city_view.strip() or not o.handling
    ]
    if missing:
        numbers = "、".join(str(n) for n in missing)
        _fail("opinions", f"市の考え方と対応区分が未入力の意見があります（No.{numbers}）。")
    return True


def no_public_comment_planned(event) -> bool:
    if event.model.public_comment_planned:
        _fail(
            "public_comment",
            "パブリックコメントを予定している案件は、意見募集の結果を公表して完了します。",
        )
    return True


def every_entry_decided(event) -> bool:
    check_every_entry_decided(event.model)
    return True


def check_every_entry_decided(meeting) -> None:
    """開催済 needs an agenda whose every entry has its outcome (the page asks before its
    confirmation step, the machine when it fires)."""
    if not meeting.entries:
        _fail("entries", "議題のない会議は開催済にできません。")
    undecided = [str(e.position + 1) for e in meeting.entries if e.outcome is None]
    if undecided:
        _fail("entries", f"結果が未登録の議題があります（{'、'.join(undecided)}番）。")
