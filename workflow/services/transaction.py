"""One transaction per request: services flush, the caller commits once or rolls back whole."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from workflow.errors import Conflict
from workflow.extensions import db

CONFLICT_MESSAGE = (
    "ほかの人が同じ案件または会議を先に更新しました。"
    "画面を読み込み直してから、もう一度操作してください。"
)


@contextmanager
def _lost_race_is_conflict(message: str) -> Iterator[None]:
    """A lost race — StaleDataError (the version we read is gone) or IntegrityError (two writers
    inserting the same unique row), at a flush or at commit — rolls back and becomes Conflict."""
    try:
        yield
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        raise Conflict(message, {"reason": type(exc).__name__}) from exc


def commit(message: str = CONFLICT_MESSAGE) -> None:
    """Commit the one transaction; a lost race becomes :class:`Conflict` (409)."""
    with _lost_race_is_conflict(message):
        db.session.commit()


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Run the body and commit; a lost race in either is Conflict, any error rolls back whole."""
    try:
        with _lost_race_is_conflict(CONFLICT_MESSAGE):
            yield
            db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
