"""The three state machines, built once per class, and :func:`fire`, the only way a status changes.

A ``transitions.Machine`` constructed on a loaded row calls ``set_state(initial)`` on it and
silently resets its status. So each machine is built once, at import, with ``model=None``, and
events are triggered on rows with ``machine.events[name].trigger(row, ...)``; the row's ``status``
column is the machine's ``model_attribute``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import inspect as sa_inspect
from transitions import Machine, MachineError

from workflow.errors import NotAllowedNow, ValidationFailed
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Meeting, PublicComment, User
from workflow.states import guards
from workflow.states.states import (
    ItemStatus,
    MeetingStatus,
    Outcome,
    PublicCommentStatus,
    because,
)

S = ItemStatus

# Where each outcome (結果) leads the item: DOMAIN §4.
OUTCOME_NEXT: dict[Outcome, ItemStatus] = {
    Outcome.APPROVED: S.APPROVED,
    Outcome.APPROVED_WITH_AMENDMENTS: S.AMENDING,
    Outcome.FORWARDED: S.ACCEPTED,
    Outcome.CONTINUED: S.ACCEPTED,
    Outcome.REMANDED: S.RETURNED,
    Outcome.NOTED: S.CONCLUDED,
}

WITHDRAWABLE = (
    S.DRAFT,
    S.SUBMITTED,
    S.RETURNED,
    S.ACCEPTED,
    S.SCHEDULED,
    S.AMENDING,
    S.AMENDMENT_SUBMITTED,
    S.PUBLIC_COMMENT,
    S.PUBLIC_COMMENT_CLOSED,
)

EVENT_LABELS: dict[str, str] = {
    "submit": "申込",
    "return": "差戻し",
    "accept": "受付",
    "schedule": "会議へ付議",
    "unschedule": "付議の取消し",
    "record_outcome": "結果の登録",
    "submit_amendment": "修正版の提出",
    "confirm_amendment": "修正の確認",
    "return_amendment": "修正の差戻し",
    "open_public_comment": "意見募集の開始",
    "close_public_comment": "意見募集の終了",
    "publish_comment_results": "意見募集結果の公表",
    "conclude": "完了",
    "withdraw": "取下げ",
    "revise": "様式２の修正（新しい版）",
    "hold": "開催済にする",
    "confirm": "議事録の確定",
    "publish": "公開",
    "unpublish": "公開取消",
    "cancel": "中止",
    # A planned meeting's date, time, venue, chair or number changed (a history row, no transition).
    "edit_meeting": "会議の変更",
    "set_disclosure": "公開範囲の設定",
    # 資料 (workflow.services.attachments): history rows, not transitions.
    "attach": "資料の追加",
    "update_attachment": "資料の変更",
    "replace_attachment": "資料の差替え",
    "remove_attachment": "資料の削除",
    "close": "意見募集の終了",
    "publish_results": "結果の公表",
    "abandon": "案の取下げ",
}


def _t(trigger: str, source, dest, conditions=None) -> dict[str, Any]:
    return {
        "trigger": trigger,
        "source": list(source) if isinstance(source, tuple | list) else source,
        "dest": dest,
        "conditions": conditions or [],
    }


ITEM_TRANSITIONS: list[dict[str, Any]] = [
    _t("submit", (S.DRAFT, S.RETURNED), S.SUBMITTED, [guards.has_route]),
    _t("return", S.SUBMITTED, S.RETURNED, [guards.reason_given]),
    _t("accept", S.SUBMITTED, S.ACCEPTED, [guards.has_route]),
    _t("schedule", S.ACCEPTED, S.SCHEDULED, [guards.meeting_takes_item]),
    _t("unschedule", S.SCHEDULED, S.ACCEPTED, [guards.entry_still_open]),
    *(
        _t("record_outcome", S.SCHEDULED, dest, [guards.outcome_is(outcome), guards.outcome_valid])
        for outcome, dest in OUTCOME_NEXT.items()
    ),
    _t("submit_amendment", S.AMENDING, S.AMENDMENT_SUBMITTED),
    _t("confirm_amendment", S.AMENDMENT_SUBMITTED, S.APPROVED),
    _t("return_amendment", S.AMENDMENT_SUBMITTED, S.AMENDING, [guards.reason_given]),
    _t("open_public_comment", S.APPROVED, S.PUBLIC_COMMENT, [guards.public_comment_valid]),
    _t("close_public_comment", S.PUBLIC_COMMENT, S.PUBLIC_COMMENT_CLOSED, [guards.closing_day]),
    _t("publish_comment_results", S.PUBLIC_COMMENT_CLOSED, S.CONCLUDED, [guards.all_answered]),
    _t("conclude", S.APPROVED, S.CONCLUDED, [guards.no_public_comment_planned]),
    _t("withdraw", WITHDRAWABLE, S.WITHDRAWN, [guards.reason_given]),
]

M = MeetingStatus
MEETING_TRANSITIONS = [
    _t("hold", M.PLANNED, M.HELD, [guards.every_entry_decided]),
    _t("confirm", M.HELD, M.CONFIRMED),
    _t("publish", M.CONFIRMED, M.PUBLISHED),
    # 公開取消 (DOMAIN §10): back to 確定, with the reason, so the disclosure may be set again.
    _t("unpublish", M.PUBLISHED, M.CONFIRMED, [guards.reason_given]),
    # 中止 (DOMAIN §2): a planned meeting is called off, with the reason; its items wait again.
    _t("cancel", M.PLANNED, M.CANCELLED, [guards.reason_given]),
]

P = PublicCommentStatus
PUBLIC_COMMENT_TRANSITIONS = [
    _t("close", P.OPEN, P.CLOSED),
    _t("publish_results", P.CLOSED, P.RESULTS_PUBLISHED),
    _t("abandon", (P.OPEN, P.CLOSED), P.ABANDONED),
]


def _build(states: type[Enum], transitions: list[dict[str, Any]], initial: Enum) -> Machine:
    # Enum states: transitions names them by member name and assigns the member itself.
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=initial,
        auto_transitions=False,
        send_event=True,
        model_attribute="status",
    )


ITEM_MACHINE = _build(ItemStatus, ITEM_TRANSITIONS, S.DRAFT)
MEETING_MACHINE = _build(MeetingStatus, MEETING_TRANSITIONS, M.PLANNED)
PUBLIC_COMMENT_MACHINE = _build(PublicCommentStatus, PUBLIC_COMMENT_TRANSITIONS, P.OPEN)


@dataclass(frozen=True)
class _Spec:
    machine: Machine
    states: type[Enum]
    noun: str


_SPECS: dict[type, _Spec] = {
    Item: _Spec(ITEM_MACHINE, ItemStatus, "案件"),
    Meeting: _Spec(MEETING_MACHINE, MeetingStatus, "会議"),
    PublicComment: _Spec(PUBLIC_COMMENT_MACHINE, PublicCommentStatus, "意見募集"),
}


def events_from(subject: Item | Meeting | PublicComment) -> list[str]:
    """The events the machine defines from the subject's current status (before permissions)."""
    spec = _SPECS[type(subject)]
    return spec.machine.get_triggers(spec.states(subject.status))


