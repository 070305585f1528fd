"""Answers of the search and of the published minutes as open data."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import WithJsonSchema
from typing_extensions import TypedDict

from workflow.queries.search import SEARCH_FIELDS
from workflow.schemas.types import Id, enum_value
from workflow.states.states import ItemStatus

MINUTES_COLUMNS = (
    "meeting_id",
    "meeting",
    "kind",
    "date",
    "item_id",
    "item",
    "opinion",
    "response",
    "follow_up",
    "outcome",
)

# One opinion of a published meeting per row; every column a string but the ids.
MinutesRow = TypedDict("MinutesRow", {c: Id if c.endswith("_id") else str for c in MINUTES_COLUMNS})


class MinutesDocument(TypedDict):
    columns: list[str]
    rows: list[MinutesRow]


class SearchHit(TypedDict):
    item_id: Id
    title: str
    status: enum_value(ItemStatus)
    status_label: str
    field: Annotated[Any, WithJsonSchema({"type": "string", "enum": list(SEARCH_FIELDS)})]
    snippet: str


class SearchResults(TypedDict):
    results: list[SearchHit]
