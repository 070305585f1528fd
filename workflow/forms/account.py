"""The signed-in user's own account: changing the password, how notices reach them."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField
from wtforms.validators import DataRequired, EqualTo, InputRequired, ValidationError

from workflow.forms._choices import options
from workflow.forms._validators import MaxLength
from workflow.passwords import MAX_LENGTH, MIN_LENGTH, password_problem


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "現在のパスワード",
        validators=[DataRequired("現在のパスワードを入力してください。"), MaxLength(MAX_LENGTH)],
    )
    new_password = PasswordField(
        "新しいパスワード",
        validators=[DataRequired("新しいパスワードを入力してください。")],
        description=f"{MIN_LENGTH}文字以上。よく使われるパスワードは使えません。",
    )
    new_password_again = PasswordField(
        "新しいパスワード（確認）",
        validators=[
            DataRequired("確認のため、新しいパスワードをもう一度入力してください。"),
            EqualTo("new_password", "新しいパスワードが確認欄と一致しません。"),
        ],
    )

    def validate_new_password(self, field: PasswordField) -> None:
        if problem := password_problem(field.data or ""):
            raise ValidationError(problem)


MAIL_CHOICES = [
    ("email", "メールと画面で受け取る"),
    ("screen", "画面だけで受け取る"),
]


class NoticeChoiceForm(FlaskForm):
    """How the user receives notices (User.notify_by_email)."""

    receive = RadioField(
        "通知の受け取り方",
        choices=options(MAIL_CHOICES),
        validators=[InputRequired("受け取り方を選んでください。")],
        validate_choice=False,  # checked below, in Japanese
    )

    def validate_receive(self, field: RadioField) -> None:
        if field.data not in dict(MAIL_CHOICES):
            raise ValidationError("受け取り方を選んでください。")
