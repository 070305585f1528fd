"""Errors the workflow raises: each carries a Japanese message for users and a stable code."""

from __future__ import annotations

# What a user is told, on a page or from the API, when someone else changed the same record
# first: a stale version sent back, or a race lost at flush or commit. Nothing was saved.
CONFLICT_MESSAGE = (
    "ほかの人がこの内容を先に更新しました。この操作の内容は保存されていません。"
    "読み込み直してから、もう一度操作してください。"
)


# What a user is told when the connection was lost while the change was being committed: the
# database may or may not have kept it, and a blind retry could make it twice.
OUTCOME_UNKNOWN_MESSAGE = (
    "データベースとの接続が保存の途中で切れたため、この操作が保存されたかどうか確認できません。"
    "もう一度操作する前に、画面を読み込み直して（APIでは内容を取得し直して）保存されているか確認してください。"
    "APIでは同じ Idempotency-Key を付けて送り直せば、二重に保存されることはありません。"
)


class OutcomeUnknown(Exception):
    """The connection was lost during COMMIT: the change may or may not have been saved.

    Not a :class:`WorkflowError`: no page may treat it as a refusal and show its form again
    (reading the database to do so); workflow.faults answers it, 503 ``outcome_unknown``.
    """

    code = "outcome_unknown"
    http_status = 503

    def __init__(self) -> None:
        super().__init__(OUTCOME_UNKNOWN_MESSAGE)
        self.message = OUTCOME_UNKNOWN_MESSAGE


class WorkflowError(Exception):
    """Base class. ``message`` is shown to users; ``details`` is structured, for the API."""

    code = "workflow_error"
    http_status = 400

    def __init__(self, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(WorkflowError):
    code = "not_found"
    http_status = 404


class UnknownEvent(NotFound):
    """The event name (in a URL) is not one of this noun's events."""

    code = "unknown_event"


class Forbidden(WorkflowError):
    code = "forbidden"
    http_status = 403


class NotAllowedNow(WorkflowError):
    """The event does not exist for the current state: names the state and what is allowed."""

    code = "not_allowed_in_state"
    http_status = 409


class Conflict(WorkflowError):
    """Someone else changed the record first (stale version)."""

    code = "conflict"
    http_status = 409


class ValidationFailed(WorkflowError):
    """Input or a business rule (a guard) refused: ``details["fields"]`` maps field → messages."""

    code = "validation_failed"
    http_status = 422

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message, {"fields": fields or {}})
        self.fields = fields or {}

    @classmethod
    def field(cls, name: str, message: str) -> ValidationFailed:
        return cls(message, {name: [message]})


class TookTooLong(WorkflowError):
    """A read ran past its time limit (:func:`workflow.database.time_limit`) and was stopped."""

    code = "took_too_long"
    http_status = 503
