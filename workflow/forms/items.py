"""様式２ 「庁議案件申込書」: one form with every field of DOMAIN §3, producing the mapping that
:func:`workflow.services.items.file_item` / ``update_item`` take."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from workflow.forms._choices import options
from workflow.forms._validators import MaxLength
from workflow.models import Item, MeetingKind, Section
from workflow.schemas.limits import (
    CODE_MAX,
    LINE_MAX,
    NAME_MAX,
    POLICY_REF_MAX,
    REASON_MAX,
    TEXT_MAX,
    TITLE_MAX,
)
from workflow.services.item_fields import STANDARD_DETAIL_HEADINGS
from workflow.states.states import (
    CoordinationStatus,
    CouncilChannel,
    OrdinanceChange,
    OrdinanceKind,
    PressRelease,
    SubmissionLabel,
)
from workflow.wareki import to_wareki

YES_NO = [("yes", "あり"), ("no", "なし")]
ROW_LISTS = ("discussion_points", "history", "coordination", "details")
SUBMISSION_LABELS = {m.value: m.label for m in SubmissionLabel}
BLANK_ROWS: dict[str, Any] = {
    "discussion_points": "",
    "history": {"when": "", "meeting": "", "content": "", "remarks": ""},
    "coordination": {"department": "", "content": "", "status": "not_started"},
    "details": {"heading": "", "body": ""},
}


def _choices(enum_cls) -> list[tuple[str, str]]:
    return [(m.value, m.label) for m in enum_cls]


class HistoryRowForm(Form):
    when = StringField("時期", validators=[MaxLength(NAME_MAX)])
    meeting = StringField("打合せ・会議", validators=[MaxLength(LINE_MAX)])
    content = TextAreaField("内容", validators=[MaxLength(TEXT_MAX)])
    remarks = TextAreaField("備考", validators=[MaxLength(TEXT_MAX)])


class CoordinationRowForm(Form):
    department = StringField("関係部局", validators=[MaxLength(NAME_MAX)])
    content = TextAreaField("調整内容", validators=[MaxLength(TEXT_MAX)])
    status = SelectField(
        "調整状況",
        choices=options(_choices(CoordinationStatus)),
        default="not_started",
        validate_choice=False,
    )


class DetailRowForm(Form):
    heading = StringField("見出し", validators=[MaxLength(LINE_MAX)])
    body = TextAreaField("内容", validators=[MaxLength(TEXT_MAX)])


class OpinionNoteForm(Form):
    """所管課の追記 under one opinion of an earlier meeting (printed 「（→…）」)."""

    opinion_id = HiddenField()
    text = TextAreaField("追記（→…）", validators=[MaxLength(TEXT_MAX)])


class ItemForm(FlaskForm):
    version = HiddenField()
    title = StringField(
        "案件名", validators=[DataRequired("案件名を入力してください。"), MaxLength(TITLE_MAX)]
    )
    applied_on = StringField(
        "申込日",
        validators=[MaxLength(LINE_MAX)],
        description="和暦（令和元年10月8日、R1.10.8）または 2019-10-08 の形で入力できます。",
    )
    target_kind = SelectField("付議先（申込書の会議名）", choices=[], validate_choice=False)
    route = SelectMultipleField(
        "審議の経路（会議の種類）",
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )
    # In the page's order (局・区, 部, 課): the error summary lists the fields in this order.
    bureau = StringField("局・区", validators=[MaxLength(NAME_MAX)])
    division = StringField("部", validators=[MaxLength(NAME_MAX)])
    section = SelectField("課", choices=[], validate_choice=False)
    contact = StringField("担当者", validators=[MaxLength(NAME_MAX)])
    extension = StringField("内線", validators=[MaxLength(CODE_MAX)])
    policy_ref = StringField("施策番号及び実施計画事業名", validators=[MaxLength(POLICY_REF_MAX)])
    in_implementation_plan = RadioField(
        "実施計画の位置付け", choices=options(YES_NO), default="no", validate_choice=False
    )
    summary = TextAreaField("概要", validators=[MaxLength(TEXT_MAX)])
    discussion_points = FieldList(
        TextAreaField("論点", validators=[MaxLength(TEXT_MAX)]), label="審議内容（論点）"
    )
    history = FieldList(FormField(HistoryRowForm), label="検討経過等（打合せ・会議の経過）")
    public_comment_planned = RadioField(
        "パブリックコメント", choices=options(YES_NO), default="no", validate_choice=False
    )
    public_comment_period_text = StringField(
        "実施時期", description="例：令和元年12月～令和2年1月", validators=[MaxLength(LINE_MAX)]
    )
    press_release = RadioField(
        "報道への情報提供",
        choices=options(_choices(PressRelease)),
        default="none",
        validate_choice=False,
    )
    council_channel = SelectField(
        "議会への情報提供",
        choices=options(_choices(CouncilChannel)),
        default="none",
        validate_choice=False,
    )
    council_timing = StringField("時期", validators=[MaxLength(LINE_MAX)])
    council_regular_session = BooleanField(
        "定例会議", description="「〈時期〉定例会議」と印刷します。"
    )
    ordinance_kind = SelectField(
        "条例等の調整",
        choices=options(_choices(OrdinanceKind)),
        default="none",
        validate_choice=False,
    )
    ordinance_change = SelectField(
        "制定・改正等",
        choices=options([("", "（なし）"), *_choices(OrdinanceChange)]),
        default="",
        validate_choice=False,
    )
    ordinance_submission_label = SelectField(
        "時期の見出し",
        choices=options(_choices(SubmissionLabel)),
        default=SubmissionLabel.PROPOSAL.value,
        validate_choice=False,
    )
    ordinance_council_submission = StringField("議会提案時期", validators=[MaxLength(LINE_MAX)])
    advisory_body = RadioField(
        "審議会等、協議会等の設置", choices=options(YES_NO), default="no", validate_choice=False
    )
    personal_info_use = RadioField(
        "個人情報の目的外利用等", choices=options(YES_NO), default="no", validate_choice=False
    )
    coordination = FieldList(FormField(CoordinationRowForm), label="関係部局との調整")
    schedule_notes = TextAreaField("日程等調整事項", validators=[MaxLength(TEXT_MAX)])
    remarks = TextAreaField("備考", validators=[MaxLength(TEXT_MAX)])
    details = FieldList(FormField(DetailRowForm), label="事案の具体的な内容（裏面）")
    # One entry per opinion of the earlier meetings the page shows (see ``show_notes``).
    opinion_notes = FieldList(FormField(OpinionNoteForm), label="これまでの庁議での意見への追記")
    # Sent with 「保存して申し込む」 of a returned request, not part of the 様式２: the answer
    # to the return, kept on the history row (services.items.submit).
    comment = TextAreaField(
        "差戻しへの回答",
        validators=[MaxLength(REASON_MAX)],
        description="差戻しの理由にどう対応したかを書いてください。申込書を変更せずにもう一度"
        "申し込むときは必ず書いてください。庁議事務局に届き、案件の経過に残ります。",
    )

    # Messages from the service that belong to no single field.
    general_errors: list[str]

    def __init__(
        self,
        *args,
        kinds: list[MeetingKind],
        sections: list[str],
        opinion_ids: list[int] | None = None,
        kept_notes: list[dict[str, Any]] | None = None,
        **kwargs,
    ) -> None:
        """*opinion_ids*: the earlier opinions the page offers notes under (None: the section is
        not shown and ``opinion_notes`` is not sent). *kept_notes*: the item's notes under
        opinions the page does not show, sent back unchanged so that a save keeps them."""
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        self.general_errors = []
        self.show_notes = opinion_ids is not None
        self.kept_notes = list(kept_notes or [])
        if self.show_notes:
            self._offer_notes(opinion_ids or [])
        # 付議先 is a rung of the ladder: a review kind (事務事業調整会議) is passed on the way.
        self.target_kind.choices = options(
            [("", "（選択してください）")] + [(k.code, k.name) for k in kinds if not k.review]
        )
        self.section.choices = options([(s, s) for s in sections])
        self.route.choices = options([(k.code, k.name) for k in kinds])

    def _offer_notes(self, opinion_ids: list[int]) -> None:
        """One entry per offered opinion, in the page's order; entries for others are dropped."""
        posted = {}
        for entry in self.opinion_notes.entries:
            posted.setdefault(str(entry.form.opinion_id.data or ""), entry)
        # Entries keep their posted names; new ones are numbered after them (last_index).
        self.opinion_notes.entries = []
        for opinion_id in opinion_ids:
            entry = posted.get(str(opinion_id))
            if entry is None:
                entry = self.opinion_notes.append_entry({"opinion_id": opinion_id, "text": ""})
            else:
                self.opinion_notes.entries.append(entry)
            entry.form.opinion_id.data = str(opinion_id)

    def note_for(self, opinion_id: int):
        """The entry of *opinion_id*'s note (None when the page offers none)."""
        for entry in self.opinion_notes.entries:
            if entry.form.opinion_id.data == str(opinion_id):
                return entry
        return None

    @property
    def ordinance_timing_label(self) -> str:
        """The timing input's label: the heading chosen above it."""
        return SUBMISSION_LABELS.get(
            self.ordinance_submission_label.data or "", SubmissionLabel.PROPOSAL.label
        )

    # -- to and from the service's mapping -------------------------------------------------

    @staticmethod
    def data_from_item(item: Item, kinds: list[MeetingKind]) -> dict[str, Any]:
        """The form's data for an existing item."""
        yn = {True: "yes", False: "no"}
        route = set(item.route)
        return {
            "version": str(item.version),
            "title": item.title,
            "applied_on": to_wareki(item.applied_on, fullwidth=False) if item.applied_on else "",
            "target_kind": item.target_kind or "",
            "route": [k.code for k in kinds if k.code in route],
            "section": item.section.name,
            "bureau": item.bureau,
            "division": item.division,
            "contact": item.contact,
            "extension": item.extension,
            "policy_ref": item.policy_ref,
            "in_implementation_plan": yn[item.in_implementation_plan],
            "summary": item.summary,
            "discussion_points": [p.text for p in item.discussion_points] or [""],
            "history": [
                {"when": r.when, "meeting": r.meeting, "content": r.content, "remarks": r.remarks}
                for r in item.history_rows
            ],
            "public_comment_planned": yn[item.public_comment_planned],
            "public_comment_period_text": item.public_comment_period_text,
            "press_release": item.press_release.value,
            "council_channel": item.council_channel.value,
            "council_timing": item.council_timing,
            "council_regular_session": item.council_regular_session,
            "ordinance_kind": item.ordinance_kind.value,
            "ordinance_change": item.ordinance_change.value if item.ordinance_change else "",
            "ordinance_council_submission": item.ordinance_council_submission,
            "ordinance_submission_label": item.ordinance_submission_label.value,
            "advisory_body": yn[item.advisory_body],
            "personal_info_use": yn[item.personal_info_use],
            "coordination": [
                {"department": c.department, "content": c.content, "status": c.status.value}
                for c in item.coordination
            ],
            "schedule_notes": item.schedule_notes,
            "remarks": item.remarks,
            "details": [{"heading": d.heading, "body": d.body} for d in item.details],
            "opinion_notes": [
                {"opinion_id": str(n.opinion_id), "text": n.text} for n in item.opinion_notes
            ],
        }

    @staticmethod
    def blank_data(
        section: Section | None,
        *,
        today: date | None = None,
        route: list[str] | None = None,
        target_kind: str = "",
    ) -> dict[str, Any]:
        """A new request as the page pre-fills it (the API fills nothing): 局・区 and 部 of
        *section*, 申込日 *today*, the usual route and 付議先; the six standard back-side
        headings offered, one empty row each."""
        return {
            "section": section.name if section is not None else "",
            "bureau": section.bureau if section is not None else "",
            "division": section.division if section is not None else "",
            "applied_on": to_wareki(today, fullwidth=False) if today is not None else "",
            "route": list(route or []),
            "target_kind": target_kind,
            "discussion_points": [""],
            "history": [dict(BLANK_ROWS["history"])],
            "coordination": [dict(BLANK_ROWS["coordination"])],
            "details": [{"heading": h, "body": ""} for h in STANDARD_DETAIL_HEADINGS],
        }

    def to_service_data(self) -> dict[str, Any]:
        """The DOMAIN §3 mapping. Rows left wholly empty are dropped; ``_row_index`` remembers
        where the kept rows sit in the form, to put the service's messages beside them."""
        self._row_index: dict[str, list[int]] = {}
        # (``comment`` is not a 様式２ field: the view hands it to submit.)

        def kept(name: str, rows: list, is_empty) -> list:
            out, where = [], []
            for n, row in enumerate(rows):
                if not is_empty(row):
                    out.append(row)
                    where.append(n)
            self._row_index[name] = where
            return out

        def blank(row: dict, *keys: str) -> bool:
            return not any((row.get(k) or "").strip() for k in keys)

        yes = "yes"
        return {
            "title": self.title.data or "",
            "applied_on": (self.applied_on.data or "").strip() or None,
            "target_kind": self.target_kind.data or None,
            "route": [k.code for k in self.kinds if k.code in (self.route.data or [])],
            "section": self.section.data or "",
            "bureau": self.bureau.data or "",
            "division": self.division.data or "",
            "contact": self.contact.data or "",
            "extension": self.extension.data or "",
            "policy_ref": self.policy_ref.data or "",
            "in_implementation_plan": self.in_implementation_plan.data == yes,
            "summary": self.summary.data or "",
            "discussion_points": kept(
                "discussion_points",
                [p or "" for p in self.discussion_points.data],
                lambda p: not p.strip(),
            ),
            "history": kept(
                "history",
                self.history.data,
                lambda r: blank(r, "when", "meeting", "content", "remarks"),
            ),
            "public_comment": {
                "planned": self.public_comment_planned.data == yes,
                "period_text": self.public_comment_period_text.data or "",
            },
            "press_release": self.press_release.data,
            "council_report": {
                "channel": self.council_channel.data,
                "timing": self.council_timing.data or "",
                "regular_session": bool(self.council_regular_session.data),
            },
            "ordinance": {
                "kind": self.ordinance_kind.data,
                "change": self.ordinance_change.data or None,
                "council_submission": self.ordinance_council_submission.data or "",
                "submission_label": self.ordinance_submission_label.data
                or SubmissionLabel.PROPOSAL.value,
            },
            "advisory_body": self.advisory_body.data == yes,
            "personal_info_use": self.personal_info_use.data == yes,
            "coordination": kept(
                "coordination", self.coordination.data, lambda r: blank(r, "department", "content")
            ),
            "schedule_notes": self.schedule_notes.data or "",
            "remarks": self.remarks.data or "",
            "details": kept("details", self.details.data, lambda r: blank(r, "heading", "body")),
            **self._notes_data(kept),
        }

    def _notes_data(self, kept) -> dict[str, Any]:
        """``opinion_notes`` when the page offered them: the non-empty notes, then the notes the
        page did not show (kept as they are). Absent otherwise: a draft sends none."""
        if not self.show_notes:
            return {}
        typed = [
            {"opinion_id": _id(row.get("opinion_id")), "text": row.get("text") or ""}
            for row in self.opinion_notes.data
        ]
        notes = kept("opinion_notes", typed, lambda r: not r["text"].strip())
        return {"opinion_notes": [*notes, *self.kept_notes]}

    _NESTED = {
        ("public_comment", "planned"): "public_comment_planned",
        ("public_comment", "period_text"): "public_comment_period_text",
        ("council_report", "channel"): "council_channel",
        ("council_report", "timing"): "council_timing",
        ("council_report", "regular_session"): "council_regular_session",
        ("ordinance", "kind"): "ordinance_kind",
        ("ordinance", "change"): "ordinance_change",
        ("ordinance", "council_submission"): "ordinance_council_submission",
        ("ordinance", "submission_label"): "ordinance_submission_label",
    }
    _KEY = re.compile(r"^(\w+)(?:\[(\d+)\])?(?:\.(\w+))?$")

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        """Put the service's ``details["fields"]`` messages beside the fields they concern."""
        for key, messages in fields.items():
            field = self._field_for(key)
            if field is None:
                self.general_errors.extend(messages)
            else:
                field.errors = [*field.errors, *messages]

    def _field_for(self, key: str):
        match = self._KEY.match(key)
        if match is None:
            return None
        name, index, sub = match[1], match[2], match[3]
        if index is None:
            if sub is not None:
                name = self._NESTED.get((name, sub), "")
            return self._fields.get(name) if name not in ("csrf_token", "version") else None
        field = self._fields.get(name)
        if not isinstance(field, FieldList):
            return None
        where = getattr(self, "_row_index", {}).get(name)
        n = int(index)
        n = where[n] if where is not None and n < len(where) else n
        if n >= len(field.entries):
            return field
        entry = field.entries[n]
        if sub is None:
            return entry
        return entry.form._fields.get(sub) if isinstance(entry, FormField) else entry


