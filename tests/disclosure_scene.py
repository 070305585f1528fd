"""The scene of tests/test_disclosure.py and tests/test_unpublish.py: one published meeting with
a 一部非公開 entry (one opinion held back) and a 非公開 one, each saying words distinctive enough
to look for in any answer."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from pypdf import PdfReader

from tests.factories import item_meeting_id, make_item, make_user
from workflow.extensions import db
from workflow.models import Item, Meeting, User
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role

# Words distinctive enough to find in any answer.
OPEN_TITLE = "公開案件アルファ"
OPEN_OPINION = "公開意見ホタル"
HELD_BACK = "伏せ意見ベータ"
HELD_BACK_RESPONSE = "伏せ回答ベータ"
CLOSED_TITLE = "秘匿案件ガンマ"
CLOSED_SUMMARY = "秘匿概要ゼータ"
CLOSED_OPINION = "秘匿意見デルタ"
CLOSED_NOTES = "秘匿特記イプシロン"
CLOSED_WORDS = (CLOSED_TITLE, CLOSED_SUMMARY, CLOSED_OPINION, CLOSED_NOTES)
PARTIAL_REASON = "第７条第２号該当"
CLOSED_REASON = "第７条第５号該当"


@dataclass
class Scene:
    secretariat: User
    viewer: User
    meeting: Meeting
    open_item: Item  # 一部非公開: one public opinion, one held back
    closed_item: Item  # 非公開, on no other meeting


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return _squeeze("".join(page.extract_text() for page in reader.pages))


def _record(secretariat, meeting, item, outcome="approved", **body):
    meetings.record_deliberation(secretariat, meeting, item, body)
    meetings.record_outcome(secretariat, meeting, item, outcome)


def build_scene(*, publish: bool = True) -> Scene:
    secretariat = make_user(Role.SECRETARIAT, login="sec")
    viewer = make_user(Role.VIEWER, login="viewer")
    department = make_user(Role.DEPARTMENT)
    open_item = make_item(
        ItemStatus.SCHEDULED, department=department, secretariat=secretariat, title=OPEN_TITLE
    )
    meeting = db.session.get(Meeting, item_meeting_id(open_item))
    closed_item = make_item(
        ItemStatus.ACCEPTED,
        department=department,
        secretariat=secretariat,
        title=CLOSED_TITLE,
        summary=CLOSED_SUMMARY,
    )
    meetings.schedule(secretariat, meeting, closed_item, "秘匿課長")
    _record(
        secretariat,
        meeting,
        open_item,
        opinions=[
            {"opinion": OPEN_OPINION, "response": "公開回答ホタル"},
            {"opinion": HELD_BACK, "response": HELD_BACK_RESPONSE, "public": False},
        ],
        disclosure="partial",
        disclosure_reason=PARTIAL_REASON,
    )
    _record(
        secretariat,
        meeting,
        closed_item,
        opinions=[{"opinion": CLOSED_OPINION}],
        special_notes=CLOSED_NOTES,
        disclosure="closed",
        disclosure_reason=CLOSED_REASON,
    )
    meetings.hold(secretariat, meeting)
    meetings.confirm(secretariat, meeting)
    if publish:
        meetings.publish(secretariat, meeting)
    db.session.commit()
    return Scene(secretariat, viewer, meeting, open_item, closed_item)
