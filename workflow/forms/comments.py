"""パブリックコメント screens: open the period, record opinions, answer them, publish results."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired

from workflow.forms._choices import options
from workflow.forms._validators import MaxLength
from workflow.schemas.limits import LINE_MAX, REASON_MAX, SUBMITTER_KIND_MAX, TEXT_MAX
from workflow.states.states import Handling


class OpenForm(FlaskForm):
    version = HiddenField()
    published_on = StringField(
        "公示日", validators=[DataRequired("公示日を入力してください。"), MaxLength(LINE_MAX)]
    )
    closes_on = StringField(
        "締切日", validators=[DataRequired("締切日を入力してください。"), MaxLength(LINE_MAX)]
    )
    how_to_submit = TextAreaField(
        "意見の提出方法",
        validators=[DataRequired("提出方法を入力してください。"), MaxLength(REASON_MAX)],
    )
    shortened_reason = TextAreaField(
        "30日未満とする理由",
        description="意見提出期間が公示日から30日未満のときだけ入力します（行政手続法第40条第1項）。",
        validators=[MaxLength(REASON_MAX)],
    )


class OpinionForm(FlaskForm):
    submitter_kind = StringField(
        "提出者の区分",
        description="例：個人、団体、事業者",
        validators=[MaxLength(SUBMITTER_KIND_MAX)],
    )
    summary = TextAreaField(
        "意見の概要",
        validators=[DataRequired("意見の概要を入力してください。"), MaxLength(TEXT_MAX)],
    )


class AnswerForm(FlaskForm):
    number = HiddenField()
    city_view = TextAreaField("市の考え方", validators=[MaxLength(TEXT_MAX)])
    handling = SelectField(
        "対応区分",
        choices=options([("", "（選択してください）")] + [(h.value, h.label) for h in Handling]),
    )


class ResultsForm(FlaskForm):
    version = HiddenField()
    changes_made = TextAreaField("案の修正内容とその理由", validators=[MaxLength(TEXT_MAX)])


class BareForm(FlaskForm):
    version = HiddenField()
