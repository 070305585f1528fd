"""What of a meeting's agenda and minutes one reader sees (DOMAIN §10), on top of the read rules
of :mod:`workflow.permissions` (never a copy of them): the pages, the API, search, open data and
the PDFs list entries and opinions through these.

The public edition of the minutes keeps each entry's number: a 非公開 entry is printed as
「（非公開案件）」 in its place, and an entry whose opinions were held back says 「（一部非公開）」.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.models import AgendaEntry, Meeting, Opinion, User
from workflow.permissions import can_read_entry, can_read_opinion

CLOSED_MARK = "（非公開案件）"
WITHHELD_MARK = "（一部非公開）"


class _FullEdition:
    """The reader of a document's full (staff) edition, named by callers that have no user at
    hand (a command that renders the minutes, a test): what the secretariat reads."""

    is_authenticated = False

    def __repr__(self) -> str:
        return "FULL_EDITION"


FULL_EDITION = _FullEdition()
Reader = User | None | _FullEdition


def is_public_reader(reader: Reader) -> bool:
    """No one signed in: the public, who reads the public edition."""
    if reader is FULL_EDITION:
        return False
    return reader is None or not getattr(reader, "is_authenticated", False)


def sees_entry(reader: Reader, entry: AgendaEntry) -> bool:
    """:func:`can_read_entry`, the full edition seeing every entry."""
    return reader is FULL_EDITION or can_read_entry(reader, entry)


def sees_opinion(reader: Reader, entry: AgendaEntry, opinion: Opinion) -> bool:
    """:func:`can_read_opinion`, the full edition reading every opinion."""
    return reader is FULL_EDITION or can_read_opinion(reader, entry, opinion)


def edition(reader: Reader) -> str:
    """Which edition of a document *reader* gets: ``public`` or ``staff`` (part of a PDF's
    cache key, so a staff edition is never served to the public)."""
    return "public" if is_public_reader(reader) else "staff"


def visible_entries(reader: User | None, meeting: Meeting) -> list[AgendaEntry]:
    """The agenda entries of *meeting* that *reader* sees, in the agenda's order."""
    return [e for e in meeting.entries if can_read_entry(reader, e)]


def visible_opinions(reader: Reader, entry: AgendaEntry) -> list[Opinion]:
    """The opinions of *entry* that *reader* may read, in their order."""
    return [o for o in entry.opinions if sees_opinion(reader, entry, o)]


@dataclass(frozen=True)
class MinutesEntry:
    """One entry of the minutes as *reader* reads them."""

    number: int  # １, ２ … as the agenda numbers it (kept when an entry is 非公開)
    entry: AgendaEntry
    closed: bool  # 非公開: print CLOSED_MARK in its place, nothing else
    opinions: list[Opinion]  # the opinions the reader may read
    withheld: bool  # some opinions were held back from the reader (一部非公開)


def minutes_entries(reader: Reader, meeting: Meeting) -> list[MinutesEntry]:
    """Every entry of *meeting*'s minutes (the caller has checked ``can_read_minutes``): staff
    read them all; the public reads a 非公開 entry as a mark and only the public opinions."""
    rows = []
    for entry in meeting.entries:
        number = entry.position + 1
        if not sees_entry(reader, entry):
            rows.append(MinutesEntry(number, entry, True, [], False))
            continue
        opinions = visible_opinions(reader, entry)
        rows.append(
            MinutesEntry(number, entry, False, opinions, len(opinions) < len(entry.opinions))
        )
    return rows
