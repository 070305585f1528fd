"""Disclosure (DOMAIN §10): 公開 / 一部非公開 / 非公開 per agenda entry, 公開 per opinion.

The public never finds a 非公開 entry's words — not on the public pages, in search, in open data,
in the API, nor in the public edition of the minutes, which prints 「（非公開案件）」 in its place —
and of a visible entry only the public opinions (「（一部非公開）」 where the others were). Staff
read everything, as before. The disclosure is set until publication, then only after 公開取消.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.disclosure_scene import (
    CLOSED_NOTES,
    CLOSED_OPINION,
    CLOSED_REASON,
    CLOSED_TITLE,
    CLOSED_WORDS,
    HELD_BACK,
    HELD_BACK_RESPONSE,
    OPEN_OPINION,
    OPEN_TITLE,
    PARTIAL_REASON,
    Scene,
    build_scene,
    pdf_text,
)
from tests.factories import item_meeting_id, make_item, make_meeting, make_user
from tests.support import API, auth, login
from workflow.extensions import db
from workflow.models import AgendaEntry, HistoryEvent, Meeting, Opinion
from workflow.pdf import documents
from workflow.queries.search import search_items
from workflow.services import meetings
from workflow.states.states import Disclosure, ItemStatus, Role


@pytest.fixture
def scene(app) -> Scene:
    return build_scene()


def _found(client, q: str, headers=None) -> list[tuple[int, str]]:
    response = client.get(f"{API}/search", query_string={"q": q}, headers=headers or {})
    assert response.status_code == 200
    return [(hit["item_id"], hit["field"]) for hit in response.get_json()["results"]]


def _open_data(client) -> tuple[list[dict], str]:
    rows = client.get(f"{API}/minutes.json").get_json()["rows"]
    csv = client.get(f"{API}/minutes.csv").get_data(as_text=True)
    return rows, csv


# -- 非公開 ---------------------------------------------------------------------------------


def test_search_finds_a_closed_entrys_words_for_staff_only(app, scene):
    client = app.test_client()
    staff = auth(scene.secretariat)
    viewer = auth(scene.viewer)
    db.session.commit()
    for word in CLOSED_WORDS:
        assert _found(client, word) == [], word
        assert [i for i, _ in _found(client, word, staff)] == [scene.closed_item.id], word
        assert [i for i, _ in _found(client, word, viewer)] == [scene.closed_item.id], word
        assert search_items(None, word) == []
    # The same service, asked directly, answers alike.
    assert [h.item.id for h in search_items(scene.secretariat, CLOSED_OPINION)] == [
        scene.closed_item.id
    ]


def test_open_data_leaves_a_closed_entry_out(app, scene):
    rows, csv = _open_data(app.test_client())
    assert {r["item_id"] for r in rows} == {scene.open_item.id}
    dumped = json.dumps(rows, ensure_ascii=False)
    for word in CLOSED_WORDS:
        assert word not in dumped
        assert word not in csv


def test_public_pages_never_show_a_closed_entry(app, scene):
    client = app.test_client()
    page = client.get(f"/public/meetings/{scene.meeting.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert OPEN_TITLE in html
    assert "（非公開案件）" in html
    for word in (*CLOSED_WORDS, CLOSED_REASON, "秘匿課長"):
        assert word not in html
    assert client.get(f"/public/items/{scene.closed_item.id}").status_code == 404
    assert client.get(f"/public/items/{scene.closed_item.id}/form.pdf").status_code == 404
    assert client.get(f"/public/items/{scene.open_item.id}").status_code == 200
    # The public index lists the meeting; nothing of the closed entry on it.
    index = client.get("/public/").get_data(as_text=True)
    assert CLOSED_TITLE not in index


def test_the_api_gives_the_public_no_closed_entry(app, scene):
    client = app.test_client()
    body = client.get(f"{API}/meetings/{scene.meeting.id}").get_json()
    assert [e["item_id"] for e in body["entries"]] == [scene.open_item.id]
    assert body["entries"][0]["number"] == 1
    dumped = json.dumps(body, ensure_ascii=False)
    for word in CLOSED_WORDS:
        assert word not in dumped
    assert client.get(f"{API}/items/{scene.closed_item.id}").status_code == 404
    pdf = client.get(f"{API}/items/{scene.closed_item.id}/form.pdf?meeting={scene.meeting.id}")
    assert pdf.status_code == 404
    agenda = client.get(f"{API}/meetings/{scene.meeting.id}/agenda.pdf")
    assert agenda.status_code == 200
    assert CLOSED_TITLE not in pdf_text(agenda.data)
    assert "（非公開案件）" in pdf_text(agenda.data)


def test_staff_read_every_entry_with_its_disclosure(app, scene):
    client = app.test_client()
    headers = auth(scene.viewer)
    db.session.commit()
    body = client.get(f"{API}/meetings/{scene.meeting.id}", headers=headers).get_json()
    entries = {e["item_id"]: e for e in body["entries"]}
    assert set(entries) == {scene.open_item.id, scene.closed_item.id}
    closed = entries[scene.closed_item.id]
    assert (closed["disclosure"], closed["disclosure_reason"]) == ("closed", CLOSED_REASON)
    assert [o["opinion"] for o in closed["opinions"]] == [CLOSED_OPINION]
    assert closed["special_notes"] == CLOSED_NOTES
    partial = entries[scene.open_item.id]
    assert partial["disclosure"] == "partial"
    assert [(o["opinion"], o["public"]) for o in partial["opinions"]] == [
        (OPEN_OPINION, True),
        (HELD_BACK, False),
    ]
    item = client.get(f"{API}/items/{scene.closed_item.id}", headers=headers).get_json()
    assert [d["meeting_id"] for d in item["deliberations"]] == [scene.meeting.id]


def test_the_public_minutes_print_a_mark_in_a_closed_entrys_place(app, scene):
    client = app.test_client()
    for url in (
        f"/public/meetings/{scene.meeting.id}/minutes.pdf",
        f"{API}/meetings/{scene.meeting.id}/minutes.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        text = pdf_text(response.data)
        assert "２（非公開案件）" in text  # its number kept
        assert OPEN_TITLE in text
        for word in (*CLOSED_WORDS, HELD_BACK, HELD_BACK_RESPONSE, "秘匿課長"):
            assert word not in text, (url, word)


def test_staff_minutes_are_the_full_minutes(app, scene):
    client = app.test_client()
    headers = auth(scene.secretariat)
    db.session.commit()
    staff = client.get(f"{API}/meetings/{scene.meeting.id}/minutes.pdf", headers=headers)
    text = pdf_text(staff.data)
    for word in (CLOSED_TITLE, CLOSED_OPINION, CLOSED_NOTES, HELD_BACK, OPEN_OPINION):
        assert word in text
    assert "（非公開案件）" not in text
    assert "（一部非公開）" not in text
    # The page of the minutes, signed in, too.
    page = login(app.test_client(), scene.secretariat).get(f"/meetings/{scene.meeting.id}/minutes")
    html = page.get_data(as_text=True)
    assert CLOSED_OPINION in html
    assert HELD_BACK in html
    assert "（非公開案件）" not in html


def test_a_cached_staff_edition_is_never_served_to_the_public(app, scene):
    staff = documents.minutes_pdf(scene.meeting, reader=scene.secretariat)
    public = documents.minutes_pdf(scene.meeting, reader=None)
    assert staff.etag != public.etag
    assert not public.cached
    assert CLOSED_OPINION not in pdf_text(public.content)
    db.session.commit()
    # Rendered again: each from the cache, each its own edition.
    assert documents.minutes_pdf(scene.meeting, reader=None).content == public.content
    assert documents.minutes_pdf(scene.meeting, reader=scene.secretariat).cached
    response = app.test_client().get(f"/public/meetings/{scene.meeting.id}/minutes.pdf")
    assert CLOSED_OPINION not in pdf_text(response.data)


def test_an_edition_of_a_meeting_with_nothing_held_back_says_no_mark(app):
    scene = build_scene()
    for row in scene.meeting.entries:
        row.disclosure, row.disclosure_reason = Disclosure.PUBLIC, ""
        for opinion in row.opinions:
            opinion.public = True
    db.session.commit()
    public = pdf_text(documents.minutes_pdf(scene.meeting, reader=None).content)
    staff = pdf_text(documents.minutes_pdf(scene.meeting, reader=scene.secretariat).content)
    assert public == staff
    assert "非公開" not in staff


# -- 一部非公開 -----------------------------------------------------------------------------


def test_partial_hides_exactly_the_opinions_held_back(app, scene):
    client = app.test_client()
    staff = auth(scene.secretariat)
    db.session.commit()
    body = client.get(f"{API}/meetings/{scene.meeting.id}").get_json()
    [entry] = body["entries"]
    assert [o["opinion"] for o in entry["opinions"]] == [OPEN_OPINION]
    item = client.get(f"{API}/items/{scene.open_item.id}").get_json()
    [deliberation] = item["deliberations"]
    assert [o["opinion"] for o in deliberation["opinions"]] == [OPEN_OPINION]
    assert HELD_BACK not in json.dumps(item, ensure_ascii=False)

    rows, csv = _open_data(client)
    assert [r["opinion"] for r in rows] == [OPEN_OPINION]
    assert HELD_BACK not in csv
    assert HELD_BACK_RESPONSE not in csv

    assert _found(client, HELD_BACK) == []
    assert _found(client, HELD_BACK_RESPONSE) == []
    assert _found(client, OPEN_OPINION) == [(scene.open_item.id, "opinions")]
    assert _found(client, HELD_BACK, staff) == [(scene.open_item.id, "opinions")]

    html = client.get(f"/public/meetings/{scene.meeting.id}").get_data(as_text=True)
    assert OPEN_OPINION in html
    assert "（一部非公開）" in html
    assert HELD_BACK not in html

    text = pdf_text(client.get(f"/public/meetings/{scene.meeting.id}/minutes.pdf").data)
    assert OPEN_OPINION in text
    assert "（一部非公開）" in text
    assert HELD_BACK not in text
    assert HELD_BACK_RESPONSE not in text


def test_the_public_form_leaves_held_back_opinions_out_of_the_prior_ones(app):
    """様式２ filed for a later meeting lists the earlier meetings' opinions (主な意見): the
    public's copy leaves out those held back there; staff read them all."""
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.SCHEDULED, secretariat=secretariat, title=OPEN_TITLE)
    first = db.session.get(Meeting, item_meeting_id(item))
    meetings.record_deliberation(
        secretariat,
        first,
        item,
        {
            "opinions": [
                {"opinion": OPEN_OPINION},
                {"opinion": HELD_BACK, "public": False},
            ],
            "disclosure": "partial",
            "disclosure_reason": PARTIAL_REASON,
        },
    )
    meetings.record_outcome(secretariat, first, item, "forwarded", "policy_coordination")
    for step in (meetings.hold, meetings.confirm, meetings.publish):
        step(secretariat, first)
    second = make_meeting(secretariat, kind=item.level_kind, on=date(2019, 10, 2))
    meetings.schedule(secretariat, second, item, "部長")
    meetings.record_outcome(secretariat, second, item, "approved")
    for step in (meetings.hold, meetings.confirm, meetings.publish):
        step(secretariat, second)
    headers = auth(secretariat)
    db.session.commit()
    client = app.test_client()
    url = f"{API}/items/{item.id}/form.pdf?meeting={second.id}"
    public = pdf_text(client.get(url).data)
    assert OPEN_OPINION in public
    assert HELD_BACK not in public
    staff = pdf_text(client.get(url, headers=headers).data)
    assert OPEN_OPINION in staff
    assert HELD_BACK in staff
    # The item page of the public: the prior opinions, cut alike.
    body = client.get(f"{API}/items/{item.id}").get_json()
    said = [o["opinion"] for g in body["prior_opinions"] for o in g["opinions"]]
    assert said == [OPEN_OPINION]


