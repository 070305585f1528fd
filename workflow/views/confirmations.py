"""What the confirmation page of each irreversible step says (issue 20), and the message after
a step is done, written for the one who pressed the button.

申込・受付 (items) and 開催済にする・議事録の確定・公開 (meetings) cannot be undone by their user:
the button leads to templates/confirm.html (workflow.views.common.confirmation_page), saying what
will happen and who will see it; only its own button fires the event.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.extensions import db
from workflow.models import Item, Meeting, MeetingKind
from workflow.states.machine import EVENT_LABELS


@dataclass(frozen=True)
class Confirmation:
    """The words of one confirmation page."""

    heading: str  # the question: 「この案件を申し込みますか」
    happens: tuple[str, ...]  # what will happen, a sentence a line
    audience: str  # who will see it
    button: str  # the primary button: 「申し込む」


def _kind_name(code: str | None) -> str:
    kind = db.session.get(MeetingKind, code) if code else None
    return kind.name if kind is not None else "付議先の会議"


def _awaited_after_accept(item: Item) -> str:
    """The kind the item waits for once accepted: the one it waits for, or its route's first."""
    return _kind_name(item.level_kind or (item.route[0] if item.route else None))


# Item events that need a confirmation page (取下げ and 完了 end the item's procedure).
ITEM_CONFIRMED = ("submit", "accept", "withdraw", "conclude")
# Meeting events that need one (公開取消 and 中止 take a reason on their own form).
MEETING_CONFIRMED = ("hold", "confirm", "publish")


def item_confirmation(item: Item, event: str, reason: str = "") -> Confirmation | None:
    """The words of *event*'s page; *reason*: the one typed for 取下げ, shown back to its writer."""
    if event == "submit":
        return Confirmation(
            heading=f"「{item.title}」を申し込みますか",
            happens=("庁議事務局に申し込みます。申し込んだ後は、差し戻されるまで編集できません。",),
            audience="庁議事務局の職員が申込の内容を確認し、受け付けるか差し戻します。",
            button="申し込む",
        )
    if event == "accept":
        return Confirmation(
            heading=f"「{item.title}」を受け付けますか",
            happens=(
                f"受け付けると、所管課（{item.section.name}）に通知します。",
                f"案件は{_awaited_after_accept(item)}の議題になるのを待ちます。"
                "受け付けた後は、差し戻せません。",
            ),
            audience=f"所管課（{item.section.name}）の職員に、受け付けたことが通知されます。",
            button="受け付ける",
        )
    if event == "withdraw":
        return Confirmation(
            heading=f"「{item.title}」を取り下げますか",
            happens=(
                "取り下げると、この案件の手続は終わり、元に戻せません。",
                "審議予定の会議があれば、その議題から外れます。",
                f"取下げの理由：{reason}",
            ),
            audience=f"所管課（{item.section.name}）と庁議事務局の職員が、取り下げたことと"
            "その理由を案件の画面で見ます。",
            button="取り下げる",
        )
    if event == "conclude":
        return Confirmation(
            heading=f"「{item.title}」の手続を完了にしますか",
            happens=("完了にすると、この案件の手続は終わり、元に戻せません。",),
            audience=f"所管課（{item.section.name}）の職員が、案件の画面で「完了」と見ます。",
            button="完了にする",
        )
    return None


def meeting_confirmation(meeting: Meeting, event: str) -> Confirmation | None:
    if event == "hold":
        return Confirmation(
            heading=f"{meeting.title}を開催済にしますか",
            happens=(
                "各議題の結果が確定し、議題の追加・削除や結果の登録はできなくなります。",
                "開催済にした後、議事録を確定できるようになります。",
            ),
            audience="職員が会議の一覧と会議の画面で「開催済」と見ます。一般には公開されません。",
            button="開催済にする",
        )
    if event == "confirm":
        return Confirmation(
            heading=f"{meeting.title}の議事録を確定しますか",
            happens=(
                "議事録を確定すると、審議の記録（出席課・意見・回答・特記事項）は編集できなくなります。",
                "公開範囲は、公開するまで変えられます。議事録は「案」ではなくなります。",
            ),
            audience="確定した議事録は、職員が閲覧できます。一般には、公開するまで表示されません。",
            button="確定する",
        )
    if event == "publish":
        return Confirmation(
            heading=f"{meeting.title}の議事録を公開しますか",
            happens=(
                "議事録と議題の案件が一般に公開され、取り消すまで誰でも閲覧できます。",
                "非公開にした議題と、公開しないとした意見は公開されません。",
                "議題の案件の所管課に、公開したことを通知します。",
            ),
            audience="一般の方（ログインしていない人を含む誰でも）が、公開ページ・検索・"
            "オープンデータで閲覧できます。",
            button="公開する",
        )
    return None


def item_done(item: Item, event: str) -> str:
    """The message after an item event, for the one who fired it."""
    section = item.section.name
    match event:
        case "submit":
            return "申し込みました。庁議事務局が内容を確認します。"
        case "accept":
            return (
                f"受け付けました。所管課（{section}）に通知しました。"
                f"案件は{_kind_name(item.level_kind)}の議題になるのを待ちます。"
            )
        case "return":
            return f"差し戻しました。所管課（{section}）に理由を通知しました。"
        case "withdraw":
            return "この案件を取り下げました。"
        case "submit_amendment":
            return "修正版を提出しました。庁議事務局が確認します。"
        case "confirm_amendment":
            return "修正を確認しました。案件は承認済みになりました。"
        case "return_amendment":
            return f"修正版を差し戻しました。所管課（{section}）に理由を通知しました。"
        case "conclude":
            return "この案件を完了にしました。"
    return f"「{EVENT_LABELS.get(event, event)}」が済みました。"


def meeting_done(meeting: Meeting, event: str) -> str:
    """The message after a meeting event, for the secretariat that fired it."""
    match event:
        case "hold":
            return "開催済にしました。議事録を見直して、確定してください。"
        case "confirm":
            return "議事録を確定しました。公開範囲を確かめてから公開してください。"
        case "publish":
            return "議事録を公開しました。一般の方が閲覧できます。"
        case "unpublish":
            return "議事録の公開を取り消しました。一般の方は閲覧できなくなりました。"
        case "cancel":
            return (
                f"{meeting.title}を中止にしました。"
                "議題だった案件は付議待ちに戻り、所管課に通知しました。"
            )
    return f"「{EVENT_LABELS.get(event, event)}」が済みました。"
