"""The April reshuffle on the admin pages (issue 18): upload a CSV, read its preview, apply it.

An upload with problems is shown back with every problem and its line number, and nothing is
stored; a clean one is kept with its preview (made in March, say) until an admin applies it (on
4月1日). Applying checks the file again: if users or sections changed since, the page shows the
new preview to confirm instead.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from workflow.errors import WorkflowError
from workflow.extensions import db
from workflow.forms.user_imports import ApplyForm, UploadForm
from workflow.models import UserImport
from workflow.permissions import is_admin
from workflow.queries import user_imports
from workflow.services import reshuffle, transaction
from workflow.services.reshuffle import Plan
from workflow.views.common import PER_PAGE, Page, flash_workflow_error, require

bp = Blueprint("admin_imports", __name__, url_prefix="/admin/imports")


@bp.before_request
@login_required
def admins_only() -> None:
    """Every page here is the admin's alone (others: 403)."""
    require(is_admin(current_user))


def _index(form: UploadForm, plan: Plan | None = None, status: int = 200):
    page = Page.requested()
    rows = list(db.session.scalars(page.cut(user_imports.LIST_QUERY)))
    return render_template(
        "admin/imports/index.html",
        form=form,
        plan=plan,
        imports=rows[:PER_PAGE],
        **page.context(rows, lambda n: url_for("admin_imports.index", page=n)),
    ), status


@bp.get("/")
def index():
    return _index(UploadForm(formdata=None))


@bp.post("/")
def upload():
    """Check the file; store it with its preview only when it is clean."""
    form = UploadForm()
    if not form.validate():
        return _index(form, status=422)
    file = form.file.data
    try:
        data = file.read()
    finally:
        file.close()
    try:
        text = reshuffle.read(data)
    except WorkflowError as error:
        form.file.errors = [error.message]
        return _index(form, status=error.http_status)
    plan = reshuffle.check(text, actor=current_user)
    if not plan.ok:
        db.session.rollback()
        return _index(form, plan, status=422)
    user_import = reshuffle.store(current_user, file.filename or "", data, text, plan)
    transaction.commit()
    flash("ファイルを確認しました。内容を確かめてから「適用する」を押してください。", "success")
    return redirect(url_for("admin_imports.show", import_id=user_import.id))


def _show(user_import: UserImport, form: ApplyForm, plan: Plan | None = None, status: int = 200):
    form.plan_digest.data = reshuffle.digest(user_import)  # the preview this page shows
    return render_template(
        "admin/imports/show.html",
        user_import=user_import,
        plan=reshuffle.preview(user_import),
        problems=plan.problems if plan else [],
        form=form,
    ), status


@bp.get("/<int:import_id>")
def show(import_id: int):
    return _show(db.get_or_404(UserImport, import_id), ApplyForm(formdata=None))


@bp.post("/<int:import_id>/apply")
def apply(import_id: int) -> Response | tuple[str, int]:
    user_import = db.get_or_404(UserImport, import_id)
    form = ApplyForm()
    if not form.validate():
        return _show(user_import, form, status=422)
    if form.plan_digest.data != reshuffle.digest(user_import):
        flash(reshuffle.STALE_MESSAGE, "error")
        return redirect(url_for("admin_imports.show", import_id=import_id))
    try:
        plan = reshuffle.apply(current_user, "web", user_import)
        transaction.commit()
    except reshuffle.StalePreview as stale:
        flash_workflow_error(stale)
        if not stale.plan.ok:
            # The file itself is now refused (a section retired, say): say why, apply nothing.
            return _show(user_import, ApplyForm(formdata=None), stale.plan, status=409)
        reshuffle.renew(user_import, stale.plan)
        transaction.commit()
        return redirect(url_for("admin_imports.show", import_id=import_id))
    except WorkflowError as error:
        flash_workflow_error(error)
        return redirect(url_for("admin_imports.show", import_id=import_id))
    flash(f"適用しました: {plan.summary()}", "success")
    return redirect(url_for("admin_imports.show", import_id=import_id))
