"""DOMAIN §8 and §9: routing through reviews, joint sittings, versions frozen per meeting."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from tests.factories import make_item, make_meeting, make_section, make_user
from tests.support import auth
from workflow.errors import Conflict, ValidationFailed
from workflow.extensions import db
from workflow.models import HistoryEvent, ItemVersion, PdfCache
from workflow.pdf import documents
from workflow.services import items, meetings
from workflow.states.routing import forward_targets, next_kind
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

SM, AC, BP, PC, PD = (
    "section_managers",
    "affairs_coordination",
    "bureau_policy",
    "policy_coordination",
    "policy_decision",
)
REVIEWS = {AC}


# -- the rule, without a database ------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "kinds", "forward_to", "expected"),
    [
        ([SM, AC, PC], {SM}, PC, AC),  # the review on the way first
        ([SM, AC, PC], {AC}, PC, PC),  # then the named 上部庁議
        ([SM, AC, PC], {SM, AC}, PC, PC),  # a joint sitting passed both
        ([SM, BP, PC], {SM}, PC, PC),  # a ladder kind in between is passed over
        ([SM, AC, PC, PD], {PC}, PD, PD),
        ([SM, PC, AC, PD], {PC}, PD, AC),  # a review anywhere before the named kind
    ],
)
def test_next_kind(route, kinds, forward_to, expected):
    assert next_kind(route, kinds, forward_to, REVIEWS) == expected


def test_forward_targets_are_the_ladder_kinds_after_the_meeting():
    assert forward_targets([SM, AC, PC, PD], {SM}, REVIEWS) == [PC, PD]
    assert forward_targets([SM, AC, PC], {SM, AC}, REVIEWS) == [PC]
    assert forward_targets([SM, PC], {PC}, REVIEWS) == []


# -- through the services ------------------------------------------------------------------


@pytest.fixture
def people():
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    return make_user(Role.DEPARTMENT, section), make_user(Role.SECRETARIAT)


def _decide(secretariat, meeting, item, opinion: str, outcome="forwarded", forward_to=PC):
    meetings.record_deliberation(
        secretariat,
        meeting,
        item,
        {
            "opinions": [{"opinion": opinion, "response": f"{opinion}への回答"}],
            "attendance": [
                {"section": "企画政策課", "deputy": False},
                {"section": "財政課", "deputy": False, "present": False},
            ],
        },
    )
    meetings.record_outcome(
        secretariat, meeting, item, outcome, forward_to if outcome == "forwarded" else None
    )
    meetings.hold(secretariat, meeting)
    meetings.confirm(secretariat, meeting)


def _awaiting(department, secretariat, route=(SM, AC, PC)):
    """An item filed for 政策調整会議 on *route*, accepted: it awaits the route's first kind."""
    return make_item(
        ItemStatus.ACCEPTED,
        department=department,
        secretariat=secretariat,
        route=list(route),
        target_kind=PC,
    )


def _routed_item(department, secretariat):
    """Route 関係課長会議 → 事務事業調整会議 → 政策調整会議, taken through the first two."""
    item = _awaiting(department, secretariat)
    sm = make_meeting(secretariat, SM, date(2019, 8, 21))
    meetings.schedule(secretariat, sm, item, "情報政策課長")
    _decide(secretariat, sm, item, "関係課長会議での意見")
    assert item.status == ItemStatus.ACCEPTED
    assert item.level_kind == AC  # forwarded to 政策調整会議, awaiting the review first
    ac = make_meeting(secretariat, AC, date(2019, 10, 4))
    meetings.schedule(secretariat, ac, item, "情報政策課長")
    _decide(secretariat, ac, item, "事務事業調整会議での意見")
    assert item.level_kind == PC
    pc = make_meeting(secretariat, PC, date(2019, 10, 11))
    meetings.schedule(secretariat, pc, item, "企画部長")
    db.session.commit()
    return item, sm, ac, pc