def _id(value: Any) -> Any:
    """An opinion id as typed: digits as the number, anything else as sent (the service says
    what is wrong with it)."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() else text


class ReasonForm(FlaskForm):
    """差戻し・取下げ: a reason is required (DOMAIN §4)."""

    version = HiddenField()
    reason = TextAreaField(
        "理由", validators=[DataRequired("理由を入力してください。"), MaxLength(REASON_MAX)]
    )


class ActionForm(FlaskForm):
    """A bare state change (申込, 受付, 修正版の提出, 完了): CSRF and the version seen."""

    version = HiddenField()


class SubmitForm(ActionForm):
    """申込 from the item page: a returned request may carry the answer to the return."""

    comment = TextAreaField("差戻しへの回答", validators=[MaxLength(REASON_MAX)])


class ItemFilterForm(FlaskForm):
    """The item list's filters as the page shows them. The query string is read and checked by
    :class:`workflow.queries.items.ItemFilter`, as the API reads it; this form only renders it."""

    class Meta:
        csrf = False

    q = SearchField("案件名・概要")
    status = SelectField("状態", choices=[], default="")
    kind = SelectField("会議の種類", choices=[], default="")
    # Typed, with the sections offered as a datalist: a city has a few hundred of them.
    section = SearchField("所管課")
    fiscal_year = StringField("年度（申込日・西暦）")
    mine = BooleanField("自課の案件のみ", false_values=(False, "", "0", "false", "n", "off"))
