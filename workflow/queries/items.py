"""The item list: one filter and one query for the page (/items) and the API (GET /api/v1/items).

Both read the same query string with :meth:`ItemFilter.from_args`, so the same URL parameters mean
the same thing and give the same items in the same order (newest change first):

- ``status``: a state (``ItemStatus`` value);
- ``kind``: the kind of meeting the item waits for or sits in (``Item.level_kind``);
- ``q``: 案件名 and 概要, folded NFKC + casefold as search folds them (ＩＣＴ finds ict);
- ``section``: a section's name;
- ``fiscal_year``: the 年度 of 申込日;
- ``mine=1``: the reader's own section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, exists, false, func, select

from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import Item, MeetingKind, SearchDocument, Section, User
from workflow.permissions import readable_items
from workflow.queries.search import check_query
from workflow.schemas.limits import CODE_MAX, NAME_MAX, NUMBER_MAX, is_code, storable
from workflow.search_index import fold
from workflow.states.states import ItemStatus

# What ``q`` searches: the texts of these fields in search_documents (already folded).
Q_FIELDS = ("title", "summary")
_TRUE, _FALSE = frozenset({"1", "y", "on", "true"}), frozenset({"", "0", "n", "off", "false"})

_ITEMS, _SECTIONS, _KINDS = Item.__table__.c, Section.__table__.c, MeetingKind.__table__.c
# One row of the list as the page and the API show it: the tables' own columns, not ORM objects
# (a list builds no Item, Section or MeetingKind per row).
LIST_COLUMNS = (
    _ITEMS.id,
    _ITEMS.title,
    _SECTIONS.name.label("section_name"),
    _ITEMS.applied_on,
    _ITEMS.target_kind,
    _ITEMS.status,
    _ITEMS.level_kind,
    _KINDS.name.label("awaited_name"),
    _ITEMS.version,
    _ITEMS.updated_at,
    _ITEMS.late,
)
NEWEST_FIRST = (_ITEMS.updated_at.desc(), _ITEMS.id.desc())


@dataclass(frozen=True)
class ItemFilter:
    """What a reader asked the item list for (every field optional)."""

    q: str = ""
    status: ItemStatus | None = None
    kind: str | None = None
    section: str | None = None
    fiscal_year: int | None = None
    mine: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ItemFilter:
        """Read a query string; every wrong parameter at once as a Japanese ValidationFailed."""
        errors: dict[str, list[str]] = {}
        values: dict = {}

        def read(key: str, parse) -> None:
            raw = (args.get(key) or "").strip()
            if raw:
                try:
                    values[key] = parse(raw)
                except ValidationFailed as exc:
                    errors.update(exc.fields or {key: [exc.message]})

        read("q", check_query)
        read("status", _status)
        read("kind", _kind)
        read("section", _section)
        read("fiscal_year", _fiscal_year)
        mine = (args.get("mine") or "").strip().lower()
        if mine in _TRUE:
            values["mine"] = True
        elif mine not in _FALSE:
            errors["mine"] = ["1（自課の案件のみ）か 0 で指定してください。"]
        if errors:
            first = next(iter(errors.values()))[0]
            raise ValidationFailed(f"絞り込みの条件に誤りがあります: {first}", errors)
        return cls(**values)

    def args(self) -> dict[str, str]:
        """This filter as a query string (the inverse of :meth:`from_args`), empty fields left out."""
        out = {
            "q": self.q,
            "status": self.status.value if self.status else "",
            "kind": self.kind or "",
            "section": self.section or "",
            "fiscal_year": str(self.fiscal_year) if self.fiscal_year else "",
            "mine": "1" if self.mine else "",
        }
        return {k: v for k, v in out.items() if v}


def _status(raw: str) -> ItemStatus:
    try:
        return ItemStatus(raw)
    except ValueError:
        allowed = "、".join(f"{s.value}（{s.label}）" for s in ItemStatus)
        raise ValidationFailed.field("status", f"状態は次のいずれかです: {allowed}") from None


def _kind(raw: str) -> str:
    if not is_code(raw) or db.session.get(MeetingKind, raw) is None:
        raise ValidationFailed.field("kind", f"会議の種類「{raw[:CODE_MAX]}」はありません。")
    return raw


def _section(raw: str) -> str:
    if (
        len(raw) > NAME_MAX
        or not storable(raw, one_line=True)
        or db.session.scalar(_section_id(raw)) is None
    ):
        raise ValidationFailed.field("section", f"課「{raw[:NAME_MAX]}」は登録されていません。")
    return raw


def _fiscal_year(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= NUMBER_MAX):
        raise ValidationFailed.field(
            "fiscal_year", "年度は西暦の年（例: 2019）で指定してください。"
        )
    return int(raw)


def _section_id(name: str) -> Select:
    """The id of the section named *name*, as SQL: checked once when the filter is read, then
    part of the list's own statement (no second round trip)."""
    return select(Section.id).where(Section.name == name)


def filter_clauses(user: User | None, f: ItemFilter) -> list[ColumnElement[bool]]:
    """The WHERE of the list: what *user* may read, narrowed by *f*."""
    clauses = [readable_items(user)]
    if f.status is not None:
        clauses.append(Item.status == f.status)
    if f.kind:
        clauses.append(Item.level_kind == f.kind)
    if f.q:
        clauses.append(
            exists().where(
                SearchDocument.item_id == Item.id,
                SearchDocument.field.in_(Q_FIELDS),
                SearchDocument.folded.contains(fold(f.q), autoescape=True),
            )
        )
    if f.section:
        clauses.append(Item.section_id == _section_id(f.section).scalar_subquery())
    if f.fiscal_year:
        start = date(f.fiscal_year, 4, 1)
        clauses.append(Item.applied_on >= start)
        if f.fiscal_year < NUMBER_MAX:
            clauses.append(Item.applied_on < date(f.fiscal_year + 1, 4, 1))
    if f.mine:
        section_id = getattr(user, "section_id", None) if user is not None else None
        clauses.append(Item.section_id == section_id if section_id else false())
    return clauses


# The list's statement without its WHERE, built once (statements are immutable; each request
# adds its own WHERE and page to a copy).
LIST_QUERY = (
    select(*LIST_COLUMNS)
    .select_from(
        Item.__table__.join(Section.__table__, _SECTIONS.id == _ITEMS.section_id).outerjoin(
            MeetingKind.__table__, _KINDS.code == _ITEMS.level_kind
        )
    )
    .order_by(*NEWEST_FIRST)
)


def list_query(user: User | None, f: ItemFilter) -> Select:
    """The list's rows (:data:`LIST_COLUMNS`), newest change first; the caller cuts the page."""
    return LIST_QUERY.where(*filter_clauses(user, f))


def list_rows(user: User | None, f: ItemFilter, *, offset: int, limit: int) -> list:
    """Rows *offset* … *offset + limit* of the list."""
    return db.session.execute(list_query(user, f).offset(offset).limit(limit)).all()


def count(user: User | None, f: ItemFilter) -> int:
    """How many items the list holds in all."""
    return db.session.scalar(select(func.count(Item.id)).where(*filter_clauses(user, f))) or 0
