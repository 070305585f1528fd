"""/api/v1/me/…: what concerns the token's own user."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from workflow.api.common import bp, require_user
from workflow.queries.tasks import Task, tasks_for
from workflow.schemas.me import ItemTask, MeetingTask, TaskList


def task_json(task: Task) -> ItemTask | MeetingTask:
    """A task with exactly its keys: ``item_id`` or ``meeting_id``, never both."""
    subject = {"item_id": task.item_id} if task.item_id else {"meeting_id": task.meeting_id}
    return {
        "kind": task.kind,
        **subject,
        "title": task.title,
        "message": task.message,
        "url": task.url,
        "since": task.since.isoformat(),
    }


@bp.get("/me/tasks")
def my_tasks() -> ResponseReturnValue:
    """「対応が必要なもの」 of the token's user (401 without a token)."""
    user = require_user()
    body: TaskList = {"tasks": [task_json(task) for task in tasks_for(user)]}
    return jsonify(body)
