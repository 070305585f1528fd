"""The signed-in user's own account: 「パスワード変更」, where a forced change also lands, and
「通知の受け取り方」 (e-mail and in-app, or in-app only)."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from workflow import sign_in_limits
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.forms.account import NoticeChoiceForm, PasswordChangeForm
from workflow.services import account, notices, transaction
from workflow.views.common import errors_onto_form

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | tuple[str, int]:
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _page(form), 422 if request.method == "POST" else 200
    # Checking the current password is a sign-in attempt like any other, counted and limited the
    # same way (this page sees no device cookie): a stolen session cannot guess the password.
    address = request.remote_addr or "unknown"
    attempt, wait = sign_in_limits.admit(current_user.login, address, None)
    if wait is not None:
        form.current_password.errors.append(sign_in_limits.too_many_attempts(wait))
        response = make_response(_page(form), 429)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        ended = account.change_password(
            current_user,
            current_user.current_session,
            form.current_password.data,
            form.new_password.data,
        )
        attempt.success = True
        transaction.commit()
    except ValidationFailed as error:
        db.session.rollback()
        if "current_password" not in error.fields:  # the password was right, the new one not
            attempt.success = True
            db.session.commit()
        errors_onto_form(form, error)
        return _page(form), 422
    message = "パスワードを変更しました。"
    if ended:
        message += f"ほかの端末のログイン（{ended}件）は終了しました。"
    flash(message, "success")
    return redirect(url_for("main.index"))


def _page(form: PasswordChangeForm) -> str:
    return render_template(
        "account/password.html", form=form, forced=current_user.must_change_password
    )


@bp.route("/notices", methods=["GET", "POST"])
@login_required
def notices_choice() -> Response | tuple[str, int]:
    """通知の受け取り方: by e-mail and on screen, or on screen only (User.notify_by_email)."""
    form = NoticeChoiceForm()
    if request.method == "GET":
        form.receive.data = "email" if current_user.notify_by_email else "screen"
    if not form.validate_on_submit():
        return _notices_page(form), 422 if request.method == "POST" else 200
    by_email = form.receive.data == "email"
    notices.set_mail_choice(current_user, by_email)
    transaction.commit()
    if by_email:
        message = "通知をメールと画面で受け取るようにしました。"
        if not current_user.email:
            message += "メールアドレスが登録されていないため、登録されるまでは画面だけに届きます。"
    else:
        message = "通知を画面だけで受け取るようにしました。"
    flash(message, "success")
    return redirect(url_for("account.notices_choice"))


def _notices_page(form: NoticeChoiceForm) -> str:
    return render_template("account/notices.html", form=form, mail_ready=notices.mail_configured())
