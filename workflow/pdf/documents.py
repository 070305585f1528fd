"""The official documents: each builds a plain context from the models, then renders or reuses it.

Pure functions of the records (no Flask request), used by pages and the API inside an app
context. A document's cache key and ETag are the hash of its context, so any change to what it
prints — the meeting, an item, an opinion, the meeting's status (「案」) — gives a new key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from urllib.parse import quote

import sqlalchemy as sa

from workflow.extensions import db
from workflow.models import Item, Meeting, MeetingKind, PublicComment, User
from workflow.pdf import cache
from workflow.pdf.render import render_pdf, templates_digest
from workflow.queries.item_view import item_view
from workflow.states.states import (
    CouncilChannel,
    MeetingStatus,
    OrdinanceChange,
    OrdinanceKind,
    PressRelease,
    PublicCommentStatus,
)
from workflow.wareki import to_fullwidth_digits

__all__ = [
    "PdfDocument",
    "agenda_context",
    "agenda_pdf",
    "comment_results_context",
    "comment_results_pdf",
    "minutes_context",
    "minutes_pdf",
    "request_form_context",
    "request_form_pdf",
]

_WEEKDAYS = "月火水木金土日"
_MINUTES_FINAL = (MeetingStatus.CONFIRMED, MeetingStatus.PUBLISHED)


@dataclass(frozen=True, slots=True)
class PdfDocument:
    """A rendered document: the bytes, their ETag (the content hash) and a download name."""

    content: bytes
    etag: str
    filename: str
    cached: bool  # True when another request (or process) had rendered it already

    def content_disposition(self, disposition: str = "attachment") -> str:
        """The header value: an ASCII fallback name and the Japanese one (RFC 6266/8187).

        HTTP headers are Latin-1; gunicorn refuses a raw Japanese file name with a 500.
        """
        return f"{disposition}; filename=document.pdf; filename*=UTF-8''{quote(self.filename)}"


def _produce(kind: str, template: str, context: dict, filename: str) -> PdfDocument:
    key = cache.content_key(kind, templates_digest(), context)
    content = cache.lookup(key)
    if content is not None:
        return PdfDocument(content, key, filename, cached=True)
    meta = context["meta"]
    content = render_pdf(template, context, created=meta["created"], modified=meta["modified"])
    cache.store(key, kind, content)
    return PdfDocument(content, key, filename, cached=False)


def _filename(*parts: str) -> str:
    return "".join(parts).replace(" ", "").replace("\u3000", "") + ".pdf"


# ---------------------------------------------------------------------------- 様式６ minutes


def minutes_context(meeting: Meeting) -> dict:
    """What the 様式６ minutes print (DOMAIN §6); 「案」 until the meeting is confirmed."""
    entries = []
    for entry in meeting.entries:
        entries.append(
            {
                "title": entry.item.title,
                "presenter": entry.presenter,
                "opinions": [
                    {"opinion": o.opinion, "response": o.response, "follow_up": o.follow_up}
                    for o in entry.opinions
                ],
                "outcome": entry.outcome_text,
                "special_notes": entry.special_notes.strip(),
            }
        )
    title = f"{meeting.title} 議事録"
    return {
        "doc_title": title,
        "form_label": "（様式６）",
        "draft": meeting.status not in _MINUTES_FINAL,
        "meeting_title": meeting.title,
        "date": meeting.date,
        "entries": entries,
        "meta": {"created": meeting.date, "modified": meeting.updated_at},
    }


def minutes_pdf(meeting: Meeting) -> PdfDocument:
    """様式６ 議事録 of *meeting* as PDF (rendered, or from the cache)."""
    context = minutes_context(meeting)
    draft = "（案）" if context["draft"] else ""
    return _produce("minutes", "minutes.html", context, _filename(meeting.title, "議事録", draft))


# ---------------------------------------------------------------------------- 次第


def _time_text(value: time | None) -> str:
    """「午前９時３０分」; 「正午」; empty for no time."""
    if value is None:
        return ""
    if (value.hour, value.minute) == (12, 0):
        return "正午"
    half = "午前" if value.hour < 12 else "午後"
    hour = value.hour if value.hour <= 12 else value.hour - 12
    minute = f"{value.minute}分" if value.minute else ""
    return to_fullwidth_digits(f"{half}{hour}時{minute}")


def agenda_context(meeting: Meeting) -> dict:
    """What a meeting's 次第 prints: title, date, time, venue, the items in order."""
    times = ""
    if meeting.start_time:
        times = f"{_time_text(meeting.start_time)}～{_time_text(meeting.end_time)}"
    items = []
    for entry in meeting.entries:
        item = entry.item
        items.append(
            {
                "title": item.title,
                "owner": " ".join(p for p in (item.bureau, item.division, item.section.name) if p),
                "presenter": entry.presenter,
            }
        )
    title = f"{meeting.title} 次第"
    return {
        "doc_title": title,
        "form_label": "",
        "draft": False,
        "meeting_title": meeting.title,
        "date": meeting.date,
        "weekday": _WEEKDAYS[meeting.date.weekday()],
        "time": times,
        "venue": meeting.venue,
        "chair": meeting.chair,
        "items": items,
        "meta": {"created": meeting.date, "modified": meeting.updated_at},
    }


