"""The data model, one module per noun; importing this package registers every table."""

from workflow.models.agenda_entry import AgendaEntry, Attendance, Opinion
from workflow.models.attachment import Attachment, EntryAttachment, FileChunk, StoredFile
from workflow.models.history import HistoryEvent
from workflow.models.idempotency_key import IdempotencyKey
from workflow.models.item import (
    DEFAULT_ROUTE,
    Item,
    ItemCoordination,
    ItemDetail,
    ItemDiscussionPoint,
    ItemHistoryRow,
    ItemOpinionNote,
    ItemRouteStep,
)
from workflow.models.item_version import ItemVersion
from workflow.models.job import Job
from workflow.models.login_attempt import LoginAttempt
from workflow.models.meeting import Meeting
from workflow.models.meeting_kind import (
    DEFAULT_KINDS,
    MeetingKind,
    review_kinds,
    seed_meeting_kinds,
)
from workflow.models.notice import ClosedDay, Notice
from workflow.models.pdf_cache import PdfCache
from workflow.models.public_comment import PublicComment, PublicCommentOpinion
from workflow.models.room_draft import RoomDraft
from workflow.models.search_document import SearchDocument
from workflow.models.section import Section
from workflow.models.user import ApiToken, User, UserSession
from workflow.models.user_import import UserImport

__all__ = [
    "DEFAULT_KINDS",
    "DEFAULT_ROUTE",
    "AgendaEntry",
    "Attachment",
    "ApiToken",
    "ClosedDay",
    "Attendance",
    "EntryAttachment",
    "FileChunk",
    "HistoryEvent",
    "IdempotencyKey",
    "Item",
    "ItemCoordination",
    "ItemDetail",
    "ItemDiscussionPoint",
    "ItemHistoryRow",
    "ItemOpinionNote",
    "ItemRouteStep",
    "ItemVersion",
    "Job",
    "LoginAttempt",
    "Meeting",
    "MeetingKind",
    "Notice",
    "Opinion",
    "PdfCache",
    "PublicComment",
    "PublicCommentOpinion",
    "RoomDraft",
    "SearchDocument",
    "Section",
    "StoredFile",
    "User",
    "UserImport",
    "UserSession",
    "review_kinds",
    "seed_meeting_kinds",
]

from workflow.extensions import db  # noqa: E402

# SQLite reuses the id of the last row once it is deleted (or rolled back by `flask restore`)
# unless the table says AUTOINCREMENT; with it, sqlite_sequence remembers the highest id ever
# issued, so no id is issued twice. Set here for every table, new ones included; tables without
# a single integer key are left as they are by SQLAlchemy (migration c3a7e1f04b52).
for _table in db.metadata.tables.values():
    _table.dialect_kwargs["sqlite_autoincrement"] = True

# Last: the search index hooks the flush of the models above (workflow/search_index.py).
import workflow.search_index  # noqa: E402, F401, I001
