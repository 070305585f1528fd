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


def commit(message: str = CONFLICT_MESSAGE) -> None:
    """Commit the one transaction; a lost race rolls it back and becomes :class:`Conflict` (409).

    A lost race surfaces as StaleDataError (the version we read is gone) or, when two writers
    insert the same unique row, IntegrityError.
    """
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        raise Conflict(message, {"reason": type(exc).__name__}) from exc


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Run the body and :func:`commit`; any error rolls everything back."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    commit()
