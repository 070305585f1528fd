"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired

from workflow.forms._validators import MaxLength, storable
from workflow.passwords import MAX_LENGTH as PASSWORD_MAX


class LoginForm(FlaskForm):
    login = StringField(
        "ログインID",
        validators=[DataRequired("ログインIDを入力してください。"), MaxLength(64), storable],
    )
    password = PasswordField(
        "パスワード",
        validators=[DataRequired("パスワードを入力してください。"), MaxLength(PASSWORD_MAX)],
    )
    submit = SubmitField("ログイン")