def check_allowed(subject: Item | Meeting | PublicComment, event: str) -> None:
    """Raise :class:`NotAllowedNow`, naming the state and what is allowed, unless *event* is."""
    allowed = events_from(subject)
    if event not in allowed:
        spec = _SPECS[type(subject)]
        state = spec.states(subject.status)
        raise NotAllowedNow(
            f"この{spec.noun}は{because(state)}、「{EVENT_LABELS.get(event, event)}」はできません"
            f"（現在：{state.label}）。",
            {"status": state.value, "status_label": state.label, "allowed_events": allowed},
        )


def fire(
    subject: Item | Meeting | PublicComment,
    event: str,
    *,
    actor: User | None,
    reason: str = "",
    record_history: bool = True,
    effect: Callable[[], None] | None = None,
    **context: Any,
) -> HistoryEvent | None:
    """Fire *event* on *subject* and write its history row, in the caller's transaction.

    *context* reaches the guards (``event.kwargs``) and, made JSON-safe, the history row.
    *effect* runs after the status changed and before anything is flushed: the side effects
    of the event (an agenda entry, the awaited kind …) land with the status and history.
    Raises :class:`NotAllowedNow` when the current state has no such event, and
    :class:`ValidationFailed` when a guard refuses; nothing is changed in either case. A caller
    that wants the state's answer before its own checks calls :func:`check_allowed` first; here
    the machine itself refuses an event its state lacks, and only then is it put in words.
    """
    spec = _SPECS[type(subject)]
    before = spec.states(subject.status)
    if event not in spec.machine.events:
        check_allowed(subject, event)  # no event of this machine: refused in the same words
    try:
        ok = spec.machine.events[event].trigger(subject, actor=actor, reason=reason, **context)
    except MachineError:
        check_allowed(subject, event)  # raises NotAllowedNow naming the state
        raise
    if not ok:  # no transition's conditions matched (guards that explain themselves raise)
        raise ValidationFailed(f"「{EVENT_LABELS.get(event, event)}」の条件を満たしていません。")
    after = spec.states(subject.status)
    if effect is not None:
        with db.session.no_autoflush:  # the row may be half-way (status set, kind not yet)
            effect()
    if not record_history:
        return None
    row = HistoryEvent(
        item_id=subject.item_id if isinstance(subject, PublicComment) else _id_if(subject, Item),
        meeting_id=_id_if(subject, Meeting),
        actor_id=actor.id if actor is not None else None,
        event=event,
        from_state=before.value,
        to_state=after.value,
        params=_jsonable(context),
        reason=reason,
    )
    db.session.add(row)
    db.session.flush()
    from workflow.services import notices  # services build on the machine, not the reverse

    notices.announce(row)
    return row


def _id_if(subject: object, cls: type) -> int | None:
    return subject.id if isinstance(subject, cls) else None


def _jsonable(context: dict[str, Any]) -> dict[str, Any]:
    """History parameters: rows by id, dates as ISO strings, enums by value."""
    out: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, db.Model):
            (pk,) = sa_inspect(value).identity
            out[f"{key}_id" if isinstance(pk, int) else key] = pk  # meeting_id, forward_to=code
        elif isinstance(value, Enum):
            out[key] = value.value
        elif isinstance(value, date):
            out[key] = value.isoformat()
        elif value is None or isinstance(value, str | int | float | bool):
            out[key] = value
        elif isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
            out[key] = list(value)  # ids (a cancelled meeting's items)
        else:
            raise TypeError(f"history parameter {key!r} of type {type(value).__name__}")
    return out
