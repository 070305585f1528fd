"""The signed-in user's own account: 「パスワード変更」, where a forced change also lands."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.forms.account import PasswordChangeForm
from workflow.services import account, transaction
from workflow.views.common import errors_onto_form

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | tuple[str, int]:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            ended = account.change_password(
                current_user,
                current_user.current_session,
                form.current_password.data,
                form.new_password.data,
            )
            transaction.commit()
        except ValidationFailed as error:
            db.session.rollback()
            errors_onto_form(form, error)
            return _page(form), 422
        message = "パスワードを変更しました。"
        if ended:
            message += f"ほかの端末のログイン（{ended}件）は終了しました。"
        flash(message, "success")
        return redirect(url_for("main.index"))
    return _page(form), 422 if request.method == "POST" else 200


def _page(form: PasswordChangeForm) -> str:
    return render_template(
        "account/password.html", form=form, forced=current_user.must_change_password
    )
