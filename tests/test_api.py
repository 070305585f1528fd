"""The JSON API: the sample's whole path through it, and each error of the contract."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy.orm.exc import StaleDataError

from tests.factories import item_meeting_id, make_item, make_meeting, make_section, make_user
from tests.support import API, SAMPLE_EVENTS, SAMPLE_REVIEW_DATES, auth, fingerprint, token_for
from workflow.demo.sample import FORM_KEYS, sample_form, sample_minutes
from workflow.errors import CONFLICT_MESSAGE
from workflow.extensions import db
from workflow.models import ApiToken, Meeting
from workflow.models._types import utcnow
from workflow.services import meetings
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")


def error_of(response, status: int) -> dict:
    """The error object of a JSON error response with *status*."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def people():
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    department = make_user(Role.DEPARTMENT, section)
    secretariat = make_user(Role.SECRETARIAT)
    db.session.commit()
    return {
        "department": department,
        "secretariat": secretariat,
        "dep": auth(department),
        "sec": auth(secretariat),
    }


# -- the sample's whole path ----------------------------------------------------------------


def _deliberation(record: dict) -> dict:
    return {
        "attendance": [{"section": s, "deputy": False} for s in record.get("attendance", [])],
        "opinions": [
            {
                "opinion": o["opinion"],
                "response": o.get("response"),
                "follow_up": o.get("follow_up"),
            }
            for o in record["opinions"]
        ],
        "special_notes": record.get("special_notes") or "なし",
    }


def _take_up(client, sec, item_id, meeting_body, record, *, forward_to=None) -> int:
    """Create a meeting, put the item on it, record what was said and decided, publish it."""
    r = client.post(f"{API}/meetings", json=meeting_body, headers=sec)
    assert r.status_code == 201, r.get_json()
    meeting_id = r.get_json()["id"]
    r = client.post(
        f"{API}/meetings/{meeting_id}/entries",
        json={"item_id": item_id, "presenter": record["presenter"]},
        headers=sec,
    )
    assert r.status_code == 201, r.get_json()
    r = client.put(
        f"{API}/meetings/{meeting_id}/entries/{item_id}", json=_deliberation(record), headers=sec
    )
    assert r.status_code == 200, r.get_json()
    body = {"outcome": record["outcome"]}
    if forward_to:
        body["forward_to"] = forward_to
    r = client.post(
        f"{API}/meetings/{meeting_id}/entries/{item_id}/outcome", json=body, headers=sec
    )
    assert r.status_code == 200, r.get_json()
    for event in ("hold", "confirm", "publish"):
        r = client.post(f"{API}/meetings/{meeting_id}/events/{event}", headers=sec)
        assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "published"
    return meeting_id