def test_forwarded_item_passes_the_review_then_the_named_meeting(people):
    item, sm, ac, pc = _routed_item(*people)
    context = documents.filed_form_context(item, reader=people[1], meeting=pc)
    assert context["section_managers_result"] == "原案を上部庁議へ付議する。（政策調整会議）"
    assert [g["name"] for g in context["prior"]] == ["関係課長会議", "事務事業調整会議"]
    assert [g["opinions"][0]["opinion"] for g in context["prior"]] == [
        "関係課長会議での意見",
        "事務事業調整会議での意見",
    ]
    slots = [name for name, _ in context["review_dates"]]
    assert slots == ["関係課長会議", "局・区政策会議", "政策調整会議", "政策決定会議"]
    assert dict(context["review_dates"])["関係課長会議"] == date(2019, 8, 21)
    assert context["attendance"] == [
        {"name": "企画政策課", "deputy": False, "present": True},
        {"name": "財政課", "deputy": False, "present": False},
    ]


def test_a_review_kind_cannot_be_named_as_the_upper_meeting(people):
    department, secretariat = people
    item = make_item(
        ItemStatus.SCHEDULED, department=department, secretariat=secretariat, route=[SM, AC, PC]
    )
    meeting = meetings.entry_for  # noqa: F841 (the entry exists; find its meeting below)
    (entry,) = [e for e in db.session.scalars(sa.select(meetings.AgendaEntry))]
    with pytest.raises(ValidationFailed) as refused:
        meetings.record_outcome(secretariat, entry.meeting, item, "forwarded", AC)
    assert "forward_to" in refused.value.fields
    with pytest.raises(ValidationFailed) as off_route:
        meetings.record_outcome(secretariat, entry.meeting, item, "forwarded", PD)
    assert "経路にありません" in off_route.value.fields["forward_to"][0]


def test_the_api_answers_422_for_a_review_as_forward_to(client, people):
    department, secretariat = people
    item = make_item(
        ItemStatus.SCHEDULED, department=department, secretariat=secretariat, route=[SM, AC, PC]
    )
    (entry,) = db.session.scalars(sa.select(meetings.AgendaEntry)).all()
    db.session.commit()
    answer = client.post(
        f"/api/v1/meetings/{entry.meeting_id}/entries/{item.id}/outcome",
        json={"outcome": "forwarded", "forward_to": AC},
        headers=auth(secretariat),
    )
    assert answer.status_code == 422
    assert "forward_to" in answer.get_json()["error"]["details"]["fields"]


def test_a_joint_sitting_counts_for_both_kinds(client, people):
    department, secretariat = people
    item = _awaiting(department, secretariat)
    db.session.commit()
    answer = client.post(
        "/api/v1/meetings",
        json={"kind": SM, "second_kind": AC, "date": "2019-08-21"},
        headers=auth(secretariat),
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["title"] == "第１回 関係課長会議兼事務事業調整会議"
    assert body["second_kind"] == AC
    joint = db.session.get(meetings.Meeting, body["id"])
    meetings.schedule(secretariat, joint, item, "情報政策課長")
    _decide(secretariat, joint, item, "合同会議での意見")
    assert item.level_kind == PC  # both kinds passed: straight to 政策調整会議
    pc = make_meeting(secretariat, PC, date(2019, 10, 11))
    meetings.schedule(secretariat, pc, item, "企画部長")
    context = documents.filed_form_context(item, reader=secretariat, meeting=pc)
    assert [g["name"] for g in context["prior"]] == ["関係課長会議兼事務事業調整会議"]
    assert dict(context["review_dates"])["関係課長会議"] == date(2019, 8, 21)
    assert context["section_managers_result"] == "原案を上部庁議へ付議する。（政策調整会議）"
    # The second kind is numbered by the first kind's counter, and a second kind must differ.
    again = client.post(
        "/api/v1/meetings",
        json={"kind": SM, "second_kind": SM, "date": "2019-09-01"},
        headers=auth(secretariat),
    )
    assert again.status_code == 422


def test_an_item_awaiting_the_review_can_sit_in_a_joint_meeting_of_it(people):
    department, secretariat = people
    item = _awaiting(department, secretariat, route=(AC, PC))
    joint = make_meeting(secretariat, SM, date(2019, 8, 21), second_kind=AC)
    meetings.schedule(secretariat, joint, item, "課長")
    assert item.status == ItemStatus.SCHEDULED


# -- versions ----------------------------------------------------------------------------------


def _versions(item) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(ItemVersion.number)
            .where(ItemVersion.item_id == item.id)
            .order_by(ItemVersion.number)
        )
    )


