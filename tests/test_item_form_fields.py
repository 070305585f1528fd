"""The 様式２ page's newer fields: 検討経過の備考, 定例会議, 議会上程時期, and the department's
notes under the opinions of the item's earlier meetings (「（→…）」, DOMAIN §9)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.factories import make_item, make_section, make_user
from tests.support import login
from workflow.demo.sample import play_sample
from workflow.extensions import db
from workflow.forms.items import ItemForm
from workflow.models import AgendaEntry, Item, ItemOpinionNote, Opinion, User
from workflow.schemas.limits import TEXT_MAX, UNSTORABLE_MESSAGE, too_long_message
from workflow.schemas.types import LINE_BREAK_MESSAGE
from workflow.states.states import ItemStatus, Role, SubmissionLabel

pytestmark = pytest.mark.usefixtures("app")

NOTES_HEADING = "これまでの庁議での意見への追記"


@pytest.fixture
def people(app: Flask) -> dict[str, User]:
    section = make_section("情報政策課", bureau="企画財政局", division="企画部")
    people = {
        "department": make_user(Role.DEPARTMENT, section=section, login="dept"),
        "secretariat": make_user(Role.SECRETARIAT, login="sec"),
    }
    db.session.commit()
    return people


def text(response) -> str:
    return response.get_data(as_text=True)


class _FormFields(HTMLParser):
    """What a browser would send for the page's item form, as (name, value) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._textarea: list[str] | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._chosen = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.pairs.append((name, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = [name]
        elif tag == "select" and name:
            self._select, self._first_option, self._chosen = name, None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in a and not self._chosen:
                self.pairs.append((self._select, value))
                self._chosen = True

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            name, *parts = self._textarea
            # a browser drops the newline that follows <textarea>
            self.pairs.append((name, re.sub(r"^\r?\n", "", "".join(parts))))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._chosen and self._first_option is not None:
                self.pairs.append((self._select, self._first_option))
            self._select = None


def form_of(page: str) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(page)
    data: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    return data


def field_block(page: str, field_id: str) -> str:
    """The ``<div class="field…">`` that holds the control *field_id*."""
    at = page.index(f'id="{field_id}"')
    start = page.rindex('<div class="field', 0, at)
    end = page.index("</div>", at)
    return page[start:end]


# -- the plain fields ---------------------------------------------------------------------------


