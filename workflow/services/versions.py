"""Versions of an item's 様式２ (DOMAIN §9), written: kept on submit and on each saved change,
frozen for an agenda entry when the item is scheduled.

Version 1 is the form as first submitted; each later saved change that alters a field is n + 1,
with a history row (``revise``) in the same transaction. An item filed before versions existed
gets its form as it stood as version 1 at its first later save or scheduling.
"""

from __future__ import annotations

from sqlalchemy import select

from workflow.extensions import db
from workflow.models import AgendaEntry, HistoryEvent, Item, ItemVersion, Meeting, User
from workflow.queries.item_view import form_parts
from workflow.queries.versions import form_fields
from workflow.services import attachments, notices

REVISE_EVENT = "revise"


def _latest(item: Item) -> ItemVersion | None:
    return db.session.scalar(
        select(ItemVersion)
        .where(ItemVersion.item_id == item.id)
        .order_by(ItemVersion.number.desc())
        .limit(1)
    )


def _add(item: Item, actor: User | None, number: int, fields: dict) -> ItemVersion:
    version = ItemVersion(
        item_id=item.id,
        number=number,
        created_by_id=actor.id if actor is not None else None,
        fields=fields,
    )
    db.session.add(version)
    db.session.flush()
    return version


def current_version(item: Item, actor: User | None) -> ItemVersion:
    """The latest version, made now from the form as it stands if the item has none yet."""
    latest = _latest(item)
    if latest is None:
        latest = _add(item, actor, 1, form_fields(item))
    return latest


def keep_revision(item: Item, actor: User | None) -> ItemVersion | None:
    """After a save: a new version if a field changed since the latest, with its history row."""
    fields = form_fields(item)
    latest = _latest(item)
    if latest is not None and latest.fields == fields:
        return None
    number = (latest.number if latest is not None else 0) + 1
    version = _add(item, actor, number, fields)
    row = HistoryEvent(
        item_id=item.id,
        actor_id=actor.id if actor is not None else None,
        event=REVISE_EVENT,
        from_state=item.status.value,
        to_state=item.status.value,
        params={"version_number": number},
    )
    db.session.add(row)
    db.session.flush()
    notices.announce(row)
    return version


def freeze(entry: AgendaEntry, item: Item, meeting: Meeting, actor: User | None) -> None:
    """Freeze the form filed for *meeting*: the current version, what the system fills in, and
    the 資料 attached now."""
    entry.form_version = current_version(item, actor)
    entry.frozen_parts = form_parts(item, meeting)
    attachments.freeze_into(entry, item)  # the 資料 it had (DOMAIN §10)
