"""The admin's screens: users, their API tokens, sections, meeting kinds, 閉庁日 and a meeting's
own 申込締切.

The forms check what a form can (required, length, a choice from the list, a number); the rules
(a unique login, the last admin, a section that may be merged) are workflow.services.admin's, for
the pages, the API and the CLI alike, and its messages go beside the same fields.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from workflow.forms._choices import options
from workflow.forms._validators import MaxLength, storable
from workflow.forms.meetings import parse_date_field
from workflow.models.login_attempt import LOGIN_MAX
from workflow.schemas.limits import (
    CODE_MAX,
    EMAIL_MAX,
    LINE_MAX,
    NAME_MAX,
    REASON_MAX,
    TOKEN_NAME_MAX,
)
from workflow.services.admin import CLOSED_DAY_NAME_MAX, DEADLINE_DAYS_MAX, LEVEL_MAX
from workflow.states.states import Role

ROLE_CHOICES = options((r.value, r.label) for r in Role)
NO_SECTION = ""
CONFIRM_MESSAGE = "「確認しました」にチェックを入れてください。"


def confirm_field() -> BooleanField:
    """The checkbox every destructive action asks for (無効にする, 統合, 廃止)."""
    return BooleanField("確認しました", validators=[DataRequired(CONFIRM_MESSAGE)])


def section_choices(sections) -> list:
    """A 課 select: the active sections by name, and 「（なし）」."""
    return options([(NO_SECTION, "（なし）"), *((str(s.id), s.name) for s in sections)])


class WholeNumberField(IntegerField):
    """A whole number, half- or full-width digits (「５」), with a Japanese message; the range
    is the service's rule."""

    def process_formdata(self, valuelist) -> None:
        text = valuelist[0].strip() if valuelist and valuelist[0] else ""
        self.data = None
        if text:
            try:
                self.data = int(text)  # int() reads full-width digits too
            except ValueError:
                raise ValueError(f"{self.label.text}は数字で入力してください。") from None


def number_field(label: str, **kw) -> WholeNumberField:
    return WholeNumberField(label, validators=[InputRequired(f"{label}を入力してください。")], **kw)


class _UserFields(FlaskForm):
    display_name = StringField(
        "表示名",
        validators=[DataRequired("表示名を入力してください。"), MaxLength(NAME_MAX), storable],
    )
    email = StringField(
        "メールアドレス",
        validators=[MaxLength(EMAIL_MAX), storable],
        description="通知の送り先です。空欄なら画面上のお知らせだけになります。",
    )
    role = SelectField("役割", choices=ROLE_CHOICES)
    section = SelectField(
        "課",
        choices=[],
        validate_choice=False,  # the view turns the id into a Section (an unknown id: an error)
        description="所管課職員は必ず課を選びます。",
    )

    def validate_role(self, field) -> None:
        if field.data not in {r.value for r in Role}:
            raise ValidationError("役割を一覧から選んでください。")


class UserForm(_UserFields):
    """表示名・メールアドレス・役割・課 of an existing user."""


class NewUserForm(_UserFields):
    login = StringField(
        "ログインID",
        validators=[DataRequired("ログインIDを入力してください。"), MaxLength(LOGIN_MAX), storable],
        description="半角英数字。後から変えることはできません。",
    )


class DisableForm(FlaskForm):
    reason = StringField("理由", validators=[MaxLength(REASON_MAX), storable])
    confirm = confirm_field()


class TokenForm(FlaskForm):
    name = StringField(
        "名前",
        validators=[MaxLength(TOKEN_NAME_MAX), storable],
        description="何に使うトークンか（例：議事録取込スクリプト）。",
    )
    days = WholeNumberField("有効日数", description="空欄なら既定の日数（365日）です。")
    # The id of the user's newest token when the page was drawn (0: none): a resubmitted form
    # (a reload of the result page) no longer matches and issues nothing.
    newest = HiddenField(validators=[InputRequired()])


class ButtonForm(FlaskForm):
    """A bare POST (有効にする, パスワードをリセット, 失効, …): CSRF only."""