# -- setting it ---------------------------------------------------------------------------


def _put(client, scene, headers, **body):
    return client.put(
        f"{API}/meetings/{scene.meeting.id}/entries/{scene.open_item.id}",
        json=body,
        headers=headers,
    )


def _disclosure_rows(meeting: Meeting) -> list[HistoryEvent]:
    return list(
        db.session.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.meeting_id == meeting.id, HistoryEvent.event == "set_disclosure")
            .order_by(HistoryEvent.id)
        )
    )


def test_disclosure_is_set_while_held_and_confirmed_and_refused_once_published(app):
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.SCHEDULED, secretariat=secretariat, title=OPEN_TITLE)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    scene = Scene(secretariat, secretariat, meeting, item, item)
    meetings.record_deliberation(
        secretariat,
        meeting,
        item,
        {"opinions": [{"opinion": OPEN_OPINION}, {"opinion": HELD_BACK}]},
    )
    meetings.record_outcome(secretariat, meeting, item, "approved")
    meetings.hold(secretariat, meeting)
    headers = auth(secretariat)
    db.session.commit()
    client = app.test_client()
    entry_id = meeting.entries[0].id

    def entry() -> AgendaEntry:
        db.session.expire_all()
        return db.session.get(AgendaEntry, entry_id)

    # 一部非公開 and 非公開 need their reason; a blank one changes nothing.
    for reason in (None, "", "　 "):
        body = {"disclosure": "partial"} | ({} if reason is None else {"disclosure_reason": reason})
        response = _put(client, scene, headers, **body)
        assert response.status_code == 422, reason
        error = response.get_json()["error"]
        assert "理由" in error["message"]
        assert "disclosure_reason" in error["details"]["fields"]
    bad = _put(client, scene, headers, disclosure="secret", disclosure_reason="x")
    assert bad.status_code == 422
    assert "公開範囲" in bad.get_json()["error"]["message"]
    assert (entry().disclosure, entry().disclosure_reason) == (Disclosure.PUBLIC, "")
    assert _disclosure_rows(meeting) == []

    # Held: the disclosure and the opinions (texts and flags) may change.
    response = _put(client, scene, headers, disclosure="closed", disclosure_reason=CLOSED_REASON)
    assert response.status_code == 200
    [shown] = response.get_json()["entries"]
    assert (shown["disclosure"], shown["disclosure_reason"]) == ("closed", CLOSED_REASON)
    [row] = _disclosure_rows(meeting)
    assert row.params["item_id"] == item.id
    assert row.params["disclosure"] == "closed"
    assert row.reason == CLOSED_REASON

    # Confirmed: only the disclosure; the opinions' flags with their texts as recorded.
    meetings.confirm(secretariat, meeting)
    db.session.commit()
    ids = [o.id for o in entry().opinions]
    flags = [
        {"opinion": OPEN_OPINION, "public": True},
        {"opinion": HELD_BACK, "public": False},
    ]
    response = _put(
        client,
        scene,
        headers,
        disclosure="partial",
        disclosure_reason=PARTIAL_REASON,
        opinions=flags,
    )
    assert response.status_code == 200
    assert [(o.id, o.public) for o in entry().opinions] == [(ids[0], True), (ids[1], False)]
    assert entry().disclosure == Disclosure.PARTIAL
    last = _disclosure_rows(meeting)[-1]
    assert last.params["withheld_opinions"] == [2]
    assert last.reason == PARTIAL_REASON
    for refused in (
        {"opinions": [{"opinion": OPEN_OPINION + "（改）"}, {"opinion": HELD_BACK}]},
        {"special_notes": "確定後の追記"},
        {"presenter": "別の説明者"},
    ):
        response = _put(client, scene, headers, **refused)
        assert response.status_code == 409, refused
        assert "変更できません" in response.get_json()["error"]["message"]
    # The same values again are not a change (a client may send back what it read).
    assert _put(client, scene, headers, presenter=entry().presenter).status_code == 200
    assert [(o.opinion, o.public) for o in entry().opinions] == [
        (OPEN_OPINION, True),
        (HELD_BACK, False),
    ]
    rows = len(_disclosure_rows(meeting))

    # Published: 409, saying 公開取消 first.
    meetings.publish(secretariat, meeting)
    db.session.commit()
    response = _put(client, scene, headers, disclosure="public")
    assert response.status_code == 409
    assert "公開取消" in response.get_json()["error"]["message"]
    assert entry().disclosure == Disclosure.PARTIAL
    assert len(_disclosure_rows(meeting)) == rows


