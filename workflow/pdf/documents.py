"""The official documents: each builds a plain context from the models, then renders or reuses it.

Pure functions of the records (no Flask request), used by pages and the API inside an app
context. A document's cache key and ETag are the hash of its context, so any change to what it
prints — the meeting, an item, an opinion, the meeting's status (「案」) — gives a new key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from urllib.parse import quote

import sqlalchemy as sa

from workflow.errors import NotFound
from workflow.extensions import db
from workflow.models import AgendaEntry, Item, Meeting, MeetingKind, PublicComment, User
from workflow.pdf import cache
from workflow.pdf.form_layout import is_dense
from workflow.pdf.render import render_pdf, templates_digest
from workflow.permissions import can_read_entry
from workflow.queries.disclosure import (
    CLOSED_MARK,
    FULL_EDITION,
    Reader,
    edition,
    is_public_reader,
    minutes_entries,
    sees_entry,
)
from workflow.queries.item_view import (
    form_parts,
    item_entries,
    parts_meeting_ids,
    parts_meetings,
    readable_parts,
)
from workflow.queries.versions import form_fields, printed_fields, published_entry
from workflow.states.states import (
    MeetingStatus,
    PublicCommentStatus,
)
from workflow.wareki import to_fullwidth_digits

__all__ = [
    "FormReads",
    "PdfDocument",
    "PdfSpec",
    "agenda_context",
    "agenda_pdf",
    "agenda_spec",
    "comment_results_context",
    "comment_results_pdf",
    "filed_form_context",
    "minutes_context",
    "minutes_pdf",
    "pdf_filename",
    "pdf_spec",
    "produce",
    "request_form_context",
    "request_form_pdf",
    "request_form_spec",
    "unnumbered",
]

_WEEKDAYS = "月火水木金土日"
# How every PDF answer may be cached (pages and API): kept by the browser but asked for again
# each time, an unchanged one answered 304 by its ETag. Not the "no-store" of the other signed-in
# answers (workflow.security), which would throw the ETag away and download every PDF in full.
CACHE_CONTROL = "private, no-cache"
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


@dataclass(frozen=True, slots=True)
class PdfSpec:
    """A document ready to render: its template, context and download name, and its cache key
    (the hash of all it prints), known before anything is rendered."""

    kind: str
    template: str
    context: dict
    filename: str
    key: str


def pdf_spec(kind: str, template: str, context: dict, filename: str) -> PdfSpec:
    """The document *template* renders from *context*, with its cache key."""
    key = cache.content_key(kind, templates_digest(), context)
    return PdfSpec(kind, template, context, filename, key)


def unnumbered(context: dict) -> dict:
    """*context* printed without its own 「－ N －」 (base.html): a part of the 会議資料一式,
    whose pages are numbered over the whole packet (workflow.pdf.packet)."""
    return {**context, "unnumbered": True}


def produce(spec: PdfSpec) -> PdfDocument:
    """The document of *spec*, from the cache or rendered (and added to the cache)."""
    content = cache.lookup(spec.key)
    if content is not None:
        return PdfDocument(content, spec.key, spec.filename, cached=True)
    meta = spec.context["meta"]
    content = render_pdf(
        spec.template, spec.context, created=meta["created"], modified=meta["modified"]
    )
    cache.store(spec.key, spec.kind, content)
    return PdfDocument(content, spec.key, spec.filename, cached=False)


def _produce(kind: str, template: str, context: dict, filename: str) -> PdfDocument:
    return produce(pdf_spec(kind, template, context, filename))


def pdf_filename(*parts: str) -> str:
    """A download's name: the parts run together without spaces, 「第５回政策調整会議議事録.pdf」."""
    return "".join(parts).replace(" ", "").replace("\u3000", "") + ".pdf"


# ---------------------------------------------------------------------------- 様式６ minutes


def minutes_context(meeting: Meeting, reader: Reader = FULL_EDITION) -> dict:
    """What the 様式６ minutes print (DOMAIN §6); 「案」 until the meeting is confirmed.

    *reader* None (or anyone not signed in) gets the public edition (DOMAIN §10): a 非公開 entry
    is 「（非公開案件）」 under its number and nothing else; where opinions were held back the
    entry says 「（一部非公開）」. Staff get the full minutes. The edition is in the context, so
    in the cache key: a staff rendering is never served to the public.
    """
    entries = []
    for row in minutes_entries(reader, meeting):
        entry = row.entry
        if row.closed:
            entries.append({"number": row.number, "closed": True})
            continue
        entries.append(
            {
                "number": row.number,
                "closed": False,
                "title": entry.item.title,
                "presenter": entry.presenter,
                "opinions": [
                    {"opinion": o.opinion, "response": o.response, "follow_up": o.follow_up}
                    for o in row.opinions
                ],
                "withheld": row.withheld,
                "outcome": entry.outcome_text,
                "special_notes": entry.special_notes.strip(),
            }
        )
    title = f"{meeting.title} 議事録"
    return {
        "edition": edition(reader),
        "doc_title": title,
        "form_label": "（様式６）",
        "draft": meeting.status not in _MINUTES_FINAL,
        "meeting_title": meeting.title,
        "date": meeting.date,
        "entries": entries,
        "meta": {"created": meeting.date, "modified": meeting.updated_at},
    }


