"""Sign-in form."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    login = StringField(
        "ログインID", validators=[DataRequired("ログインIDを入力してください。"), Length(max=64)]
    )
    password = PasswordField(
        "パスワード", validators=[DataRequired("パスワードを入力してください。"), Length(max=256)]
    )
    submit = SubmitField("ログイン")