def test_the_sample_goes_its_whole_path_through_the_api(client, people):
    sec, dep = people["sec"], people["dep"]
    form = sample_form()
    r = client.post(f"{API}/items", json={k: form[k] for k in FORM_KEYS}, headers=dep)
    assert r.status_code == 201, r.get_json()
    item = r.get_json()
    assert item["status"] == "draft"
    assert item["status_label"] == "作成中"
    # 検討経過 as typed, each row with its 備考 (empty in the sample).
    assert item["history_rows"] == [{**row, "remarks": ""} for row in form["history"]]
    assert item["details"] == form["details"]
    assert item["route"] == form["route"]
    item_id = item["id"]

    for event, headers in (("submit", dep), ("accept", sec)):
        r = client.post(f"{API}/items/{item_id}/events/{event}", headers=headers)
        assert r.status_code == 200, r.get_json()
    assert r.get_json()["level_kind"] == "section_managers"

    sm = form["section_managers_meeting"]
    sm_id = _take_up(
        client,
        sec,
        item_id,
        {
            "kind": "section_managers",
            "date": sm["date"],
            "number": 2,
            "joint_name": "ＩＣＴ戦略調整会議",
        },
        sm,
        # The real form names the 上部庁議; the review (事務事業調整会議) comes on the way.
        forward_to="policy_coordination",
    )
    ac = form["affairs_coordination_meeting"]
    _take_up(
        client,
        sec,
        item_id,
        {"kind": "affairs_coordination", "date": ac["date"]},
        ac,
        forward_to=ac.get("forward_to"),
    )
    minutes = sample_minutes()
    entry = minutes["entries"][0]
    pc_id = _take_up(
        client,
        sec,
        item_id,
        {"kind": minutes["kind"], "date": minutes["date"], "number": minutes["number"]},
        entry,
    )

    r = client.get(f"{API}/meetings/{pc_id}")
    assert r.status_code == 200  # published: the public reads it
    meeting = r.get_json()
    assert meeting["title"] == "第５回 政策調整会議"
    assert meeting["entries"][0]["outcome_text"] == "原案を一部修正し承認する。"
    assert [o["opinion"] for o in meeting["entries"][0]["opinions"]] == [
        o["opinion"] for o in entry["opinions"]
    ]

    r = client.post(f"{API}/items/{item_id}/events/submit_amendment", headers=dep)
    assert r.get_json()["status"] == "amendment_submitted"
    r = client.post(f"{API}/items/{item_id}/events/confirm_amendment", headers=sec)
    assert r.get_json()["status"] == "approved"
    r = client.post(
        f"{API}/items/{item_id}/events/open_public_comment",
        json={
            "published_on": "2019-12-02",
            "closes_on": "2020-01-20",
            "how_to_submit": "情報政策課へ持参、郵送、ファクス又は電子メールで提出",
        },
        headers=sec,
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["public_comment_process"]["status"] == "open"
    for kind, summary in (("個人", "オンライン化を早く。"), ("団体", "高齢者への支援を。")):
        r = client.post(
            f"{API}/items/{item_id}/public-comment/opinions",
            json={"submitter_kind": kind, "summary": summary},
            headers=sec,
        )
        assert r.status_code == 201, r.get_json()
    r = client.post(
        f"{API}/items/{item_id}/events/close_public_comment",
        json={"today": "2020-01-21"},
        headers=sec,
    )
    assert r.status_code == 200, r.get_json()
    for n, handling in ((1, "already_included"), (2, "revise")):
        r = client.put(
            f"{API}/items/{item_id}/public-comment/opinions/{n}",
            json={"city_view": "考え方", "handling": handling},
            headers=sec,
        )
        assert r.status_code == 200, r.get_json()
    r = client.post(f"{API}/items/{item_id}/events/publish_comment_results", headers=sec)
    assert r.status_code == 200, r.get_json()

    item = client.get(f"{API}/items/{item_id}", headers=sec).get_json()
    assert item["status"] == "concluded"
    assert item["allowed_events"] == []
    assert [h["event"] for h in item["history"]] == SAMPLE_EVENTS
    assert item["history"][0]["event_label"] == "申込"
    assert item["review_dates"] == SAMPLE_REVIEW_DATES
    assert item["section_managers_attendance"] == [
        {"section": s, "deputy": False, "present": True} for s in sm["attendance"]
    ]
    assert item["section_managers_result"] == "原案を上部庁議へ付議する。（政策調整会議）"
    groups = item["prior_opinions"]
    assert [g["name"] for g in groups] == ["関係課長会議", "事務事業調整会議", "政策調整会議"]
    assert [(o["opinion"], o["response"]) for o in groups[0]["opinions"]] == [
        (o["opinion"], o["response"]) for o in sm["opinions"]
    ]
    assert [d["meeting_id"] for d in item["deliberations"]][0] == sm_id
    assert item["public_comment_process"]["opinion_count"] == 2

    # Everything is published: the public reads the item (without the staff's event history).
    public = client.get(f"{API}/items/{item_id}").get_json()
    assert public["title"] == form["title"]
    assert public["history"] == []
    assert public["allowed_events"] == []
    assert len(public["prior_opinions"]) == 3

    # Open data: one row per opinion of every published meeting.
    rows = client.get(f"{API}/minutes.json").get_json()["rows"]
    total = len(sm["opinions"]) + len(ac["opinions"]) + len(entry["opinions"])
    assert len(rows) == total
    r = client.get(f"{API}/minutes.csv")
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert r.data.startswith("\ufeff".encode())
    parsed = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert len(parsed) == total
    assert parsed[-1]["meeting"] == "第５回 政策調整会議"
    assert parsed[-1]["outcome"] == "原案を一部修正し承認する。"

    # Search finds a response said at the 政策調整会議, with a snippet around it.
    r = client.get(f"{API}/search", query_string={"q": "ＬＩＮＥＰａｙ"})
    (hit,) = r.get_json()["results"]
    assert hit["item_id"] == item_id
    assert hit["field"] == "opinions"
    assert "ＬＩＮＥＰａｙ" in hit["snippet"]


def test_pdfs_are_served_with_an_etag_and_304(client, people):
    item = make_item(
        ItemStatus.APPROVED, department=people["department"], secretariat=people["secretariat"]
    )
    db.session.commit()
    meeting_id = client.get(f"{API}/items/{item.id}", headers=people["sec"]).get_json()[
        "deliberations"
    ][0]["meeting_id"]
    for url in (
        f"{API}/items/{item.id}/form.pdf",
        f"{API}/meetings/{meeting_id}/minutes.pdf",
        f"{API}/meetings/{meeting_id}/agenda.pdf",
    ):
        r = client.get(url, headers=people["sec"])
        assert r.status_code == 200, url
        assert r.mimetype == "application/pdf"
        assert r.data.startswith(b"%PDF")
        etag = r.headers["ETag"]
        again = client.get(url, headers={**people["sec"], "If-None-Match": etag})
        assert again.status_code == 304


def test_public_comment_results_pdf(client, people):
    item = make_item(
        ItemStatus.PUBLIC_COMMENT_CLOSED,
        department=people["department"],
        secretariat=people["secretariat"],
    )
    db.session.commit()
    r = client.post(f"{API}/items/{item.id}/events/publish_comment_results", headers=people["sec"])
    assert r.status_code == 200, r.get_json()
    r = client.get(f"{API}/items/{item.id}/public-comment/results.pdf", headers=people["sec"])
    assert r.status_code == 200
    assert r.data.startswith(b"%PDF")


# -- items: create, list, patch ---------------------------------------------------------------


def test_create_fills_nothing_and_requires_a_title(client, people):
    # The API fills no default (issue 20): the page's form pre-fills route and 局・区, not this.
    r = client.post(
        f"{API}/items", json={"title": "新しい案件", "section": "情報政策課"}, headers=people["dep"]
    )
    assert r.status_code == 201
    created = r.get_json()
    assert (created["route"], created["bureau"], created["division"]) == ([], "", "")
    err = error_of(
        client.post(f"{API}/items", json={"section": "情報政策課"}, headers=people["dep"]), 422
    )
    assert err["code"] == "validation_failed"
    assert "title" in err["details"]["fields"]


def test_department_files_only_for_its_own_section(client, people):
    make_section("財政課")
    db.session.commit()
    err = error_of(
        client.post(
            f"{API}/items", json={"title": "他課", "section": "財政課"}, headers=people["dep"]
        ),
        403,
    )
    assert err["code"] == "forbidden"


def test_list_filters_and_pages(client, people):
    dep, sec = people["department"], people["secretariat"]
    make_item(ItemStatus.DRAFT, department=dep, secretariat=sec, title="下書きの案件")
    for n in range(3):
        make_item(ItemStatus.ACCEPTED, department=dep, secretariat=sec, title=f"受付済み{n}")
    db.session.commit()
    r = client.get(
        f"{API}/items", query_string={"status": "accepted", "per_page": 2}, headers=people["sec"]
    )
    body = r.get_json()
    assert body["total"] == 3
    assert len(body["items"]) == 2
    body = client.get(
        f"{API}/items",
        query_string={"q": "下書き", "kind": "section_managers"},
        headers=people["sec"],
    ).get_json()
    assert body["total"] == 0
    body = client.get(
        f"{API}/items", query_string={"q": "下書き"}, headers=people["sec"]
    ).get_json()
    assert [i["title"] for i in body["items"]] == ["下書きの案件"]
    # The public sees nothing that is not on a published meeting.
    assert client.get(f"{API}/items").get_json() == {"items": [], "total": 0}
    err = error_of(client.get(f"{API}/items", query_string={"status": "nope"}), 422)
    assert "status" in err["details"]["fields"]
    error_of(client.get(f"{API}/items", query_string={"page": "0"}), 422)


def test_patch_needs_the_version_and_refuses_a_stale_one(client, people):
    item = make_item(department=people["department"], secretariat=people["secretariat"])
    db.session.commit()
    url = f"{API}/items/{item.id}"
    err = error_of(client.patch(url, json={"summary": "x"}, headers=people["dep"]), 422)
    assert "version" in err["details"]["fields"]
    doc = client.get(url, headers=people["dep"]).get_json()
    r = client.patch(
        url, json={"summary": "新しい概要", "version": doc["version"]}, headers=people["dep"]
    )
    assert r.status_code == 200
    assert r.get_json()["summary"] == "新しい概要"
    assert r.get_json()["version"] == doc["version"] + 1
    err = error_of(
        client.patch(
            url, json={"summary": "古い", "version": doc["version"]}, headers=people["dep"]
        ),
        409,
    )
    assert err["code"] == "conflict"


def test_the_document_read_can_be_sent_back(client, people):
    """GET → PATCH round-trips: read-only keys are ignored, history_rows is the 検討経過."""
    form = sample_form()
    r = client.post(f"{API}/items", json={k: form[k] for k in FORM_KEYS}, headers=people["dep"])
    doc = r.get_json()
    client.post(f"{API}/items/{doc['id']}/events/submit", headers=people["dep"])
    doc = client.get(f"{API}/items/{doc['id']}", headers=people["dep"]).get_json()
    assert doc["history"]  # the event history…
    client.post(
        f"{API}/items/{doc['id']}/events/return", json={"reason": "修正を"}, headers=people["sec"]
    )
    doc = client.get(f"{API}/items/{doc['id']}", headers=people["dep"]).get_json()
    doc["remarks"] = "備考を追加"
    r = client.patch(f"{API}/items/{doc['id']}", json=doc, headers=people["dep"])
    assert r.status_code == 200, r.get_json()
    after = r.get_json()
    assert after["remarks"] == "備考を追加"
    # …did not overwrite the 検討経過
    assert after["history_rows"] == [{**row, "remarks": ""} for row in form["history"]]


def test_patch_takes_history_as_the_review_rows(client, people):
    item = make_item(department=people["department"], secretariat=people["secretariat"])
    db.session.commit()
    rows = [{"when": "R1.5.24", "meeting": "第１回会議", "content": "進め方", "remarks": "書面"}]
    r = client.patch(
        f"{API}/items/{item.id}",
        json={"history": rows, "version": item.version},
        headers=people["dep"],
    )
    assert r.status_code == 200
    assert r.get_json()["history_rows"] == rows


# -- errors ------------------------------------------------------------------------------------


def test_malformed_json_is_400(client, people):
    for data in (b"{not json", b"[1, 2]", b"\xff\xfe{}", b"[" * 100_000):
        err = error_of(
            client.post(
                f"{API}/items", data=data, content_type="application/json", headers=people["dep"]
            ),
            400,
        )
        assert err["code"] == "bad_request"


def test_too_large_a_body_is_413_json(client, people):
    body = json.dumps({"title": "x", "summary": "あ" * (1024 * 1024)})
    err = error_of(
        client.post(
            f"{API}/items", data=body, content_type="application/json", headers=people["dep"]
        ),
        413,
    )
    assert err["code"] == "payload_too_large"


def test_no_token_where_one_is_needed_is_401_with_a_challenge(client):
    r = client.post(f"{API}/items", json={"title": "x"})
    assert error_of(r, 401)["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer chogi_nope", "Basic dXNlcjpwYXNz", "Bearer", "bearer  "]
)
def test_an_invalid_token_is_401_even_on_public_endpoints(client, header):
    r = client.get(f"{API}/minutes.json", headers={"Authorization": header})
    assert error_of(r, 401)["code"] == "unauthorized"
    assert "invalid_token" in r.headers["WWW-Authenticate"]


