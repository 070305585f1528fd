"""Jobs for `flask worker`: slow work (an Office file's conversion to PDF, …) done outside the
request. A job is a row written in the same transaction as the change that needs it, so it is
never lost nor run for a change that rolled back."""

from __future__ import annotations

from typing import Any

from workflow.extensions import db
from workflow.models.job import Job


def enqueue(kind: str, **params: Any) -> Job:
    """Queue a job of *kind* with JSON *params* in the caller's transaction."""
    job = Job(kind=kind, params=params)
    db.session.add(job)
    return job
