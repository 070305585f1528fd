"""The states, events' vocabulary and outcomes of DOMAIN §2, §4 and §5, with their Japanese labels."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a Japanese label for pages, PDFs and API."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class ItemStatus(LabelledEnum):
    DRAFT = "draft", "作成中"
    SUBMITTED = "submitted", "申込済"
    RETURNED = "returned", "差戻し中"
    ACCEPTED = "accepted", "付議待ち"
    SCHEDULED = "scheduled", "審議予定"
    AMENDING = "amending", "修正対応中"
    AMENDMENT_SUBMITTED = "amendment_submitted", "修正確認中"
    APPROVED = "approved", "承認済"
    PUBLIC_COMMENT = "public_comment", "意見募集中"
    PUBLIC_COMMENT_CLOSED = "public_comment_closed", "意見募集終了"
    CONCLUDED = "concluded", "完了"
    WITHDRAWN = "withdrawn", "取下げ"


FINAL_ITEM_STATES = frozenset({ItemStatus.CONCLUDED, ItemStatus.WITHDRAWN})


class MeetingStatus(LabelledEnum):
    PLANNED = "planned", "予定"
    HELD = "held", "開催済"
    CONFIRMED = "confirmed", "議事録確定"
    PUBLISHED = "published", "公開"
    # A planned meeting called off (DOMAIN §2): it keeps its announced number; its agenda's
    # items went back to waiting.
    CANCELLED = "cancelled", "中止"


class PublicCommentStatus(LabelledEnum):
    OPEN = "open", "意見募集中"
    CLOSED = "closed", "意見募集終了"
    RESULTS_PUBLISHED = "results_published", "結果公表済"
    ABANDONED = "abandoned", "案の取下げ"


class Outcome(LabelledEnum):
    """結果. ``label`` is the wording printed in the minutes (DOMAIN §4), exactly."""

    APPROVED = "approved", "原案のとおり承認する。"
    APPROVED_WITH_AMENDMENTS = "approved_with_amendments", "原案を一部修正し承認する。"
    FORWARDED = "forwarded", "原案を上部庁議へ付議する"
    CONTINUED = "continued", "継続審議とする。"
    REMANDED = "remanded", "差し戻しとする。"
    NOTED = "noted", "報告のとおり了承する。"

    def wording(self, forward_to_name: str | None = None) -> str:
        """The result as 様式６ prints it, naming the higher meeting for ``forwarded``."""
        if self is Outcome.FORWARDED:
            return f"{self.label}（{forward_to_name or ''}）"
        return self.label

    @property
    def screen_label(self) -> str:
        """The result on a screen (options, lists): one ending rule, no 「。」 for any of them;
        the printed wordings (``label``, :meth:`wording`) stay as the minutes print them."""
        return self.label.removesuffix("。")

    def screen_wording(self, forward_to_name: str | None = None) -> str:
        """The result on a screen, naming the higher meeting for ``forwarded``."""
        if self is Outcome.FORWARDED:
            return f"{self.screen_label}（{forward_to_name or ''}）"
        return self.screen_label

    def form_wording(self, forward_to_name: str | None = None) -> str:
        """The result as the 様式２ 結果等 box prints it: 「原案を上部庁議へ付議する。（政策調整会議）」."""
        if self is Outcome.FORWARDED:
            return f"{self.label}。（{forward_to_name or ''}）"
        return self.label


class Role(LabelledEnum):
    DEPARTMENT = "department", "所管課職員"
    SECRETARIAT = "secretariat", "庁議事務局"
    VIEWER = "viewer", "職員"
    ADMIN = "admin", "システム管理者"


class PressRelease(LabelledEnum):
    NONE = "none", "なし"
    MATERIALS = "materials", "資料提供"
    PRESS_CONFERENCE = "press_conference", "記者発表"


class CouncilChannel(LabelledEnum):
    NONE = "none", "なし"
    COMMITTEE = "committee", "部会"
    ALL_MEMBERS = "all_members", "全員協議会"
    OTHER = "other", "その他"


class OrdinanceKind(LabelledEnum):
    NONE = "none", "なし"
    ORDINANCE = "ordinance", "条例"
    RULE = "rule", "規則"
    OTHER = "other", "その他"


class OrdinanceChange(LabelledEnum):
    ENACT = "enact", "制定"
    AMEND = "amend", "改正"
    ABOLISH = "abolish", "廃止"
    AMEND_ABOLISH = "amend_abolish", "改廃"


class SubmissionLabel(LabelledEnum):
    """The label of the ordinance's timing the department chose: 議会提案時期 (default) or 議会上程時期."""

    PROPOSAL = "proposal", "議会提案時期"
    PLACEMENT = "placement", "議会上程時期"