def test_a_revoked_token_is_401(client, people):
    token = token_for(people["secretariat"])
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/items", headers=headers).status_code == 200
    ApiToken.lookup(token).revoked_at = utcnow()
    db.session.commit()
    error_of(client.get(f"{API}/items", headers=headers), 401)


def test_the_session_cookie_is_not_authentication(client, people):
    from workflow.models import UserSession

    row = UserSession.start(people["secretariat"])
    db.session.add(row)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = row.token
        session["_fresh"] = True
    error_of(
        client.post(f"{API}/meetings", json={"kind": "section_managers", "date": "2020-01-01"}), 401
    )


def test_unknown_ids_are_404(client, people):
    for url in (f"{API}/items/999999", f"{API}/meetings/999999", f"{API}/items/99999999999999"):
        assert error_of(client.get(url, headers=people["sec"]), 404)["code"] == "not_found"


def test_unknown_event_is_404_unknown_event(client, people):
    item = make_item(department=people["department"], secretariat=people["secretariat"])
    db.session.commit()
    for event in ("fly", "schedule"):
        err = error_of(
            client.post(f"{API}/items/{item.id}/events/{event}", headers=people["sec"]), 404
        )
        assert err["code"] == "unknown_event"
        assert "submit" in err["details"]["events"]
    err = error_of(client.post(f"{API}/meetings/1/events/fly", headers=people["sec"]), 404)
    assert err["code"] == "unknown_event"


