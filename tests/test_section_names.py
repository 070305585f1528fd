"""Section names as printed: frozen on forms and minutes made before a rename or merge; a
retired section files no new request (issue 18)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from tests.disclosure_scene import pdf_text
from tests.factories import item_meeting_id, make_item, make_meeting, make_section, make_user
from tests.support import API, auth, login
from workflow.errors import ValidationFailed
from workflow.extensions import db
from workflow.models import HistoryEvent, Item, Meeting
from workflow.pdf import documents
from workflow.services import admin, items, meetings
from workflow.states.states import ItemStatus, Role

pytestmark = pytest.mark.usefixtures("app")

APRIL_FIRST = datetime(2027, 4, 1, 0, 30, tzinfo=UTC)  # 令和9年4月1日, 9:30 JST


def test_a_section_renamed_on_2027_04_01_keeps_its_old_name_on_forms_and_minutes_made_before(
    monkeypatch: pytest.MonkeyPatch, client
):
    section = make_section("情報政策課", bureau="総務局", division="ICT推進部")
    department = make_user(Role.DEPARTMENT, section)
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.ACCEPTED, department=department, secretariat=secretariat)
    march = make_meeting(secretariat, kind=item.level_kind, on=date(2027, 3, 10))
    meetings.schedule(secretariat, march, item, "ICT推進部長")
    db.session.commit()

    for module in ("workflow.services.admin", "workflow.models.history"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: APRIL_FIRST)
    admin.rename_section(None, "cli", section, "デジタル推進課")
    db.session.commit()
    db.session.expire_all()

    agenda = pdf_text(documents.agenda_pdf(march).content)
    assert "情報政策課" in agenda
    assert "デジタル推進課" not in agenda
    frozen_form = pdf_text(
        documents.request_form_pdf(item, reader=secretariat, meeting=march).content
    )
    assert "情報政策課" in frozen_form
    assert "デジタル推進課" not in frozen_form

    login(client, secretariat)
    page = client.get(f"/meetings/{march.id}").get_data(as_text=True)
    assert "情報政策課" in page
    assert "デジタル推進課" not in page

    # A request filed after the rename carries the new name.
    later = items.file_item(department, {"title": "新年度の案件", "section": "デジタル推進課"})
    db.session.commit()
    new_form = pdf_text(documents.request_form_pdf(later, reader=secretariat).content)
    assert "デジタル推進課" in new_form
    assert "情報政策課" not in new_form
    [row] = [r for r in admin_history() if r.event == "admin.section.rename"]
    assert row.occurred_at == APRIL_FIRST
    assert row.params["before"] == {"name": "情報政策課"}


def admin_history() -> list[HistoryEvent]:
    return list(db.session.scalars(select(HistoryEvent).where(HistoryEvent.event.like("admin.%"))))


def test_a_merged_section_keeps_its_name_on_the_agenda_and_its_items_move():
    old, new = make_section("旧統計課"), make_section("統計データ課")
    department = make_user(Role.DEPARTMENT, old)
    secretariat = make_user(Role.SECRETARIAT)
    item = make_item(ItemStatus.SCHEDULED, department=department, secretariat=secretariat)
    meeting = db.session.get(Meeting, item_meeting_id(item))
    admin.merge_section(None, "cli", old, new)
    db.session.commit()
    db.session.expire_all()
    assert item.section.name == "統計データ課"
    assert department.section.name == "統計データ課"
    agenda = pdf_text(documents.agenda_pdf(meeting).content)
    assert "旧統計課" in agenda
    assert "統計データ課" not in agenda


def test_a_retired_section_files_no_new_request_but_its_items_stay_editable(client):
    section = make_section("廃止予定課")
    department = make_user(Role.DEPARTMENT, section)
    item = make_item(department=department)
    admin.retire_section(None, "cli", section)
    db.session.commit()

    with pytest.raises(ValidationFailed, match="廃止されています") as refused:
        items.file_item(department, {"title": "新しい案件", "section": "廃止予定課"})
    assert "section" in refused.value.fields
    db.session.rollback()

    response = client.post(
        f"{API}/items",
        json={"title": "新しい案件", "section": "廃止予定課"},
        headers=auth(department),
    )
    assert response.status_code == 422
    assert "廃止" in response.get_json()["error"]["message"]

    items.update_item(department, item, {"title": "題名を直した案件"})
    db.session.commit()
    assert item.title == "題名を直した案件"

    secretariat = make_user(Role.SECRETARIAT)
    make_section("残る課")
    db.session.commit()
    login(client, secretariat)
    page = client.get("/items/new").get_data(as_text=True)
    assert "残る課" in page
    assert "廃止予定課" not in page


def test_a_merged_section_is_refused_naming_the_section_it_joined():
    old, new = make_section("企画政策課"), make_section("政策課")
    secretariat = make_user(Role.SECRETARIAT)
    admin.merge_section(None, "cli", old, new)
    db.session.commit()
    joined = "課「企画政策課」は「政策課」に統合されたため廃止されています。"

    with pytest.raises(ValidationFailed) as refused:
        items.file_item(secretariat, {"title": "新しい案件", "section": "企画政策課"})
    assert refused.value.fields == {"section": [joined + "案件を登録できません。"]}
    db.session.rollback()
    with pytest.raises(ValidationFailed) as refused:
        admin.create_user(
            None, "cli", login="x", display_name="x", role=Role.DEPARTMENT, section=old
        )
    assert refused.value.fields == {"section": [joined + "利用者を所属させられません。"]}
    with pytest.raises(ValidationFailed) as refused:
        admin.retire_section(None, "cli", old)
    assert refused.value.fields == {"section": [joined]}
    with pytest.raises(ValidationFailed) as refused:
        admin.merge_section(None, "cli", new, old)
    assert refused.value.fields == {"into": [joined + "統合先にはできません。"]}


def test_a_department_user_whose_section_was_retired_is_told_so_on_the_new_request_page(client):
    section = make_section("廃止予定課")
    department = make_user(Role.DEPARTMENT, section)
    admin.retire_section(None, "cli", section)
    db.session.commit()
    login(client, department)
    told = "所属の課「廃止予定課」は廃止されています。管理者に所属の変更を依頼してください。"

    page = client.get("/items/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert told in html
    assert "入力してください" not in html
    assert 'name="title"' not in html  # no form with an empty 課 select

    response = client.post("/items/new", data={"title": "新しい案件", "section": "廃止予定課"})
    assert response.status_code == 422
    assert told in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Item)) == 0


def test_the_new_request_page_names_the_section_a_users_retired_one_joined(client):
    old, new = make_section("企画政策課"), make_section("政策課")
    admin.merge_section(None, "cli", old, new)
    # Left in the merged section (say, by a directory sign-in naming the old 課).
    department = make_user(Role.DEPARTMENT, old)
    db.session.commit()
    login(client, department)
    told = (
        "所属の課「企画政策課」は廃止されています（「政策課」に統合）。"
        "管理者に所属の変更を依頼してください。"
    )
    assert told in client.get("/items/new").get_data(as_text=True)
    response = client.post("/items/new", data={"title": "新しい案件"})
    assert response.status_code == 422
    assert told in response.get_data(as_text=True)