def test_public_clears_the_reason_and_only_the_secretariat_sets_disclosure(app):
    scene = build_scene(publish=False)
    viewer_headers = auth(scene.viewer)
    staff = auth(scene.secretariat)
    db.session.commit()
    client = app.test_client()
    assert _put(client, scene, viewer_headers, disclosure="public").status_code == 403
    assert _put(client, scene, {}, disclosure="public").status_code == 401
    response = _put(client, scene, staff, disclosure="public")
    assert response.status_code == 200
    entry = next(e for e in response.get_json()["entries"] if e["item_id"] == scene.open_item.id)
    assert (entry["disclosure"], entry["disclosure_reason"]) == ("public", "")
    # The opinion held back stays held back: its flag is the opinion's own.
    assert [o["public"] for o in entry["opinions"]] == [True, False]


def test_the_meeting_room_sets_the_disclosure_until_publication(app):
    scene = build_scene(publish=False)  # confirmed: the record itself is frozen
    client = login(app.test_client(), scene.secretariat)
    n = 1 + next(i for i, e in enumerate(scene.meeting.entries) if e.item_id == scene.open_item.id)
    url = f"/meetings/{scene.meeting.id}/room/{n}"
    page = client.get(url).get_data(as_text=True)
    assert "公開範囲" in page
    assert 'name="opinion_public"' in page
    assert PARTIAL_REASON in page
    entry_id = scene.meeting.entries[n - 1].id

    def entry() -> AgendaEntry:
        db.session.expire_all()
        return db.session.get(AgendaEntry, entry_id)

    response = client.post(
        url + "/disclosure", data={"pub-disclosure": "closed", "pub-disclosure_reason": ""}
    )
    assert response.status_code == 422
    assert "理由" in response.get_data(as_text=True)
    assert entry().disclosure == Disclosure.PARTIAL
    response = client.post(
        url + "/disclosure",
        data={
            "pub-disclosure": "partial",
            "pub-disclosure_reason": "第７条第３号該当",
            "opinion_public": ["1"],  # the first held back now, the second shown
        },
    )
    assert response.status_code == 302
    assert entry().disclosure_reason == "第７条第３号該当"
    assert [o.public for o in entry().opinions] == [False, True]
    assert [o.opinion for o in entry().opinions] == [OPEN_OPINION, HELD_BACK]

    meetings.publish(scene.secretariat, db.session.get(Meeting, scene.meeting.id))
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "公開取消" in page
    response = client.post(
        url + "/disclosure", data={"pub-disclosure": "public", "pub-disclosure_reason": ""}
    )
    assert response.status_code == 409
    assert entry().disclosure == Disclosure.PARTIAL


