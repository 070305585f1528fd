"""Meeting lists: the staff page (/meetings), ``GET /api/v1/meetings`` and the public index
share one filter (``kind``, ``fiscal_year``), one read rule (:func:`readable_meetings`) and one
order (newest first)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, or_, select

from workflow.extensions import db
from workflow.models import AgendaEntry, Meeting, User
from workflow.permissions import readable_meetings

NEWEST_FIRST = (Meeting.date.desc(), Meeting.id.desc())
# How many items a meeting's agenda holds, counted with the page of meetings.
ENTRY_COUNT = (
    select(func.count())
    .where(AgendaEntry.meeting_id == Meeting.id)
    .correlate(Meeting)
    .scalar_subquery()
    .label("entry_count")
)


def meeting_clauses(
    user: User | None, *, kind: str = "", fiscal_year: int = 0
) -> list[ColumnElement[bool]]:
    """The meetings *user* may see, of *kind* and *fiscal_year* where given."""
    clauses = [readable_meetings(user)]
    if kind:
        # A joint sitting (関係課長会議兼事務事業調整会議) is a meeting of both its kinds.
        clauses.append(or_(Meeting.kind == kind, Meeting.second_kind == kind))
    if fiscal_year:
        clauses.append(Meeting.fiscal_year == fiscal_year)
    return clauses


def meeting_ids(user: User | None, *, kind: str = "", fiscal_year: int = 0) -> Select:
    """The ids of the list, newest first; the caller cuts the page (OFFSET on ids alone, so the
    agendas of the meetings skipped are never counted)."""
    return (
        select(Meeting.id)
        .where(*meeting_clauses(user, kind=kind, fiscal_year=fiscal_year))
        .order_by(*NEWEST_FIRST)
    )


def with_entry_counts(ids: Select) -> list:
    """(meeting, entry_count) rows of the meetings whose ids *ids* selects, newest first."""
    page = ids.subquery()
    return db.session.execute(
        select(Meeting, ENTRY_COUNT).join(page, page.c.id == Meeting.id).order_by(*NEWEST_FIRST)
    ).all()


def meetings(user: User | None, *, kind: str = "", fiscal_year: int = 0) -> list[Meeting]:
    """Every meeting of the list (the API's list is not paged)."""
    return list(
        db.session.scalars(
            select(Meeting)
            .where(*meeting_clauses(user, kind=kind, fiscal_year=fiscal_year))
            .order_by(*NEWEST_FIRST)
        )
    )


def fiscal_years(user: User | None) -> list[int]:
    """The 年度 that have a meeting *user* may see, newest first."""
    return list(
        db.session.scalars(
            select(Meeting.fiscal_year)
            .where(readable_meetings(user))
            .distinct()
            .order_by(Meeting.fiscal_year.desc())
        )
    )
