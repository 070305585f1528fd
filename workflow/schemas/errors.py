"""The one error body of the API: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from typing_extensions import TypedDict


class ErrorDetails(TypedDict, total=False):
    """Structured details; which keys appear depends on the error."""

    fields: Annotated[dict[str, list[str]], Field(description="422: 項目 → メッセージ")]
    status: Annotated[str, Field(description="409: 現在の状態")]
    allowed_events: list[str]


class ErrorInfo(TypedDict):
    code: Annotated[
        str,
        Field(
            description="bad_request, unauthorized, forbidden, not_found, unknown_event, "
            "not_allowed_in_state, conflict, validation_failed, payload_too_large …"
        ),
    ]
    message: Annotated[str, Field(description="利用者向けの日本語のメッセージ")]
    details: ErrorDetails


class Error(TypedDict):
    error: ErrorInfo


def error_body(code: str, message: str, details: dict | None = None) -> Error:
    """The error body for *code* with its Japanese *message*."""
    return {"error": {"code": code, "message": message, "details": details or {}}}