def test_saving_the_room_record_keeps_the_opinions_flags(app):
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.SCHEDULED, secretariat=secretariat, title=OPEN_TITLE)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    meetings.record_deliberation(
        secretariat,
        meeting,
        item,
        {"opinions": [{"opinion": OPEN_OPINION}, {"opinion": HELD_BACK, "public": False}]},
    )
    db.session.commit()
    client = login(app.test_client(), secretariat)
    url = f"/meetings/{meeting.id}/room/1"
    page = client.get(url).get_data(as_text=True)
    hidden = re.findall(r'name="opinions-(\d)-public"[^>]*value="(\d)"', page) or [
        (n, v) for v, n in re.findall(r'value="(\d)"[^>]*name="opinions-(\d)-public"', page)
    ]
    assert sorted(hidden) == [("0", "1"), ("1", "0")]
    response = client.post(
        url,
        data={
            "presenter": "課長",
            "opinions-0-opinion": OPEN_OPINION + "（追記）",
            "opinions-0-public": "1",
            "opinions-1-opinion": HELD_BACK,
            "opinions-1-public": "0",
            "opinions-2-opinion": "新しい意見",
            "opinions-2-public": "1",
            "special_notes": "",
            "save": "1",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    opinions = db.session.scalars(
        select(Opinion).where(Opinion.entry_id == meeting.entries[0].id).order_by(Opinion.position)
    ).all()
    assert [(o.opinion, o.public) for o in opinions] == [
        (OPEN_OPINION + "（追記）", True),
        (HELD_BACK, False),
        ("新しい意見", True),
    ]


def test_a_refused_disclosure_changes_nothing_else_of_the_body(app):
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.SCHEDULED, secretariat=secretariat, title="別の案件")
    meeting = db.session.get(Meeting, item_meeting_id(item))
    meetings.record_deliberation(
        secretariat, meeting, item, {"opinions": [{"opinion": "元の意見"}]}
    )
    headers = auth(secretariat)
    db.session.commit()
    response = app.test_client().put(
        f"{API}/meetings/{meeting.id}/entries/{item.id}",
        json={
            "presenter": "変えた説明者",
            "opinions": [{"opinion": "変えた意見"}],
            "disclosure": "closed",
        },
        headers=headers,
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"]["disclosure_reason"] == [
        "「非公開」にするときは、理由（情報公開条例の該当する条項）を入力してください。"
    ]
    db.session.expire_all()
    entry = db.session.get(Meeting, meeting.id).entries[0]
    assert [o.opinion for o in entry.opinions] == ["元の意見"]
    assert entry.presenter != "変えた説明者"
    assert entry.disclosure == Disclosure.PUBLIC
