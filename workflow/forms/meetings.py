"""Meetings: create one, build its agenda, and the meeting-room screen (one agenda entry)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, time

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, ValidationError

from workflow.forms._choices import options
from workflow.forms._validators import MaxLength, an_id
from workflow.schemas.limits import LINE_MAX, NAME_MAX, REASON_MAX, TEXT_MAX
from workflow.states.states import Disclosure, Outcome
from workflow.wareki import WarekiError, parse_wareki

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
ROOM_LISTS = ("attendance", "opinions")
ROOM_BLANK_ROWS = {
    "attendance": {"section": "", "deputy": False, "absent": False},
    "opinions": {"opinion": "", "response": "", "follow_up": "", "public": "1"},
}


def parse_date_field(text: str | None) -> date | None:
    """和暦 or ISO; raise ValidationError with the Japanese reason."""
    if not text or not text.strip():
        return None
    try:
        return parse_wareki(text)
    except WarekiError as exc:
        raise ValidationError(str(exc)) from None


class MeetingForm(FlaskForm):
    kind = SelectField("会議の種類", choices=[])
    date = StringField(
        "開催日",
        validators=[DataRequired("開催日を入力してください。"), MaxLength(LINE_MAX)],
        description="和暦（令和元年10月11日、R1.10.11）または 2019-10-11 の形で入力できます。",
    )
    number = StringField(
        "回数（第N回）",
        description="空欄なら、年度内の回数を開催日の順に自動で数えます"
        "（開催済・中止の会議と、回数を入れた会議の番号は変わらず、その番号は飛ばします）。",
        validators=[MaxLength(6)],
    )
    second_kind = SelectField(
        "兼ねて開く庁議",
        choices=[],
        default="",
        validate_choice=False,  # the service checks the kind (one message for page and API)
        description="例：関係課長会議に事務事業調整会議を選ぶと「関係課長会議兼事務事業調整会議」となり、"
        "議題の案件は両方の会議を経たものとなります。",
    )
    joint_name = StringField(
        "合同で開催する会議名（庁議以外）",
        validators=[MaxLength(NAME_MAX)],
        description="例：ＩＣＴ戦略調整会議（「…兼関係課長会議」となります）",
    )
    start_time = StringField("開始時刻", description="例：10:00", validators=[MaxLength(5)])
    venue = StringField("会場", validators=[MaxLength(LINE_MAX)])
    chair = StringField("議長", validators=[MaxLength(NAME_MAX)])

    def validate_date(self, field) -> None:
        self.parsed_date = parse_date_field(field.data)

    def validate_number(self, field) -> None:
        self.parsed_number = None
        text = (field.data or "").strip().translate(_FULLWIDTH_DIGITS)
        if text:
            if not text.isdigit() or int(text) < 1:
                raise ValidationError("回数は1以上の数字で入力してください。")
            self.parsed_number = int(text)

    def validate_start_time(self, field) -> None:
        self.parsed_time = None
        if field.data and field.data.strip():
            try:
                self.parsed_time = time.fromisoformat(field.data.strip().zfill(5))
            except ValueError:
                raise ValidationError("時刻は 10:00 の形で入力してください。") from None


class MeetingEditForm(MeetingForm):
    """A planned meeting's date, time, venue, chair and 第N回 (its kind stays)."""

    version = HiddenField()
    kind = None
    second_kind = None
    number = StringField(
        "回数（第N回）",
        description="空欄なら、年度内の回数を開催日の順に自動で数えます。"
        "数字を入れると、その回数に固定します。",
        validators=[MaxLength(6)],
    )


class CancelForm(FlaskForm):
    """中止: the reason is required (the service says so in the same words)."""

    version = HiddenField()
    reason = TextAreaField(
        "中止の理由",
        validators=[MaxLength(REASON_MAX)],
        description="議題の案件の所管課に、この理由を添えて通知します。",
    )


class ScheduleForm(FlaskForm):
    """Add an accepted item to the agenda."""

    item_id = IntegerField(validators=[DataRequired(), an_id()])
    presenter = StringField("説明者（職名）", validators=[MaxLength(NAME_MAX)])


class MoveForm(FlaskForm):
    version = HiddenField()
    item_id = IntegerField(validators=[DataRequired(), an_id()])