def minutes_pdf(meeting: Meeting, reader: Reader = FULL_EDITION) -> PdfDocument:
    """様式６ 議事録 of *meeting* as PDF (rendered, or from the cache), in *reader*'s edition
    (None: the public's; by default the full one; the caller has checked ``can_read_minutes``).
    Every download passes its reader."""
    context = minutes_context(meeting, reader)
    draft = "（案）" if context["draft"] else ""
    return _produce(
        "minutes", "minutes.html", context, pdf_filename(meeting.title, "議事録", draft)
    )


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


def agenda_context(meeting: Meeting, reader: Reader = FULL_EDITION) -> dict:
    """What a meeting's 次第 prints: title, date, time, venue, the items in order (for the
    public, a 非公開 entry is 「（非公開案件）」 in its place)."""
    times = ""
    if meeting.start_time:
        times = f"{_time_text(meeting.start_time)}～{_time_text(meeting.end_time)}"
    items = []
    for entry in meeting.entries:
        if not sees_entry(reader, entry):
            items.append({"title": CLOSED_MARK, "owner": "", "presenter": ""})
            continue
        item = entry.item
        # The section as it was named when the item was scheduled: a later rename or merge
        # does not rewrite this meeting's 次第 (an entry made before the copy existed: today's).
        section = entry.section_name or item.section.name
        items.append(
            {
                "title": item.title,
                "owner": " ".join(p for p in (item.bureau, item.division, section) if p),
                "presenter": entry.presenter,
            }
        )
    title = f"{meeting.title} 次第"
    return {
        "edition": edition(reader),
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


def agenda_spec(
    meeting: Meeting, reader: Reader = FULL_EDITION, *, numbered: bool = True
) -> PdfSpec:
    """The 次第 of *meeting*, ready to render, in *reader*'s edition (None: the public's; by
    default the full one); *numbered* False for the 会議資料一式."""
    context = agenda_context(meeting, reader)
    if not numbered:
        context = unnumbered(context)
    return pdf_spec("agenda", "agenda.html", context, pdf_filename(meeting.title, "次第"))


def agenda_pdf(meeting: Meeting, reader: Reader = FULL_EDITION) -> PdfDocument:
    """The 次第 of *meeting* as PDF, in *reader*'s edition."""
    return produce(agenda_spec(meeting, reader))


# ---------------------------------------------------------------------------- 様式２ request


def _meeting_kinds() -> list[MeetingKind]:
    return list(db.session.scalars(sa.select(MeetingKind).order_by(MeetingKind.sort_order)))


@dataclass(frozen=True, slots=True)
class FormReads:
    """What the 様式２ of many entries read alike, read once (the 会議資料一式's forms): the
    kinds of meeting, and the meetings their frozen parts name."""

    kinds: list[MeetingKind]
    meetings: dict[int, Meeting]

    @classmethod
    def of(cls, entries: list[AgendaEntry]) -> FormReads:
        """Read what the forms of *entries* need, in two queries."""
        ids: set[int] = set()
        for entry in entries:
            if entry.frozen_parts is not None:
                ids |= parts_meeting_ids(entry.frozen_parts)
        return cls(_meeting_kinds(), parts_meetings(ids))


def request_form_context(
    fields: dict,
    parts: dict,
    *,
    reader: User | None,
    modified: date | datetime,
    shared: FormReads | None = None,
    item_id: int | None = None,
    entries: list[AgendaEntry] | None = None,
) -> dict:
    """What 様式２ prints, from a field set (the current form or a frozen version, in the API's
    keys) and the parts the system fills in (:func:`form_parts`), cut to what *reader* may see.

    The derived parts show *reader* only what the API's item_json shows them: 審議日 of the
    meetings they may see, and what was said and decided only where they may read the minutes.
    None is the public; the secretariat reads everything. With *item_id* the public is also
    not shown the 非公開 entries of the item nor its opinions held back (DOMAIN §10).
    """
    kinds = _meeting_kinds() if shared is None else shared.kinds
    names = {k.code: k.name for k in kinds}
    seen = readable_parts(
        parts, reader, item_id, entries=entries, known=shared.meetings if shared else None
    )
    dates: dict[str, str] = {row["kind"]: row["date"] for row in seen["review_dates"]}
    target = names.get(fields["target_kind"] or "", "")
    title = f"庁議（{target}）案件申込書" if target else "庁議案件申込書"
    notes = {note["opinion_id"]: note["text"] for note in fields.get("opinion_notes", [])}
    section_managers = seen["section_managers"]
    context = {
        **printed_fields(fields),
        "edition": edition(reader),
        "doc_title": title,
        "form_label": "（様式２）",
        "draft": False,
        "form_title": title,
        # The ladder's slots only: a review (事務事業調整会議) has none (DOMAIN §8).
        "review_dates": [
            [k.name, date.fromisoformat(dates[k.code]) if k.code in dates else None]
            for k in kinds
            if not k.review
        ],
        "prior": [
            {
                "name": group["name"],
                "opinions": [
                    {
                        "opinion": o["opinion"],
                        "response": o["response"],
                        "follow_ups": [
                            text for text in (o["follow_up"], notes.get(o["id"])) if text
                        ],
                    }
                    for o in group["opinions"]
                ],
            }
            for group in seen["prior"]
        ],
        "attendance": list(section_managers["attendance"]) if section_managers else [],
        "section_managers_result": section_managers["result"] if section_managers else None,
        "meta": {"created": modified, "modified": modified},
    }
    context["dense"] = is_dense(context)
    return context


def _filed_form(
    item: Item, meeting: Meeting | None, reader: User | None, entry: AgendaEntry | None = None
) -> tuple[dict, dict, datetime, list[AgendaEntry] | None]:
    """The field set, the system's parts and the date of the form: the current one, or the one
    frozen for *meeting* (DOMAIN §9).

    The current form of the public is the fields filed for the latest published meeting (none
    revised since leaks out) with what the published minutes recorded.
    """
    if meeting is None:
        entries = item_entries(item)  # read once: for the target, the parts and their cut
        target = next((e.meeting for e in entries if item.target_kind in e.meeting.kinds), None)
        parts = form_parts(item, target, entries=entries)
        entry = published_entry(item) if is_public_reader(reader) else None
        if entry is not None and entry.form_version is not None:
            return entry.form_version.fields, parts, entry.form_version.created_at, entries
        return form_fields(item), parts, item.updated_at, entries
    if entry is None:
        entry = db.session.scalar(
            sa.select(AgendaEntry).where(
                AgendaEntry.item_id == item.id, AgendaEntry.meeting_id == meeting.id
            )
        )
    if entry is None or not can_read_entry(reader, entry):  # 非公開 to the public: not there
        raise NotFound("この案件はこの会議の議題にありません。")
    if entry.form_version is None:  # scheduled before versions existed: the current form
        return form_fields(item), form_parts(item, meeting), item.updated_at, None
    version = entry.form_version
    return version.fields, entry.frozen_parts, version.created_at, None


def filed_form_context(
    item: Item,
    *,
    reader: User | None = None,
    meeting: Meeting | None = None,
    entry: AgendaEntry | None = None,
    shared: FormReads | None = None,
) -> dict:
    """What *item*'s 様式２ prints for *reader*: the current form, or the one filed for
    *meeting* (raises NotFound when the item was not on its agenda); *entry* (the item's entry
    on *meeting*) and *shared* (:class:`FormReads`) when the caller has them already."""
    fields, parts, modified, entries = _filed_form(item, meeting, reader, entry)
    context = request_form_context(
        fields,
        parts,
        reader=reader,
        modified=modified,
        shared=shared,
        item_id=item.id,
        entries=entries,
    )
    context["meta"]["created"] = item.created_at
    return context


def request_form_spec(
    item: Item,
    *,
    reader: User | None = None,
    meeting: Meeting | None = None,
    entry: AgendaEntry | None = None,
    shared: FormReads | None = None,
    numbered: bool = True,
) -> PdfSpec:
    """様式２ of *item* as *reader* may read it, ready to render (see :func:`request_form_pdf`);
    *numbered* False for the 会議資料一式."""
    context = filed_form_context(item, reader=reader, meeting=meeting, entry=entry, shared=shared)
    if not numbered:
        context = unnumbered(context)
    # The cache key is the context's hash: readers shown different parts get different rows.
    suffix = f"_{meeting.title}" if meeting is not None else ""
    filename = pdf_filename("案件申込書_", context["title"], suffix)
    return pdf_spec("request_form", "request_form.html", context, filename)


def request_form_pdf(
    item: Item, *, reader: User | None = None, meeting: Meeting | None = None
) -> PdfDocument:
    """様式２ 案件申込書 of *item*, front and back, as *reader* may read it (None: the public):
    the current form, or with *meeting* the version frozen for it, the same bytes after any
    later edit."""
    return produce(request_form_spec(item, reader=reader, meeting=meeting))


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
        pdf_filename("意見募集結果_", public_comment.item.title),
    )