def test_submitting_makes_version_one_and_each_changing_save_the_next(people):
    department, secretariat = people
    item = make_item(ItemStatus.DRAFT, department=department, secretariat=secretariat)
    items.update_item(department, item, {"summary": "下書き"})
    assert _versions(item) == []  # a draft has no versions
    items.submit(department, item)
    assert _versions(item) == [1]
    items.accept(secretariat, item)
    items.update_item(department, item, {"summary": "付議待ちの間に修正"})
    items.update_item(department, item, {"summary": "付議待ちの間に修正"})  # nothing changed
    assert _versions(item) == [1, 2]
    revisions = db.session.scalars(
        sa.select(HistoryEvent).where(
            HistoryEvent.item_id == item.id, HistoryEvent.event == "revise"
        )
    ).all()
    assert [(r.from_state, r.to_state, r.params) for r in revisions] == [
        ("accepted", "accepted", {"version_number": 2})
    ]


def test_a_scheduled_item_cannot_be_edited(people):
    department, secretariat = people
    item = make_item(ItemStatus.SCHEDULED, department=department, secretariat=secretariat)
    with pytest.raises(Conflict):
        items.update_item(department, item, {"summary": "審議予定の間の修正"})


def test_the_route_may_change_only_after_the_kinds_passed(people):
    department, secretariat = people
    item, sm, ac, pc = _routed_item(department, secretariat)
    meetings.unschedule(secretariat, pc, item)
    with pytest.raises(ValidationFailed) as head:
        items.update_item(department, item, {"route": [AC, PC]})
    assert "先頭" in head.value.fields["route"][0]
    with pytest.raises(ValidationFailed) as awaited:
        items.update_item(department, item, {"route": [SM, AC, PD]})
    assert "政策調整会議" in awaited.value.fields["route"][0]
    items.update_item(department, item, {"route": [SM, AC, PC, PD]})
    assert item.route == [SM, AC, PC, PD]


def test_the_form_of_a_meeting_does_not_change_after_an_edit(client, people):
    department, secretariat = people
    item, sm, ac, pc = _routed_item(department, secretariat)
    meetings.record_outcome(secretariat, pc, item, "continued")
    meetings.hold(secretariat, pc)
    db.session.commit()
    url = f"/api/v1/items/{item.id}/form.pdf?meeting={pc.id}"
    frozen = client.get(url, headers=auth(department))
    assert frozen.status_code == 200
    current = client.get(f"/api/v1/items/{item.id}/form.pdf", headers=auth(department)).data

    answer = client.patch(
        f"/api/v1/items/{item.id}",
        json={"version": item.version, "title": "相模原市ＩＣＴ総合戦略（修正後）"},
        headers=auth(department),
    )
    assert answer.status_code == 200, answer.get_json()
    assert client.get(url, headers=auth(department)).data == frozen.data
    assert client.get(f"/api/v1/items/{item.id}/form.pdf", headers=auth(department)).data != current

    # Rendered again from nothing (the cache emptied, the renderer's caches dropped): the same bytes.
    db.session.execute(sa.delete(PdfCache))
    db.session.commit()
    from workflow.pdf import render

    render._engine.cache_clear()
    render._jinja.cache_clear()
    assert client.get(url, headers=auth(department)).data == frozen.data

    listed = client.get(f"/api/v1/items/{item.id}/versions", headers=auth(department)).get_json()
    numbers = [v["number"] for v in listed["versions"]]
    assert numbers == [1, 2]
    assert listed["versions"][0]["created_by"] == department.login
    assert sorted(listed["versions"][0]["meeting_ids"]) == sorted([sm.id, ac.id, pc.id])
    assert listed["versions"][1]["meeting_ids"] == []
    second = client.get(f"/api/v1/items/{item.id}/versions/2", headers=auth(department))
    assert second.get_json()["title"] == "相模原市ＩＣＴ総合戦略（修正後）"
    first = client.get(f"/api/v1/items/{item.id}/versions/1", headers=auth(department))
    assert first.get_json()["title"] == item_title_before(first.get_json())
    assert (
        client.get(f"/api/v1/items/{item.id}/versions/9", headers=auth(department)).status_code
        == 404
    )
    assert client.get(f"/api/v1/items/{item.id}/versions").status_code == 401