def test_an_event_not_allowed_now_is_409_with_state_and_events(client, people):
    item = make_item(department=people["department"], secretariat=people["secretariat"])
    db.session.commit()
    err = error_of(client.post(f"{API}/items/{item.id}/events/accept", headers=people["sec"]), 409)
    assert err["code"] == "not_allowed_in_state"
    assert err["details"]["status"] == "draft"
    assert "submit" in err["details"]["allowed_events"]


def test_event_parameters_are_checked(client, people):
    item = make_item(
        ItemStatus.SUBMITTED, department=people["department"], secretariat=people["secretariat"]
    )
    db.session.commit()
    url = f"{API}/items/{item.id}/events/return"
    assert "reason" in error_of(client.post(url, headers=people["sec"]), 422)["details"]["fields"]
    err = error_of(client.post(url, json={"reason": "x", "colour": 1}, headers=people["sec"]), 422)
    assert "colour" in err["details"]["fields"]
    r = client.post(url, json={"reason": "不足", "version": item.version}, headers=people["sec"])
    assert r.status_code == 200
    assert r.get_json()["history"][-1]["reason"] == "不足"


def test_event_with_a_stale_version_is_409(client, people):
    item = make_item(
        ItemStatus.SUBMITTED, department=people["department"], secretariat=people["secretariat"]
    )
    db.session.commit()
    r = client.post(
        f"{API}/items/{item.id}/events/accept",
        json={"version": item.version - 1 or 99},
        headers=people["sec"],
    )
    assert error_of(r, 409)["code"] == "conflict"


