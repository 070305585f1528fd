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
def unit_of_work() -> Iterator[None]:
    """Run the body and commit; any error rolls everything back.

    A lost race surfaces as StaleDataError (the version we read is gone) or, when two writers
    insert the same unique row, IntegrityError: both become :class:`Conflict` (409).
    """
    try:
        yield
        db.session.commit()
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        raise Conflict(CONFLICT_MESSAGE) from exc
    except BaseException:
        db.session.rollback()
        raise