def item_title_before(fields: dict) -> str:
    assert fields["title"].startswith("テスト案件")
    return fields["title"]


def test_notes_under_earlier_opinions_are_printed_in_the_next_meetings_form(client, people):
    department, secretariat = people
    item = _awaiting(department, secretariat)
    sm = make_meeting(secretariat, SM, date(2019, 8, 21))
    meetings.schedule(secretariat, sm, item, "課長")
    _decide(secretariat, sm, item, "比較検討が必要ではないか")
    (opinion,) = [o for e in sm.entries for o in e.opinions]
    note = "再度比較・検討した結果、Ｂ案へ変更"
    items.update_item(
        department, item, {"opinion_notes": [{"opinion_id": opinion.id, "text": note}]}
    )
    # Notes go under this item's earlier opinions only.
    with pytest.raises(ValidationFailed):
        items.update_item(
            department, item, {"opinion_notes": [{"opinion_id": opinion.id + 999, "text": "x"}]}
        )
    ac = make_meeting(secretariat, AC, date(2019, 10, 4))
    meetings.schedule(secretariat, ac, item, "課長")
    context = documents.filed_form_context(item, reader=secretariat, meeting=ac)
    (group,) = context["prior"]
    assert group["opinions"][0]["follow_ups"] == [note]
    # …and shown on the item page under the opinion.
    from tests.support import login

    db.session.commit()
    login(client, department)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert note in page