def test_close_public_comment_takes_today_only_in_testing(client, app, people):
    item = make_item(
        ItemStatus.PUBLIC_COMMENT,
        department=people["department"],
        secretariat=people["secretariat"],
    )
    db.session.commit()
    url = f"{API}/items/{item.id}/events/close_public_comment"
    err = error_of(client.post(url, json={"today": "2020-02-03"}, headers=people["sec"]), 422)
    assert "today" in err["details"]["fields"]  # before the closing day
    app.testing = False
    try:
        err = error_of(client.post(url, json={"today": "2020-02-05"}, headers=people["sec"]), 422)
        assert "today" in err["details"]["fields"]
    finally:
        app.testing = True
    assert client.post(url, json={"today": "2020-02-05"}, headers=people["sec"]).status_code == 200


def test_a_lost_race_at_commit_is_409_and_nothing_is_written(client, people, monkeypatch):
    item = make_item(department=people["department"], secretariat=people["secretariat"])
    db.session.commit()

    def lose(*_a, **_k):
        raise StaleDataError("UPDATE statement on table 'items' expected to update 1 row(s)")

    monkeypatch.setattr(db.session, "commit", lose)
    r = client.patch(
        f"{API}/items/{item.id}",
        json={"title": "上書き", "version": item.version},
        headers=people["dep"],
    )
    err = error_of(r, 409)
    assert err["code"] == "conflict"
    assert err["message"] == CONFLICT_MESSAGE
    monkeypatch.undo()
    db.session.expire_all()
    assert (
        client.get(f"{API}/items/{item.id}", headers=people["dep"]).get_json()["title"] != "上書き"
    )


