"""Where an item stands, said to its reader: the box at the top of the item page and the
「次のステップ」 line of the lists.

Three readers are told three different things about one state (DOMAIN §1): the owning section
(所管課) is addressed in the second person with what it must do (「修正して、もう一度申し込んで
ください。」), the secretariat with what it must do, everyone else with a neutral status line. A
return (差戻し) is quoted with its reason, whichever way it came: the secretariat's return at
intake, a meeting's 差し戻しとする。, or an amendment returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from workflow.models import AgendaEntry, HistoryEvent, Item, User
from workflow.permissions import is_secretariat, owns
from workflow.states.states import ItemStatus, Outcome
from workflow.wareki import to_wareki

OWNER, SECRETARIAT, OTHER = "owner", "secretariat", "other"

S = ItemStatus

# 「次のステップ」 per reader. {kind}: the meeting kind the item awaits or is scheduled for.
NEXT_STEP: dict[ItemStatus, dict[str, str]] = {
    S.DRAFT: {
        OWNER: "内容を入力して申し込むと、庁議事務局へ届きます。",
        SECRETARIAT: "所管課が作成中です（まだ申し込まれていません）。",
        OTHER: "所管課が作成中です。",
    },
    S.SUBMITTED: {
        OWNER: "庁議事務局の受付をお待ちください。",
        SECRETARIAT: "内容を確かめて、受け付けるか、理由を付けて差し戻してください。",
        OTHER: "庁議事務局が内容を確認しています。",
    },
    S.RETURNED: {
        OWNER: "差戻しの理由を確かめ、修正して、もう一度申し込んでください。",
        SECRETARIAT: "所管課の修正と再度の申込を待っています。",
        OTHER: "差し戻され、所管課が修正しています。",
    },
    S.ACCEPTED: {
        OWNER: "「{kind}」の議題に加えられるのを待っています。",
        SECRETARIAT: "「{kind}」の会議の議題に加えてください。",
        OTHER: "「{kind}」の議題に加えられるのを待っています。",
    },
    S.SCHEDULED: {
        OWNER: "「{kind}」で審議されます。説明の準備をしてください。",
        SECRETARIAT: "「{kind}」で審議し、結果を登録してください。",
        OTHER: "「{kind}」で審議されます。",
    },
    S.AMENDING: {
        OWNER: "申込書を修正して保存し、「修正版の提出」をしてください。",
        SECRETARIAT: "所管課が修正版を作成しています。",
        OTHER: "一部修正して承認され、所管課が修正しています。",
    },
    S.AMENDMENT_SUBMITTED: {
        OWNER: "修正版を提出しました。庁議事務局の確認をお待ちください。",
        SECRETARIAT: "修正版を確かめて、確認するか、理由を付けて差し戻してください。",
        OTHER: "庁議事務局が修正版を確認しています。",
    },
    S.APPROVED: {
        OWNER: "承認されました。庁議事務局がパブリックコメントの実施か完了の手続をします。",
        SECRETARIAT: "承認されました。パブリックコメントを行うか、完了にしてください。",
        OTHER: "承認されました。",
    },
    S.PUBLIC_COMMENT: {
        OWNER: "パブリックコメントを実施しています。",
        SECRETARIAT: "パブリックコメントを実施しています。締切日の後に意見募集を終了してください。",
        OTHER: "パブリックコメントを実施しています。",
    },
    S.PUBLIC_COMMENT_CLOSED: {
        OWNER: "意見募集が終わりました。庁議事務局が結果をまとめて公表します。",
        SECRETARIAT: "寄せられた意見に市の考え方を示し、結果を公表してください。",
        OTHER: "意見募集が終わり、結果の公表を待っています。",
    },
    S.CONCLUDED: dict.fromkeys((OWNER, SECRETARIAT, OTHER), "手続はすべて完了しました。"),
    S.WITHDRAWN: dict.fromkeys((OWNER, SECRETARIAT, OTHER), "この案件は取り下げられました。"),
}


def reader_of(user: User | None, item: Item) -> str:
    """Which of the three readers *user* is for *item*."""
    if owns(user, item):
        return OWNER
    if is_secretariat(user):
        return SECRETARIAT
    return OTHER


@cache  # a pure function of three short values, called for each row of a list
def next_step_text(status: ItemStatus, kind_name: str | None, reader: str = OTHER) -> str:
    """What happens next in *status* (awaiting a meeting of *kind_name*), told to *reader*."""
    return NEXT_STEP[status][reader].format(kind=kind_name or "")


def next_step(item: Item, user: User | None) -> str:
    """The item's 「次のステップ」 as *user* reads it."""
    kind = item.awaited.name if item.awaited else None
    return next_step_text(ItemStatus(item.status), kind, reader_of(user, item))


@dataclass(frozen=True)
class Attention:
    """The box at the top of the item page."""

    tone: str  # "act": the reader must do something; "wait": nothing to do now; "done"
    heading: str  # 「差し戻されました。」
    quoted: list[tuple[str, str]] = field(default_factory=list)  # (理由, 「…」), (結果, …)
    lines: list[str] = field(default_factory=list)  # what to do, in order


def _entered(item: Item, history: Sequence[HistoryEvent]) -> HistoryEvent | None:
    """The latest history row that moved the item into its current state."""
    for row in reversed(history):
        if row.to_state == item.status.value and row.from_state != row.to_state:
            return row
    return None


def _meeting_words(row: HistoryEvent | None, entries: Sequence[AgendaEntry]):
    """The agenda entry an outcome row was recorded on, and 「〈会議〉（〈和暦〉）」."""
    meeting_id = (row.params or {}).get("meeting_id") if row is not None else None
    for entry in entries:
        if entry.meeting_id == meeting_id:
            return entry, f"{entry.meeting.title}（{to_wareki(entry.meeting.date)}）"
    return None, "会議"