def test_an_amendment_is_confirmed_or_returned_by_the_secretariat(client, people):
    department, secretariat = people
    item = make_item(ItemStatus.AMENDING, department=department, secretariat=secretariat)
    items.update_item(department, item, {"summary": "一部修正後の概要"})
    items.submit_amendment(department, item)
    assert item.status == ItemStatus.AMENDMENT_SUBMITTED
    with pytest.raises(ValidationFailed):
        items.return_amendment(secretariat, item, "")
    items.return_amendment(secretariat, item, "修正箇所が反映されていません。")
    assert item.status == ItemStatus.AMENDING
    db.session.commit()
    from tests.support import login

    login(client, department)
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "修正版が差し戻されました。" in page
    assert "理由：</strong>修正箇所が反映されていません。" in page
    client.post("/logout")
    items.submit_amendment(department, item)
    db.session.commit()
    refused = client.post(
        f"/api/v1/items/{item.id}/events/confirm_amendment", json={}, headers=auth(department)
    )
    assert refused.status_code == 403
    answer = client.post(
        f"/api/v1/items/{item.id}/events/confirm_amendment", json={}, headers=auth(secretariat)
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "approved"


def test_the_item_page_lists_the_versions_and_shows_a_difference(client, people):
    from tests.support import login

    department, secretariat = people
    item = make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
    items.update_item(department, item, {"summary": "付議待ちの間に書き直した概要"})
    items.update_item(department, item, {"remarks": "備考を追加"})
    db.session.commit()
    login(client, department)
    assert "様式２の版と比較" in client.get(f"/items/{item.id}").get_data(as_text=True)
    page = client.get(f"/items/{item.id}/versions?a=1&b=3").get_data(as_text=True)
    assert "第3版" in page
    changed = page[page.index("で変わった項目") :]
    assert "概要" in changed
    assert "付議待ちの間に書き直した概要" in changed
    assert "備考を追加" in changed
    assert "案件名" not in changed  # unchanged fields are not listed
    same = client.get(f"/items/{item.id}/versions?a=2&b=2").get_data(as_text=True)
    assert "違いはありません" in same


def test_a_joint_sitting_on_the_pages_and_in_open_data(client, people):
    from tests.support import login

    department, secretariat = people
    item = _awaiting(department, secretariat)
    awaiting_review = _awaiting(department, secretariat, route=(AC, PC))
    joint = make_meeting(secretariat, SM, date(2019, 8, 21), second_kind=AC)
    db.session.commit()
    login(client, secretariat)
    page = client.get(f"/meetings/{joint.id}").get_data(as_text=True)
    assert "第１回 関係課長会議兼事務事業調整会議" in page
    assert item.title in page  # both the item awaiting 関係課長会議…
    assert awaiting_review.title in page  # …and the one awaiting 事務事業調整会議 may be added
    listed = client.get(f"/meetings/?kind={AC}").get_data(as_text=True)
    assert "関係課長会議兼事務事業調整会議" in listed

    meetings.schedule(secretariat, joint, item, "課長")
    db.session.commit()
    room = client.get(f"/meetings/{joint.id}/room/1").get_data(as_text=True)
    select_ = room[
        room.index('name="forward_to"') : room.index("</select>", room.index('name="forward_to"'))
    ]
    assert "政策調整会議" in select_
    assert "事務事業調整会議" not in select_  # a review is passed on the way, never named
    assert "出席課" in room  # a joint sitting of 関係課長会議 records who attended

    _decide(secretariat, joint, item, "合同会議での意見")
    meetings.publish(secretariat, joint)
    db.session.commit()
    document = client.get("/api/v1/minutes.json").get_json()
    assert {row["meeting"] for row in document["rows"]} == {"第１回 関係課長会議兼事務事業調整会議"}


def test_the_frozen_form_is_the_same_in_a_new_process_after_the_cache_is_emptied(
    client, people, database_url
):
    """As after a restart: another process, its own caches, the PDF cache emptied by the CLI."""
    import subprocess
    import sys
    from pathlib import Path

    department, secretariat = people
    item, sm, ac, pc = _routed_item(department, secretariat)
    meetings.record_outcome(secretariat, pc, item, "continued")
    meetings.hold(secretariat, pc)
    db.session.commit()
    url = f"/api/v1/items/{item.id}/form.pdf?meeting={pc.id}"
    before = client.get(url, headers=auth(secretariat)).data
    items.update_item(department, item, {"summary": "会議の後で書き直した概要"}, version=None)
    db.session.commit()
    result = client.application.test_cli_runner().invoke(args=["pdf-cache", "clear"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PdfCache)) == 0
    ids = [str(item.id), str(pc.id), str(secretariat.id)]
    db.session.remove()
    script = (
        "import sys\n"
        "from tests.support import make_app\n"
        "from workflow.extensions import db\n"
        "from workflow.models import Item, Meeting, User\n"
        "from workflow.pdf import documents\n"
        "url, item_id, meeting_id, user_id = sys.argv[1:]\n"
        "with make_app(url).app_context():\n"
        "    item, meeting = db.session.get(Item, int(item_id)), db.session.get(Meeting, int(meeting_id))\n"
        "    doc = documents.request_form_pdf(item, reader=db.session.get(User, int(user_id)), meeting=meeting)\n"
        "    assert not doc.cached\n"
        "    sys.stdout.buffer.write(doc.content)\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", script, database_url, *ids],
        capture_output=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    assert other == before


def test_the_difference_names_parts_and_coded_values_in_japanese(client, people):
    from tests.support import login

    department, secretariat = people
    item = make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
    items.update_item(
        department,
        item,
        {"council_report": {"channel": "committee", "timing": "令和８年", "regular_session": True}},
    )
    db.session.commit()
    login(client, department)
    page = client.get(f"/items/{item.id}/versions?a=1&b=2").get_data(as_text=True)
    changed = page[page.index("で変わった項目") :]
    assert "提供先: 部会" in changed
    assert "定例会議: あり" in changed
    assert "committee" not in changed
    assert "regular_session" not in changed


def test_the_public_reads_the_form_filed_for_the_published_meeting(client, people):
    """A revision after a published meeting stays inside until its own meeting is published."""
    department, secretariat = people
    item = _awaiting(department, secretariat, route=(SM, PC))
    sm = make_meeting(secretariat, SM, date(2019, 8, 21))
    meetings.schedule(secretariat, sm, item, "課長")
    _decide(secretariat, sm, item, "公開された会議での意見")
    meetings.publish(secretariat, sm)
    published_title = item.title
    items.update_item(
        department, item, {"title": "会議の後で直した案件名", "summary": "未公開の修正"}
    )
    db.session.commit()

    page = client.get(f"/public/items/{item.id}").get_data(as_text=True)
    assert published_title in page
    assert "未公開の修正" not in page
    answer = client.get(f"/api/v1/items/{item.id}").get_json()
    assert answer["title"] == published_title
    assert answer["summary"] != "未公開の修正"
    for url in (f"/public/items/{item.id}/form.pdf", f"/api/v1/items/{item.id}/form.pdf"):
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(client.get(url).data)).pages)
        assert "未公開の修正" not in text
        assert "公開された会議での意見" in text  # what the published minutes recorded
    # Staff read the current form.
    staff = client.get(f"/api/v1/items/{item.id}", headers=auth(department)).get_json()
    assert staff["summary"] == "未公開の修正"


