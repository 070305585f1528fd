"""The April reshuffle files an admin sees on 人事異動の取込."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflow.models import UserImport

# Newest first, with who uploaded and who applied each in the same query; the page cuts it.
LIST_QUERY = (
    select(UserImport)
    .options(joinedload(UserImport.created_by), joinedload(UserImport.applied_by))
    .order_by(UserImport.created_at.desc(), UserImport.id.desc())
)
