"""One transaction per request: services flush, the caller commits once or rolls back whole."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from workflow.errors import CONFLICT_MESSAGE, Conflict
from workflow.extensions import db


@contextmanager
def _lost_race_is_conflict() -> Iterator[None]:
    """A lost race — StaleDataError (the version we read is gone) or IntegrityError (two writers
    inserting the same unique row), at a flush or at commit — rolls back and becomes Conflict."""
    try:
        yield
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        raise Conflict(CONFLICT_MESSAGE, {"reason": type(exc).__name__}) from exc


def commit() -> None:
    """Commit the request's one transaction, for pages and API alike: a lost race rolls back and
    becomes :class:`Conflict` (409) with :data:`CONFLICT_MESSAGE`."""
    with _lost_race_is_conflict():
        db.session.commit()


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Run the body and commit; a lost race in either is Conflict, any error rolls back whole."""
    try:
        with _lost_race_is_conflict():
            yield
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