def test_remarks_regular_session_and_placement_label_are_saved(client: FlaskClient, people):
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    db.session.commit()
    login(client, people["department"])
    assert "1行目 備考" in text(client.get("/items/new"))
    page = text(client.get(f"/items/{item.id}/edit"))
    assert "定例会議" in page
    assert "議会上程時期" in page
    assert NOTES_HEADING not in page  # a draft has no earlier meetings (and takes no notes)

    data = form_of(page)
    data.update(
        {
            "history-0-when": ["R1.5.24"],
            "history-0-remarks": ["書面で報告"],
            "council_channel": ["committee"],
            "council_timing": ["令和元年１２月"],
            "council_regular_session": ["y"],
            "ordinance_kind": ["ordinance"],
            "ordinance_change": ["amend"],
            "ordinance_submission_label": ["placement"],
            "ordinance_council_submission": ["令和２年２月"],
            "save": ["1"],
        }
    )
    response = client.post(f"/items/{item.id}/edit", data=data)
    assert response.status_code == 302, text(response)
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert [(r.when, r.remarks) for r in item.history_rows] == [("R1.5.24", "書面で報告")]
    assert item.council_regular_session is True
    assert item.ordinance_submission_label == SubmissionLabel.PLACEMENT
    assert item.ordinance_council_submission == "令和２年２月"
    assert item.opinion_notes == []

    page = text(client.get(f"/items/{item.id}/edit"))
    assert "書面で報告" in page
    assert re.search(r'<input[^>]*checked[^>]*name="council_regular_session"', page) or re.search(
        r'<input[^>]*name="council_regular_session"[^>]*checked', page
    )
    assert '<option selected value="placement">' in page or re.search(
        r'<option[^>]*value="placement"[^>]*selected', page
    )
    # the timing's input is labelled with the heading chosen
    assert (
        f'<label for="ordinance_council_submission">{SubmissionLabel.PLACEMENT.label}</label>'
        in (page)
    )

    # unticked, the session flag goes back to false; the label back to 議会提案時期
    data = form_of(page)
    data.pop("council_regular_session", None)
    data.update({"ordinance_submission_label": ["proposal"], "save": ["1"]})
    assert client.post(f"/items/{item.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert item.council_regular_session is False
    assert item.ordinance_submission_label == SubmissionLabel.PROPOSAL
    assert [(r.when, r.remarks) for r in item.history_rows] == [("R1.5.24", "書面で報告")]


def test_a_history_row_with_only_remarks_is_kept(client: FlaskClient, people):
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    db.session.commit()
    login(client, people["department"])
    data = form_of(text(client.get(f"/items/{item.id}/edit")))
    data.update({"history-0-remarks": ["備考だけの行"], "save": ["1"]})
    assert client.post(f"/items/{item.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert [r.remarks for r in db.session.get(Item, item.id).history_rows] == ["備考だけの行"]


def test_adding_a_history_row_keeps_the_remarks_typed(client: FlaskClient, people):
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    db.session.commit()
    login(client, people["department"])
    data = form_of(text(client.get(f"/items/{item.id}/edit")))
    data.update({"history-0-remarks": ["先に入力した備考"], "add_history": ["1"]})
    page = text(client.post(f"/items/{item.id}/edit", data=data))
    assert "先に入力した備考" in page
    assert "2行目 備考" in page


def test_a_service_refusal_of_a_history_remark_lands_beside_it(client: FlaskClient, people):
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    db.session.commit()
    login(client, people["department"])
    data = form_of(text(client.get(f"/items/{item.id}/edit")))
    # the first row is left empty (dropped); the refused remark is the form's second row
    data.update(
        {
            "history-0-when": [""],
            "history-1-when": ["R1.6.1"],
            "history-1-remarks": ["NUL\x00を含む"],
            "save": ["1"],
        }
    )
    response = client.post(f"/items/{item.id}/edit", data=data)
    assert response.status_code == 422
    page = text(response)
    assert UNSTORABLE_MESSAGE in field_block(page, "history-1-remarks")
    assert "R1.6.1" in page


@pytest.mark.parametrize("field", ["title", "contact", "council_timing"])
def test_a_line_break_in_a_one_line_field_is_refused_beside_it(client: FlaskClient, people, field):
    """The same rule and message as the API: a pasted break is refused, never silently joined."""
    item = make_item(ItemStatus.DRAFT, department=people["department"])
    db.session.commit()
    before = (item.title, item.contact, item.council_timing, item.version)
    login(client, people["department"])
    data = form_of(text(client.get(f"/items/{item.id}/edit")))
    data.update({field: ["一行目\r\n二行目"], "save": ["1"]})
    response = client.post(f"/items/{item.id}/edit", data=data)
    assert response.status_code == 422
    page = text(response)
    assert LINE_BREAK_MESSAGE in field_block(page, field)
    db.session.expire_all()
    assert (item.title, item.contact, item.council_timing, item.version) == before


# -- notes under earlier opinions ---------------------------------------------------------------


@pytest.fixture
def accepted_after_meeting(people) -> Item:
    """The sample item, accepted again after its 関係課長会議 (published, with opinions)."""
    path = play_sample(people["department"], people["secretariat"], until="section_managers")
    db.session.commit()
    assert path.item.status == ItemStatus.ACCEPTED
    return path.item


def _opinions(item: Item) -> list[Opinion]:
    return list(
        db.session.scalars(
            select(Opinion)
            .join(AgendaEntry, Opinion.entry_id == AgendaEntry.id)
            .where(AgendaEntry.item_id == item.id)
            .order_by(Opinion.id)
        )
    )


def test_a_department_adds_a_note_under_an_earlier_opinion(
    client: FlaskClient, people, accepted_after_meeting: Item
):
    item = accepted_after_meeting
    first, second, *_ = _opinions(item)
    login(client, people["department"])
    page = text(client.get(f"/items/{item.id}/edit"))
    assert NOTES_HEADING in page
    assert first.opinion in page
    assert first.response in page
    assert page.count("追記（→…）") >= 2

    data = form_of(page)
    (name,) = [k for k, v in data.items() if k.endswith("-opinion_id") and v == [str(first.id)]]
    data[name.replace("-opinion_id", "-text")] = ["情報政策課に担当者を配置した。"]
    data["save"] = ["1"]
    response = client.post(f"/items/{item.id}/edit", data=data)
    assert response.status_code == 302, text(response)

    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert [(n.opinion_id, n.text) for n in item.opinion_notes] == [
        (first.id, "情報政策課に担当者を配置した。")
    ]
    page = text(client.get(f"/items/{item.id}/edit"))
    assert "情報政策課に担当者を配置した。" in page

    # emptied, the note goes; another opinion's note comes
    data = form_of(page)
    for key, values in data.items():
        if key.endswith("-opinion_id"):
            note = {str(second.id): "学校の範囲を調整した。"}.get(values[0], "")
            data[key.replace("-opinion_id", "-text")] = [note]
    data["save"] = ["1"]
    assert client.post(f"/items/{item.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert [(n.opinion_id, n.text) for n in item.opinion_notes] == [
        (second.id, "学校の範囲を調整した。")
    ]


def test_a_note_too_long_is_refused_beside_it_and_nothing_is_lost(
    client: FlaskClient, people, accepted_after_meeting: Item
):
    item = accepted_after_meeting
    first = _opinions(item)[0]
    version = item.version
    login(client, people["department"])
    data = form_of(text(client.get(f"/items/{item.id}/edit")))
    (name,) = [k for k, v in data.items() if k.endswith("-opinion_id") and v == [str(first.id)]]
    text_name = name.replace("-opinion_id", "-text")
    data[text_name] = ["あ" * (TEXT_MAX + 1)]
    data["summary"] = ["書き換えた概要"]
    data["save"] = ["1"]
    response = client.post(f"/items/{item.id}/edit", data=data)
    assert response.status_code == 422
    page = text(response)
    assert too_long_message(TEXT_MAX, TEXT_MAX + 1) in field_block(page, text_name)
    assert "書き換えた概要" in page  # what was typed is still there
    assert "あ" * 100 in page
    db.session.expire_all()
    item = db.session.get(Item, item.id)
    assert item.version == version
    assert item.opinion_notes == []


def test_a_note_the_service_refuses_lands_beside_it(
    client: FlaskClient, people, accepted_after_meeting: Item
):
    item = accepted_after_meeting
    second = _opinions(item)[1]
    login(client, people["department"])
    data = form_of(text(client.get(f"/items/{item.id}/edit")))
    (name,) = [k for k, v in data.items() if k.endswith("-opinion_id") and v == [str(second.id)]]
    text_name = name.replace("-opinion_id", "-text")
    data[text_name] = ["NUL\x00を含む追記"]
    data["save"] = ["1"]
    response = client.post(f"/items/{item.id}/edit", data=data)
    assert response.status_code == 422
    assert UNSTORABLE_MESSAGE in field_block(text(response), text_name)


def test_notes_under_opinions_not_shown_are_kept(
    client: FlaskClient, people, accepted_after_meeting: Item
):
    """A note under an opinion the page does not offer is sent back as it is."""
    item = accepted_after_meeting
    first, second, *_ = _opinions(item)
    item.opinion_notes = [ItemOpinionNote(opinion_id=second.id, text="前からの追記")]
    db.session.commit()
    login(client, people["department"])
    form = ItemForm(
        formdata=None,
        data=ItemForm.data_from_item(item, []),
        kinds=[],
        sections=["情報政策課"],
        opinion_ids=[first.id],
        kept_notes=[{"opinion_id": second.id, "text": "前からの追記"}],
    )
    assert form.to_service_data()["opinion_notes"] == [
        {"opinion_id": second.id, "text": "前からの追記"}
    ]
    form.note_for(first.id).form.text.data = "新しい追記"
    assert form.to_service_data()["opinion_notes"] == [
        {"opinion_id": first.id, "text": "新しい追記"},
        {"opinion_id": second.id, "text": "前からの追記"},
    ]


def test_the_service_keys_of_the_new_fields_find_their_fields(app: Flask):
    with app.test_request_context("/"):
        form = ItemForm(
            formdata=None,
            data={"history": [{"when": "", "remarks": ""}, {"when": "x", "remarks": "y"}]},
            kinds=[],
            sections=[],
            opinion_ids=[7, 8],
        )
        form.note_for(8).form.text.data = "追記"
        data = form.to_service_data()
        assert data["opinion_notes"] == [{"opinion_id": 8, "text": "追記"}]
        form.add_service_errors(
            {
                "history[0].remarks": ["h"],
                "council_report.regular_session": ["r"],
                "ordinance.submission_label": ["s"],
                "opinion_notes[0].text": ["t"],
                "opinion_notes": ["n"],
            }
        )
        assert form.history.entries[1].form.remarks.errors == ["h"]
        assert form.council_regular_session.errors == ["r"]
        assert form.ordinance_submission_label.errors == ["s"]
        assert form.note_for(8).form.text.errors == ["t"]
        assert not form.note_for(7).form.text.errors
        assert "n" in form.opinion_notes.errors
        assert form.general_errors == []


def test_without_earlier_opinions_no_notes_are_sent(app: Flask):
    with app.test_request_context("/"):
        form = ItemForm(formdata=None, data={}, kinds=[], sections=[])
        assert "opinion_notes" not in form.to_service_data()


def test_a_row_button_keeps_the_notes_typed(
    client: FlaskClient, people, accepted_after_meeting: Item
):
    item = accepted_after_meeting
    first = _opinions(item)[0]
    login(client, people["department"])
    data = form_of(text(client.get(f"/items/{item.id}/edit")))
    (name,) = [k for k, v in data.items() if k.endswith("-opinion_id") and v == [str(first.id)]]
    data[name.replace("-opinion_id", "-text")] = ["まだ保存していない追記"]
    data["add_history"] = ["1"]
    response = client.post(f"/items/{item.id}/edit", data=data)
    assert response.status_code == 200
    assert "まだ保存していない追記" in field_block(
        text(response), name.replace("-opinion_id", "-text")
    )
    db.session.expire_all()
    assert db.session.get(Item, item.id).opinion_notes == []