def test_routing_errors_under_the_api_are_json(client):
    assert error_of(client.get(f"{API}/nothing-here"), 404)["code"] == "not_found"
    r = client.delete(f"{API}/search")
    assert error_of(r, 405)["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"]


# -- meetings ----------------------------------------------------------------------------------


def test_meeting_title_and_agenda_management(client, people):
    sec = people["sec"]
    r = client.post(
        f"{API}/meetings",
        json={
            "kind": "policy_coordination",
            "date": "2019-10-11",
            "number": 5,
            "start_time": "09:30",
            "venue": "第１会議室",
        },
        headers=sec,
    )
    assert r.status_code == 201, r.get_json()
    meeting = r.get_json()
    assert meeting["title"] == "第５回 政策調整会議"
    assert meeting["status"] == "planned"
    assert meeting["entries"] == []
    assert meeting["start_time"] == "09:30"
    item = make_item(
        ItemStatus.ACCEPTED,
        department=people["department"],
        secretariat=people["secretariat"],
        route=["policy_coordination"],
    )
    db.session.commit()
    url = f"{API}/meetings/{meeting['id']}/entries"
    r = client.post(url, json={"item_id": item.id, "presenter": "企画部長"}, headers=sec)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["entries"][0]["presenter"] == "企画部長"
    r = client.delete(f"{url}/{item.id}", headers=sec)
    assert r.status_code == 200
    assert r.get_json()["entries"] == []
    error_of(client.delete(f"{url}/{item.id}", headers=sec), 404)
    listed = client.get(
        f"{API}/meetings",
        query_string={"kind": "policy_coordination", "fiscal_year": 2019},
        headers=sec,
    ).get_json()
    assert [m["id"] for m in listed["meetings"]] == [meeting["id"]]
    assert client.get(f"{API}/meetings").get_json()["meetings"] == []  # nothing published
    err = error_of(
        client.post(f"{API}/meetings", json={"kind": "nope", "date": "2019-13-01"}, headers=sec),
        422,
    )
    assert "date" in err["details"]["fields"]


def test_a_meeting_held_with_undecided_entries_is_refused(client, people):
    item = make_item(
        ItemStatus.SCHEDULED, department=people["department"], secretariat=people["secretariat"]
    )
    db.session.commit()
    meeting_id = client.get(f"{API}/items/{item.id}", headers=people["sec"]).get_json()[
        "deliberations"
    ][0]["meeting_id"]
    err = error_of(
        client.post(f"{API}/meetings/{meeting_id}/events/confirm", headers=people["sec"]), 409
    )
    assert err["details"]["status"] == "planned"
    err = error_of(
        client.post(f"{API}/meetings/{meeting_id}/events/hold", headers=people["sec"]), 422
    )
    assert "entries" in err["details"]["fields"]


def test_search_respects_who_may_read(client, people):
    dep, sec = people["department"], people["secretariat"]
    make_item(department=dep, secretariat=sec, title="秘密の下書き", summary="ひみつ")
    make_item(
        ItemStatus.SUBMITTED,
        department=dep,
        secretariat=sec,
        title="申込済み",
        summary="みんなのひみつ",
    )
    viewer = make_user(Role.VIEWER)
    db.session.commit()

    def found(headers=None):
        r = client.get(f"{API}/search", query_string={"q": "ひみつ"}, headers=headers or {})
        return sorted(h["title"] for h in r.get_json()["results"])

    assert found(people["sec"]) == ["申込済み", "秘密の下書き"]
    assert found(auth(viewer)) == ["申込済み"]
    assert found() == []
    assert client.get(f"{API}/search").get_json() == {"results": []}


def test_openapi_document_is_served(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bureau", "局" * 101),
        ("division", "部" * 101),
        ("contact", "者" * 101),
        ("extension", "1" * 41),
        ("history", [{"when": "R" * 101, "meeting": "", "content": ""}]),
        ("coordination", [{"department": "課" * 101}]),
        ("target_kind", "policy\x00"),
        ("route", ["section\x00"]),
    ],
)
def test_input_wider_than_its_column_is_422_not_500(client, people, field, value):
    """PostgreSQL refuses what does not fit: the validator must say so first."""
    body = {"title": "x", "section": "情報政策課", field: value}
    err = error_of(client.post(f"{API}/items", json=body, headers=people["dep"]), 422)
    assert any(k.startswith(field) for k in err["details"]["fields"])


