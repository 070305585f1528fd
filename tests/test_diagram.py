"""The workflow diagram comes from the machine, with the item's state highlighted."""

from __future__ import annotations

import re

from workflow.states.diagram import HIGHLIGHT, item_diagram_svg
from workflow.states.machine import ITEM_MACHINE
from workflow.states.states import ItemStatus


def test_every_state_and_every_transition_of_the_machine_is_drawn():
    svg = item_diagram_svg()
    for status in ItemStatus:
        assert f'id="state_{status.value}"' in svg
        assert status.label in svg
    edges = set(re.findall(r"<!-- (\w+)&#45;&gt;(\w+) -->", svg))
    expected = {
        (ItemStatus[src].value, ItemStatus[t.dest].value)
        for event in ITEM_MACHINE.events.values()
        for src, ts in event.transitions.items()
        for t in ts
    }
    assert edges == expected


def test_the_current_state_is_highlighted_and_only_it():
    svg = item_diagram_svg(ItemStatus.SCHEDULED)
    assert svg.startswith("<svg")
    assert 'aria-label="案件の流れ（現在: 審議予定）"' in svg
    node = svg.split('id="state_scheduled"')[1].split("</g>")[0]
    assert HIGHLIGHT in node
    assert svg.count(HIGHLIGHT) == 1


def test_what_a_user_can_read_is_japanese():
    """Box texts, edge labels and the titles a browser shows on hover: no state code in them."""
    svg = item_diagram_svg(ItemStatus.PUBLIC_COMMENT)
    shown = re.findall(r"<text[^>]*>([^<]*)</text>", svg) + re.findall(
        r"<title>([^<]*)</title>", svg
    )
    assert "意見募集終了" in shown
    assert "案件の流れ" in shown
    assert "意見募集中 → 意見募集終了" in shown
    for text in shown:
        assert not re.search(r"[A-Za-z]", text), text