def agenda_pdf(meeting: Meeting) -> PdfDocument:
    """The 次第 of *meeting* as PDF."""
    return _produce(
        "agenda", "agenda.html", agenda_context(meeting), _filename(meeting.title, "次第")
    )


# ---------------------------------------------------------------------------- 様式２ request


def _choices(enum_cls, selected) -> list[list]:
    """[[label, chosen], …] for a row of ■/□ boxes."""
    return [[member.label, member == selected] for member in enum_cls]


def _yes_no(value: bool) -> list[list]:
    return [["あり", bool(value)], ["なし", not value]]


def request_form_context(item: Item, *, reader: User | None = None) -> dict:
    """What 様式２ prints: every typed field, and what the system derives from the meetings.

    The derived fields show *reader* only what the API's item_json shows them: 審議日 of the
    meetings they may see, and what was said and decided only where they may read the minutes.
    None is the public; the secretariat reads everything.
    """
    kinds = db.session.scalars(sa.select(MeetingKind).order_by(MeetingKind.sort_order)).all()
    view = item_view(reader, item)
    reviewed = view.review_dates
    target = item.target.name if item.target else ""
    # The form printed for its target meeting quotes only the meetings before it.
    prior = view.prior_opinions(before=view.target_meeting)
    title = f"庁議（{target}）案件申込書" if target else "庁議案件申込書"
    return {
        "doc_title": title,
        "form_label": "（様式２）",
        "draft": False,
        "form_title": title,
        "applied_on": item.applied_on,
        "title": item.title,
        "review_dates": [[k.name, reviewed.get(k.code)] for k in kinds],
        "bureau": item.bureau,
        "division": item.division,
        "section": item.section.name,
        "contact": item.contact,
        "extension": item.extension,
        "policy_ref": item.policy_ref,
        "in_implementation_plan": _yes_no(item.in_implementation_plan),
        "summary": item.summary,
        "discussion_points": [p.text for p in item.discussion_points],
        "history": [[h.when, h.meeting, h.content] for h in item.history_rows],
        "prior": [
            {
                "name": group.name,
                "date": group.date,
                "opinions": [
                    {"opinion": o.opinion, "response": o.response, "follow_up": o.follow_up}
                    for o in group.opinions
                ],
            }
            for group in prior
        ],
        "public_comment": _yes_no(item.public_comment_planned),
        "public_comment_period": item.public_comment_period_text,
        "press_release": _choices(PressRelease, item.press_release),
        "council_channel": _choices(CouncilChannel, item.council_channel),
        "council_timing": item.council_timing,
        "ordinance_kind": _choices(OrdinanceKind, item.ordinance_kind),
        "ordinance_change": (
            _choices(OrdinanceChange, item.ordinance_change)
            if item.ordinance_kind != OrdinanceKind.NONE
            else []
        ),
        "ordinance_council_submission": item.ordinance_council_submission,
        "advisory_body": _yes_no(item.advisory_body),
        "personal_info_use": _yes_no(item.personal_info_use),
        "coordination": [[c.department, c.content, c.status.label] for c in item.coordination],
        "schedule_notes": item.schedule_notes,
        "remarks": item.remarks,
        "attendance": [[a.section_name, a.deputy] for a in view.section_managers_attendance],
        "section_managers_result": view.section_managers_result,
        "details": [[d.heading, d.body] for d in item.details],
        "meta": {"created": item.created_at, "modified": item.updated_at},
    }


def request_form_pdf(item: Item, *, reader: User | None = None) -> PdfDocument:
    """様式２ 案件申込書 of *item*, front and back, as *reader* may read it (None: the public)."""
    # The cache key is the context's hash: readers shown different parts get different rows.
    return _produce(
        "request_form",
        "request_form.html",
        request_form_context(item, reader=reader),
        _filename("案件申込書_", item.title),
    )


# ---------------------------------------------------------------------------- public comment


def comment_results_context(public_comment: PublicComment) -> dict:
    """What the published result of a パブリックコメント prints (行政手続法 §43, DOMAIN §5)."""
    pc = public_comment
    opinions = [
        {
            "number": o.number,
            "summary": o.summary,
            "city_view": o.city_view,
            "handling": o.handling.label if o.handling else "",
        }
        for o in pc.opinions
    ]
    title = f"「{pc.item.title}」に関する意見募集の結果"
    on = pc.results_published_on or pc.closed_on or pc.closes_on
    return {
        "doc_title": title,
        "form_label": "",
        "draft": False,
        "title": title,
        "published_on": pc.published_on,
        "closes_on": pc.closes_on,
        "results_published_on": pc.results_published_on,
        "section": pc.item.section.name,
        "how_to_submit": pc.how_to_submit,
        "submitter_count": pc.submitter_count,
        "opinion_count": len(opinions),
        "opinions": opinions,
        "changes_made": pc.changes_made.strip(),
        "abandoned": pc.status == PublicCommentStatus.ABANDONED,
        "abandoned_reason": pc.abandoned_reason,
        "meta": {"created": pc.published_on, "modified": on},
    }


def comment_results_pdf(public_comment: PublicComment) -> PdfDocument:
    """The result of a public comment (意見の概要と市の考え方) as PDF."""
    return _produce(
        "comment_results",
        "comment_results.html",
        comment_results_context(public_comment),
        _filename("意見募集結果_", public_comment.item.title),
    )
