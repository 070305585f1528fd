"""One transaction per request: services flush, the caller commits once or rolls back whole.

What the caller is told is what is true. A lost race, at a flush or at commit, rolls back and is
:class:`Conflict` (409). Any other error before COMMIT is sent rolls back whole: "not saved"
(workflow.faults). A connection lost while COMMIT is on its way is the one case nobody can know:
:class:`OutcomeUnknown` (503 ``outcome_unknown``), whose message says to check before retrying.

A commit leaves the loaded objects as they were committed (no expiry), so the answer — a page's
redirect and flash, the API's body — is made from what was committed, not by reading again over
a connection that may be gone by then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import g, has_request_context
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from workflow.errors import CONFLICT_MESSAGE, Conflict, OutcomeUnknown
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
    """Commit the request's one transaction, for pages and API alike.

    Every change is flushed first, so what can still fail at COMMIT is the commit itself. A lost
    race is :class:`Conflict`; a connection lost during COMMIT is :class:`OutcomeUnknown`.
    """
    session = db.session()  # the request's Session, behind the scoped proxy
    with _lost_race_is_conflict():
        db.session.flush()
    session.expire_on_commit = False
    try:
        with _lost_race_is_conflict():
            db.session.commit()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise  # the database refused the COMMIT: rolled back, "not saved" is true
        db.session.rollback()  # only discards: the connection is gone
        raise OutcomeUnknown() from exc
    finally:
        session.expire_on_commit = True
    if has_request_context():
        g.committed = True  # from here on, a failure must not say "not saved"


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
