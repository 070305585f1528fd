"""/api/v1/admin/user-imports: the April reshuffle for an admin token (issue 18).

POST a CSV (multipart ``file``): 201 with its preview, or 422 with every problem and its line,
nothing stored. POST …/{id}/apply applies it after checking it again: if users or sections
changed since the preview, 409 with the new preview, which becomes the one to apply.
"""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from workflow.api.common import bp, require_admin, written
from workflow.api.serializers import iso
from workflow.errors import NotFound, ValidationFailed
from workflow.extensions import db
from workflow.models import UserImport
from workflow.schemas.limits import ID_MAX
from workflow.schemas.user_imports import UserImport as UserImportAnswer
from workflow.services import reshuffle, transaction

PROBLEMS_MESSAGE = (
    "ファイルに問題があります。details.problems の各行を直して、もう一度送ってください。"
)


def _import(import_id: int) -> UserImport:
    row = db.session.get(UserImport, import_id) if 1 <= import_id <= ID_MAX else None
    if row is None:
        raise NotFound("指定された取込はありません。", {"id": import_id})
    return row


def user_import_json(row: UserImport) -> UserImportAnswer:
    return {
        "id": row.id,
        "filename": row.filename,
        "sha256": row.sha256,
        "created_at": iso(row.created_at),
        "created_by": row.created_by.login if row.created_by else None,
        "applied_at": iso(row.applied_at),
        "applied_by": row.applied_by.login if row.applied_by else None,
        "summary": reshuffle.preview(row).summary(),
        "plan": row.plan,
        "problems": [],
    }


@bp.post("/admin/user-imports")
def create_user_import() -> ResponseReturnValue:
    user = require_admin()
    file = request.files.get("file")
    if file is None:
        raise ValidationFailed.field("file", "CSVファイル（file）を送ってください。")
    try:
        data = file.read()
    finally:
        file.close()
    text = reshuffle.read(data)
    plan = reshuffle.check(text, actor=user)
    if not plan.ok:
        failed = ValidationFailed(PROBLEMS_MESSAGE)
        failed.details["problems"] = plan.problems_json()
        raise failed
    row = reshuffle.store(user, file.filename or "", data, text, plan)
    return written(lambda: user_import_json(row), 201)


@bp.get("/admin/user-imports/<int:import_id>")
def get_user_import(import_id: int) -> ResponseReturnValue:
    require_admin()
    return user_import_json(_import(import_id))


@bp.post("/admin/user-imports/<int:import_id>/apply")
def apply_user_import(import_id: int) -> ResponseReturnValue:
    user = require_admin()
    row = _import(import_id)
    try:
        reshuffle.apply(user, "api", row)
    except reshuffle.StalePreview as stale:
        db.session.rollback()
        if stale.plan.ok:
            reshuffle.renew(row, stale.plan)  # the new preview, to read and apply again
            transaction.commit()
        raise
    return written(lambda: user_import_json(row))