class CoordinationStatus(LabelledEnum):
    DONE = "done", "調整済"
    IN_PROGRESS = "in_progress", "調整中"
    NOT_STARTED = "not_started", "未調整"


class Handling(LabelledEnum):
    """対応区分 of a public-comment opinion (DOMAIN §5)."""

    REVISE = "revise", "案を修正"
    ALREADY_INCLUDED = "already_included", "既に記載"
    FUTURE_REFERENCE = "future_reference", "今後の参考"
    NOT_REFLECTED = "not_reflected", "反映しない"
    OTHER = "other", "その他"


class Disclosure(LabelledEnum):
    """公開範囲 of an agenda entry (DOMAIN §10, 情報公開条例)."""

    PUBLIC = "public", "公開"
    PARTIAL = "partial", "一部非公開"
    CLOSED = "closed", "非公開"


class PdfStatus(LabelledEnum):
    """Where a stored file's PDF edition stands (an Office file is converted by `flask worker`)."""

    NONE = "none", "PDFなし"
    PENDING = "pending", "PDFに変換中"
    READY = "ready", "PDF"
    FAILED = "failed", "変換できませんでした"


class JobStatus(LabelledEnum):
    """A job of `flask worker` (workflow.jobs)."""

    QUEUED = "queued", "待機中"
    RUNNING = "running", "実行中"
    DONE = "done", "完了"
    FAILED = "failed", "失敗"


# A state given as the reason something cannot be done, in words (「議事録が確定しているため、
# 変更できません。」), not its label in quotes (「「議事録確定」のため」).
_BECAUSE: dict[LabelledEnum, str] = {
    ItemStatus.DRAFT: "まだ申し込まれていないため",
    ItemStatus.SUBMITTED: "庁議事務局の受付を待っているため",
    ItemStatus.RETURNED: "差し戻されているため",
    ItemStatus.ACCEPTED: "会議への付議を待っているため",
    ItemStatus.SCHEDULED: "会議の議題に載っているため",
    ItemStatus.AMENDING: "修正版を作成しているところのため",
    ItemStatus.AMENDMENT_SUBMITTED: "修正版を確認しているところのため",
    ItemStatus.APPROVED: "承認されているため",
    ItemStatus.PUBLIC_COMMENT: "意見募集中のため",
    ItemStatus.PUBLIC_COMMENT_CLOSED: "意見募集が終了しているため",
    ItemStatus.CONCLUDED: "手続が完了しているため",
    ItemStatus.WITHDRAWN: "取り下げられているため",
    MeetingStatus.PLANNED: "まだ開催されていないため",
    MeetingStatus.HELD: "開催済みのため",
    MeetingStatus.CONFIRMED: "議事録が確定しているため",
    MeetingStatus.PUBLISHED: "議事録が公開されているため",
    MeetingStatus.CANCELLED: "中止されたため",
    PublicCommentStatus.OPEN: "意見募集中のため",
    PublicCommentStatus.CLOSED: "意見募集が終了しているため",
    PublicCommentStatus.RESULTS_PUBLISHED: "意見募集の結果が公表されているため",
    PublicCommentStatus.ABANDONED: "案が取り下げられているため",
}


def because(status: LabelledEnum) -> str:
    """*status* as the reason in a message: 「議事録が確定しているため」."""
    return _BECAUSE[status]