def test_meeting_text_wider_than_its_column_is_422(client, people):
    sec = people["sec"]
    base = {"kind": "section_managers", "date": "2020-01-01"}
    for extra in ({"chair": "長" * 101}, {"venue": "\x00"}, {"kind": "k\x00"}, {"number": 10**12}):
        error_of(client.post(f"{API}/meetings", json={**base, **extra}, headers=sec), 422)
    item = make_item(
        ItemStatus.ACCEPTED, department=people["department"], secretariat=people["secretariat"]
    )
    meeting_id = client.post(f"{API}/meetings", json=base, headers=sec).get_json()["id"]
    db.session.commit()
    r = client.post(
        f"{API}/meetings/{meeting_id}/entries",
        json={"item_id": item.id, "presenter": "長" * 101},
        headers=sec,
    )
    assert "presenter" in error_of(r, 422)["details"]["fields"]


def test_the_public_reads_the_section_managers_meeting_it_may_read(client, people):
    """継続審議 at a published 関係課長会議, taken up again at one not yet published: the public
    sees the published meeting's 出席課 and 結果, never what the later one recorded."""
    sec = people["secretariat"]
    item = make_item(ItemStatus.SCHEDULED, department=people["department"], secretariat=sec)
    taken_up = []
    for on, section, outcome in (
        (date(2019, 8, 21), "財政課", "continued"),
        (date(2019, 9, 18), "未公表課", "forwarded"),
    ):
        if taken_up:
            meeting = make_meeting(sec, on=on)
            meetings.schedule(sec, meeting, item, "担当課長")
        else:
            meeting = db.session.get(Meeting, item_meeting_id(item))
        record = {"attendance": [{"section": section, "deputy": False}], "opinions": []}
        meetings.record_deliberation(sec, meeting, item, record)
        meetings.record_outcome(
            sec, meeting, item, outcome, "policy_coordination" if outcome == "forwarded" else None
        )
        meetings.hold(sec, meeting)
        taken_up.append(meeting)
    meetings.confirm(sec, taken_up[0])
    meetings.publish(sec, taken_up[0])
    db.session.commit()

    public = client.get(f"{API}/items/{item.id}").get_json()
    assert public["section_managers_attendance"] == [
        {"section": "財政課", "deputy": False, "present": True}
    ]
    assert public["section_managers_result"] == "継続審議とする。"
    assert [d["meeting_id"] for d in public["deliberations"]] == [taken_up[0].id]
    staff = client.get(f"{API}/items/{item.id}", headers=people["sec"]).get_json()
    assert staff["section_managers_attendance"] == [
        {"section": "未公表課", "deputy": False, "present": True}
    ]


@pytest.mark.parametrize("title", ["一行目\r\n二行目", "一行目\n二行目", "案件名\r\n"])
def test_a_line_break_in_a_one_line_field_is_422_on_that_field(client, people, title):
    before = fingerprint()
    body = {"title": title, "section": "情報政策課"}
    err = error_of(client.post(f"{API}/items", json=body, headers=people["dep"]), 422)
    assert err["details"]["fields"] == {
        "title": ["改行は入力できません（1行で入力してください）。"]
    }
    assert fingerprint() == before
    created = client.post(
        f"{API}/items", json={"title": "案件", "section": "情報政策課"}, headers=people["dep"]
    ).get_json()
    for field in ("title", "contact", "extension"):
        r = client.patch(
            f"{API}/items/{created['id']}",
            json={field: "一行目\n二行目", "version": created["version"]},
            headers=people["dep"],
        )
        assert list(error_of(r, 422)["details"]["fields"]) == [field]
    # Long text keeps its lines.
    r = client.patch(
        f"{API}/items/{created['id']}",
        json={"summary": "一行目\n二行目", "version": created["version"]},
        headers=people["dep"],
    )
    assert r.status_code == 200
    assert r.get_json()["summary"] == "一行目\n二行目"