class AttendanceRowForm(Form):
    section = StringField("出席課・機関等", validators=[MaxLength(NAME_MAX)])
    deputy = BooleanField("代理出席（代）")
    absent = BooleanField("欠席（様式２に□で印刷）")


class OpinionRowForm(Form):
    opinion = TextAreaField("意見", validators=[MaxLength(TEXT_MAX)])
    response = TextAreaField("回答", validators=[MaxLength(TEXT_MAX)])
    follow_up = TextAreaField("その後の対応（→）", validators=[MaxLength(TEXT_MAX)])
    # The opinion's 公開 flag carried through an edit ("0": held back), set in the 公開範囲 form.
    public = HiddenField(default="1")


class DeliberationForm(FlaskForm):
    """One agenda entry in the meeting room: what was said, and the result."""

    version = HiddenField()
    presenter = StringField("説明者（職名）", validators=[MaxLength(NAME_MAX)])
    attendance = FieldList(FormField(AttendanceRowForm), label="出席課・機関等")
    opinions = FieldList(FormField(OpinionRowForm), label="主な意見等")
    special_notes = TextAreaField(
        "特記事項",
        description="なければ空欄（議事録には「なし」と印刷されます）。",
        validators=[MaxLength(TEXT_MAX)],
    )
    outcome = SelectField(
        "結果",
        choices=options([("", "（まだ決めない）")] + [(o.value, o.screen_label) for o in Outcome]),
        validate_choice=False,
    )
    forward_to = SelectField("付議する上部の会議", choices=[], validate_choice=False)
    # 関係課長会議: several 出席課 at once, pasted from a list (see with_pasted_attendance).
    attendance_paste = TextAreaField(
        "出席課をまとめて入力",
        description="課の名前を1行に1つ（または「、」「,」やタブで区切って）入力し、"
        "「まとめて追加」を押します。代理出席の課は名前の後に「（代）」を付けます。",
        validators=[MaxLength(TEXT_MAX)],
    )

    general_errors: list[str]

    def __init__(self, *args, forward_kinds=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.general_errors = []
        self.forward_to.choices = options(
            [("", "（選択してください）")] + [(k.code, k.name) for k in forward_kinds]
        )
        # No ladder kind further on the item's route: 「上部庁議へ付議」 cannot be chosen here.
        self.can_forward = bool(forward_kinds)
        if not self.can_forward:
            self.outcome.choices = [
                c for c in self.outcome.choices if c.value != Outcome.FORWARDED.value
            ]

    def validate_outcome(self, field) -> None:
        if field.data and field.data not in {o.value for o in Outcome}:
            raise ValidationError("結果を一覧から選んでください。")

    def validate_forward_to(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("付議する上部の会議を一覧から選んでください。")
        if self.outcome.data == Outcome.FORWARDED.value and not field.data:
            raise ValidationError("付議する上部の会議を選んでください。")

    def deliberation_data(self, with_attendance: bool) -> dict:
        """The mapping of services.meetings.record_deliberation (empty rows dropped)."""
        data = {
            "presenter": self.presenter.data or "",
            "special_notes": self.special_notes.data or "",
            "opinions": [
                {
                    "opinion": r["opinion"] or "",
                    "response": r["response"] or "",
                    "follow_up": r["follow_up"] or "",
                    "public": r.get("public") != "0",
                }
                for r in self.opinions.data
                if any((r[k] or "").strip() for k in ("opinion", "response", "follow_up"))
            ],
        }
        if with_attendance:
            data["attendance"] = [
                {
                    "section": (r["section"] or "").strip(),
                    "deputy": bool(r["deputy"]),
                    "present": not r["absent"],
                }
                for r in self.attendance.data
                if (r["section"] or "").strip()
            ]
        return data

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        """Messages keyed like ``opinions[2].opinion`` go beside the field (rows are kept in
        order, only empty ones dropped, so the n-th non-empty row is meant)."""
        import re

        for key, messages in fields.items():
            match = re.match(r"^(\w+)(?:\[(\d+)\])?(?:\.(\w+))?$", key)
            target = None
            singles = ("presenter", "special_notes", "outcome", "forward_to")
            if match and match[2] is None and match[1] in singles:
                target = self._fields[match[1]]
            elif match and match[1] in ROOM_LISTS and match[2] is not None:
                rows = [
                    e
                    for e in getattr(self, match[1]).entries
                    if any(isinstance(v, str) and v.strip() for v in e.form.data.values())
                ]
                n = int(match[2])
                if n < len(rows):
                    target = rows[n].form._fields.get(match[3] or "", None)
            if target is None:
                self.general_errors.extend(messages)
            else:
                target.errors = [*target.errors, *messages]


class DisclosureForm(FlaskForm):
    """公開範囲 of one agenda entry (DOMAIN §10), in the meeting room until publication. The
    opinions' 公開 checkboxes come as ``opinion_public`` (the 0-based numbers of those ticked)."""

    version = HiddenField()
    disclosure = SelectField(
        "公開範囲",
        choices=options([(d.value, d.label) for d in Disclosure]),
        validate_choice=False,
    )
    disclosure_reason = TextAreaField(
        "理由（情報公開条例の該当条項）",
        description="一部非公開・非公開のときは必ず入力します（例：第７条第２号該当）。",
        validators=[MaxLength(REASON_MAX)],
    )

    def __init__(self, *args, **kwargs) -> None:
        # Its own names and ids beside the record's form on the same page (pub-version, …).
        kwargs.setdefault("prefix", "pub")
        super().__init__(*args, **kwargs)

    def validate_disclosure(self, field) -> None:
        if field.data not in {d.value for d in Disclosure}:
            raise ValidationError("公開範囲を一覧から選んでください。")


class SimpleForm(FlaskForm):
    """A bare POST (hold, confirm, publish): CSRF and the version seen."""

    version = HiddenField()


# What separates the names pasted into 出席課をまとめて入力: lines, 「、」, commas, tabs.
_PASTE_SPLIT = re.compile(r"[\r\n\t、,，]+")
_DEPUTY = re.compile(r"\s*[（(]代[）)]\s*$")
_ATTENDANCE_KEY = re.compile(r"^attendance-(\d+)-(section|deputy|absent)$")


def _fold(name: str) -> str:
    """A name as compared: full-width and half-width alike, spaces ignored."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def with_pasted_attendance(
    formdata: MultiDict, known: Iterable[str]
) -> tuple[MultiDict, list[str], int, int]:
    """The room's posted *formdata* with the names of ``attendance_paste`` made into 出席課 rows.

    Each name is matched to a section of *known* (its spelling as the list has it); 「（代）」
    after a name marks a deputy (DOMAIN §2). Names already listed are not added twice; blank
    rows are dropped. Returns the new form data, the names not found (left in the box, one a
    line, for the user to correct), the number of rows added and the index of the first.
    """
    by_fold = {_fold(name): name for name in known}
    rows: dict[int, dict] = {}
    rest = MultiDict()
    for key, value in formdata.items(multi=True):
        match = _ATTENDANCE_KEY.match(key)
        if match:
            rows.setdefault(int(match[1]), {})[match[2]] = value
        elif key != "attendance_paste":
            rest.add(key, value)
    kept = [r for _, r in sorted(rows.items()) if (r.get("section") or "").strip()]
    listed = {_fold(r["section"]) for r in kept}
    unknown: list[str] = []
    first = len(kept)
    for token in _PASTE_SPLIT.split(formdata.get("attendance_paste", "")):
        text = token.strip(" \u3000")
        if not text:
            continue
        deputy = bool(_DEPUTY.search(text))
        name = by_fold.get(_fold(_DEPUTY.sub("", text)))
        if name is None:
            unknown.append(text)
        elif _fold(name) not in listed:
            listed.add(_fold(name))
            kept.append({"section": name, "deputy": "y"} if deputy else {"section": name})
    for i, row in enumerate(kept or [{"section": ""}]):
        for field in ("section", "deputy", "absent"):
            if row.get(field):
                rest.add(f"attendance-{i}-{field}", row[field])
        if not row.get("section"):
            rest.add(f"attendance-{i}-section", "")
    rest.add("attendance_paste", "\n".join(unknown))
    return rest, unknown, len(kept) - first, first
