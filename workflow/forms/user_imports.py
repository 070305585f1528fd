"""The April reshuffle's pages: upload a CSV, then apply its preview.

The forms check what a form can (a file chosen, the box ticked); the file itself is read and
checked by :mod:`workflow.services.reshuffle`, as for the CLI and the API.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired


class UploadForm(FlaskForm):
    file = FileField(
        "CSVファイル",
        validators=[FileRequired("CSVファイルを選んでください。")],
        description="UTF-8 または Shift_JIS（Excel の「CSV（コンマ区切り）」）。"
        "1行目は見出し行 login,name,email,role,section,action。",
    )


class ApplyForm(FlaskForm):
    # The preview the admin saw: if another admin's attempt renewed it meanwhile, it is not
    # applied unseen.
    plan_digest = HiddenField()
    confirm = BooleanField(
        "上の内容で利用者を作成・更新・無効化してよい",
        validators=[DataRequired("確認のチェックを入れてください。")],
    )