def test_the_room_does_not_offer_forwarding_past_the_end_of_the_route(client, people):
    from tests.support import login

    department, secretariat = people
    item = make_item(
        ItemStatus.SCHEDULED, department=department, secretariat=secretariat, route=[SM]
    )
    (entry,) = db.session.scalars(sa.select(meetings.AgendaEntry)).all()
    db.session.commit()
    login(client, secretariat)
    room = client.get(f"/meetings/{entry.meeting_id}/room/1").get_data(as_text=True)
    assert 'value="forwarded"' not in room
    assert "この会議より上位の会議がない" in room
    assert item.status == ItemStatus.SCHEDULED


def test_a_save_on_the_page_says_which_version_it_made(client, people):
    from tests.support import login

    department, secretariat = people
    item = make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
    db.session.commit()
    login(client, department)
    form = client.get(f"/items/{item.id}/edit").get_data(as_text=True)
    assert "保存する" in form  # not 「下書き保存」: the item was submitted
    data = {
        "version": str(item.version),
        "title": item.title,
        "section": item.section.name,
        "summary": "一行目\r\n二行目",
        "route": list(item.route),
        "save": "1",
    }
    answer = client.post(f"/items/{item.id}/edit", data=data, follow_redirects=True)
    assert "様式２の第2版になりました" in answer.get_data(as_text=True)
    db.session.refresh(item)
    assert item.summary == "一行目\n二行目"
    data["version"] = str(item.version)
    again = client.post(f"/items/{item.id}/edit", data=data, follow_redirects=True)
    assert "変更した項目はありません" in again.get_data(as_text=True)
    assert _versions(item) == [1, 2]
