"""資料 on the item and meeting pages: add, edit (title, 公開), move, replace, remove.

The forms check what a form can (a file chosen, a title's length); the file itself is checked by
:func:`workflow.files.check_upload` and the rules by :mod:`workflow.services.attachments`, as for
the API.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from workflow.schemas.limits import LINE_MAX

TITLE_HINT = "省略するとファイル名になります。"


class AddAttachmentForm(FlaskForm):
    file = FileField(
        "ファイル",
        validators=[FileRequired("ファイルを選んでください。")],
        description="PDF・Word・Excel・PowerPoint・PNG・JPEG",
    )
    title = StringField(
        "資料名",
        validators=[
            Optional(),
            Length(max=LINE_MAX, message=f"{LINE_MAX}文字以内で入力してください。"),
        ],
        description=TITLE_HINT,
    )
    public = BooleanField("公開する", default=True)


class EditAttachmentForm(FlaskForm):
    title = StringField(
        "資料名",
        validators=[
            DataRequired("資料名を入力してください。"),
            Length(max=LINE_MAX, message=f"{LINE_MAX}文字以内で入力してください。"),
        ],
    )
    public = BooleanField("公開する")


class MoveAttachmentForm(FlaskForm):
    direction = HiddenField(
        validators=[AnyOf(["up", "down"], message="移動の向きが正しくありません。")]
    )


class ReplaceAttachmentForm(FlaskForm):
    file = FileField("新しいファイル", validators=[FileRequired("ファイルを選んでください。")])


class RemoveAttachmentForm(FlaskForm):
    confirm = BooleanField(
        "この資料を外してよい",
        validators=[DataRequired("確認のチェックを入れてください。")],
    )