class ResetPasswordForm(FlaskForm):
    """「パスワードをリセット」: a digest of the password it resets, so that a resubmitted form
    (a reload of the result page) resets nothing."""

    stamp = HiddenField(validators=[InputRequired()])


class UnlockLoginForm(FlaskForm):
    """「ロック解除」 beside an account under attack, named by its login ID."""

    login = HiddenField(validators=[DataRequired(), MaxLength(LOGIN_MAX)])


# -- sections ------------------------------------------------------------------------------------


def _place_fields():
    return (
        StringField("局・区", validators=[MaxLength(NAME_MAX), storable]),
        StringField("部", validators=[MaxLength(NAME_MAX), storable]),
    )


class SectionForm(FlaskForm):
    name = StringField(
        "課の名前",
        validators=[DataRequired("課の名前を入力してください。"), MaxLength(NAME_MAX), storable],
    )
    bureau, division = _place_fields()


class RenameSectionForm(FlaskForm):
    name = StringField(
        "新しい名前",
        validators=[DataRequired("新しい名前を入力してください。"), MaxLength(NAME_MAX), storable],
        description="これまでに作られた様式２・議事録には、その時の名前が残ります。",
    )


class MoveSectionForm(FlaskForm):
    bureau, division = _place_fields()


class MergeSectionForm(FlaskForm):
    into = SelectField("統合先の課", choices=[], validate_choice=False)
    confirm = confirm_field()

    def validate_into(self, field) -> None:
        if not field.data or field.data not in {c.value for c in field.choices}:
            raise ValidationError("統合先の課を一覧から選んでください。")


class RetireSectionForm(FlaskForm):
    confirm = confirm_field()


# -- meeting kinds -------------------------------------------------------------------------------


class MeetingKindForm(FlaskForm):
    name = StringField(
        "名称",
        validators=[DataRequired("名称を入力してください。"), MaxLength(100), storable],
    )
    level = number_field(
        "レベル",
        description=f"1から{LEVEL_MAX}までの数字。小さいほど下位の会議です"
        "（関係課長会議 1 … 政策決定会議 4）。",
    )
    sort_order = number_field("表示順")
    review = BooleanField(
        "事前調整の会議",
        description="上部庁議へ向かう途中で経る会議（事務事業調整会議など）。様式２の審議日欄には印刷されません。",
    )
    deadline_days = number_field(
        "申込締切（開庁日数）",
        description=f"会議の何開庁日前までに申し込むか（0から{DEADLINE_DAYS_MAX}まで。0は当日）。",
    )


class NewMeetingKindForm(MeetingKindForm):
    code = StringField(
        "コード",
        validators=[DataRequired("コードを入力してください。"), MaxLength(CODE_MAX), storable],
        description="英小文字で始まる英小文字・数字・_（例：ict_strategy）。後から変えることはできません。",
    )


# -- 閉庁日 and a meeting's own 申込締切 (issue 19) ---------------------------------------------------

DATE_HINT = "和暦（令和8年5月1日、R8.5.1）または 2026-05-01 の形で入力できます。"


class ClosedDayForm(FlaskForm):
    day = StringField(
        "日付",
        validators=[DataRequired("閉庁日の日付を入力してください。"), MaxLength(LINE_MAX)],
        description=DATE_HINT,
    )
    name = StringField(
        "名称",
        validators=[
            DataRequired("名称を入力してください。"),
            MaxLength(CLOSED_DAY_NAME_MAX),
            storable,
        ],
        description="例：市制記念日",
    )

    def validate_day(self, field) -> None:
        self.parsed_day = parse_date_field(field.data)


class MeetingDeadlineForm(FlaskForm):
    """An empty date (or 「種類の決まりに戻す」) takes the meeting back to its kind's rule."""

    submission_deadline = StringField(
        "この会議の申込締切",
        validators=[MaxLength(LINE_MAX)],
        description=DATE_HINT + "空にすると会議の種類の決まり（開庁日数）に戻ります。",
    )

    def validate_submission_deadline(self, field) -> None:
        self.parsed_deadline = parse_date_field(field.data)