def attention(
    item: Item,
    user: User | None,
    history: Sequence[HistoryEvent],
    entries: Sequence[AgendaEntry] = (),
    said: Sequence[AgendaEntry] = (),
) -> Attention:
    """What *user* must know or do about *item* now, for the top of its page.

    *history* is the item's event history, oldest first; *entries* the agenda entries of the
    meetings the reader sees, *said* those whose minutes the reader may read. A meeting's
    wording is quoted from its minutes only when they are readable, as the page's 「会議での審議」
    does; a 差し戻しとする。 is quoted (with its 特記事項) to the owning section and the
    secretariat always, since it is the reason of a return (the notice has told them).
    """
    readable = {entry.meeting_id for entry in said}

    def minutes_read(row: HistoryEvent | None) -> bool:
        return row is not None and (row.params or {}).get("meeting_id") in readable

    reader = reader_of(user, item)
    status = ItemStatus(item.status)
    kind = item.awaited.name if item.awaited else ""
    step = next_step_text(status, kind, reader)
    row = _entered(item, history)
    event = row.event if row is not None else None
    late = "申込締切の後に届いた申込です（締切後）。" if item.late else ""

    if status == S.RETURNED and event == "record_outcome":
        entry, where = _meeting_words(row, entries)
        notes = (entry.special_notes or "").strip() if entry is not None else ""
        quoted = [("結果", f"{where}で「{Outcome.REMANDED.screen_label}」とされました。")]
        if notes and reader != OTHER:
            quoted.append(("特記事項", notes))
        return _returned(reader, quoted, "会議で差し戻されました。")
    if status == S.RETURNED:
        reason = row.reason if row is not None and row.reason else ""
        quoted = [("理由", reason)] if reason and reader != OTHER else []
        return _returned(reader, quoted, "差し戻されました。")
    if status == S.AMENDING and event == "return_amendment":
        reason = row.reason or ""
        quoted = [("理由", reason)] if reason and reader != OTHER else []
        if reader == OWNER:
            return Attention(
                "act",
                "修正版が差し戻されました。",
                quoted,
                ["理由に沿って修正し、もう一度「修正版の提出」をしてください。"],
            )
        if reader == SECRETARIAT:
            return Attention("wait", "修正版を差し戻しました。", quoted, [step])
        return Attention("wait", "修正版が差し戻され、所管課が修正しています。")
    if status == S.AMENDING:
        _entry, where = _meeting_words(row, entries)
        wording = Outcome.APPROVED_WITH_AMENDMENTS.screen_label
        said_so = (
            f"「{wording}」とされました" if minutes_read(row) else "一部修正して承認されました"
        )
        quoted = [("結果", f"{where}で{said_so}。")]
        if reader == OWNER:
            return Attention("act", "修正して、修正版を提出してください。", quoted, [step])
        return Attention("wait", "所管課が修正しています。", quoted, [step])
    if status == S.SUBMITTED:
        if reader == SECRETARIAT:
            lines = [f"{item.section.name}から申込がありました。", step]
            return Attention(
                "act", "申込を受け付けるか、差し戻してください。", [], _lines(late, lines)
            )
        if reader == OWNER:
            late_owner = "申込締切の後に届いたため、「締切後」の扱いです。" if item.late else ""
            return Attention("wait", "申し込みました。", [], _lines(late_owner, [step]))
        return Attention("wait", "申込済です。", [], [step])
    if status == S.AMENDMENT_SUBMITTED:
        if reader == SECRETARIAT:
            lines = [f"{item.section.name}から修正版が提出されました。", step]
            return Attention("act", "修正版を確認するか、差し戻してください。", [], lines)
        return Attention("wait", "修正確認中です。", [], [step])
    if status == S.ACCEPTED:
        heading = f"「{kind}」の付議待ちです。"
        if reader == SECRETARIAT:
            return Attention("act", heading, [], _lines(late, [step]))
        if reader == OWNER and event == "record_outcome":
            _entry, where = _meeting_words(row, entries)
            params = row.params or {}
            if params.get("outcome") == Outcome.FORWARDED.value:
                said_so = (
                    f"「{Outcome.FORWARDED.screen_wording(kind)}」とされました"
                    if minutes_read(row)
                    else "上部の会議へ進むことになりました"
                )
                return Attention(
                    "act",
                    heading,
                    [("結果", f"{where}で{said_so}。")],
                    [
                        f"次は「{kind}」に付議されます。その会議に出す様式２"
                        "（申込日・検討経過など）を見直して保存してください。"
                    ],
                )
        return Attention("wait", heading, [], [step])
    if status == S.WITHDRAWN:
        reason = row.reason if row is not None and row.reason else ""
        return Attention("done", step, [("理由", reason)] if reason else [])
    tone = (
        "done"
        if status == S.CONCLUDED
        else (
            "act"
            if reader == SECRETARIAT and status in (S.APPROVED, S.PUBLIC_COMMENT_CLOSED)
            else "wait"
        )
    )
    if status == S.DRAFT and reader == OWNER:
        tone = "act"
    return Attention(tone, f"{status.label}です。", [], [step])


def _returned(reader: str, quoted: list[tuple[str, str]], heading: str) -> Attention:
    if reader == OWNER:
        return Attention("act", heading, quoted, ["修正して、もう一度申し込んでください。"])
    if reader == SECRETARIAT:
        return Attention("wait", heading, quoted, [NEXT_STEP[S.RETURNED][SECRETARIAT]])
    return Attention("wait", heading, quoted, [NEXT_STEP[S.RETURNED][OTHER]])


def _lines(first: str, rest: list[str]) -> list[str]:
    return [first, *rest] if first else rest
