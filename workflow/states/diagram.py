"""The item workflow as SVG, generated from the machine definition itself (Graphviz lays it out)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import graphviz

from workflow.states.machine import EVENT_LABELS, ITEM_MACHINE
from workflow.states.states import FINAL_ITEM_STATES, ItemStatus

HIGHLIGHT = "#1d4f91"


@lru_cache(maxsize=len(ItemStatus) + 1)
def item_diagram_svg(highlight: ItemStatus | None = None) -> str:
    """The item state diagram as inline SVG markup, *highlight* filled in the accent colour."""
    graph = graphviz.Digraph(
        "item_workflow",
        graph_attr={"rankdir": "TB", "bgcolor": "transparent", "nodesep": "0.3", "ranksep": "0.45"},
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": "#ffffff",
            "color": "#767676",
            "fontname": "IPAexGothic",
            "fontsize": "14",
        },
        edge_attr={"fontname": "IPAexGothic", "fontsize": "12", "color": "#555555"},
    )
    for status in ItemStatus:
        current = status == highlight
        graph.node(
            status.value,
            status.label,
            id=f"state_{status.value}",
            fillcolor=HIGHLIGHT if current else "#ffffff",
            fontcolor="#ffffff" if current else "#1a1a1a",
            penwidth="2.5" if current else "1",
        )
    edges: dict[tuple[str, str], list[str]] = {}
    for name, event in ITEM_MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                key = (ItemStatus[source].value, ItemStatus[transition.dest].value)
                label = EVENT_LABELS[name]
                if label not in edges.setdefault(key, []):
                    edges[key].append(label)
    for (source, dest), labels in sorted(edges.items()):
        graph.edge(source, dest, label="・".join(labels))
    svg = graph.pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype: it is embedded in a page
    # Drawn at its own size (labels at least 12 px): a narrow screen scrolls its box sideways.
    svg = _TITLE.sub(_japanese_title, svg)
    title = "案件の流れ" + (f"（現在: {highlight.label}）" if highlight else "")
    return svg.replace("<svg", f'<svg class="workflow-diagram" role="img" aria-label="{title}"', 1)


def moves() -> list[tuple[ItemStatus, list[tuple[str, ItemStatus]]]]:
    """Each state with the events that leave it and where each leads, in the states' order: the
    diagram's text alternative."""
    out: dict[ItemStatus, list[tuple[str, ItemStatus]]] = {status: [] for status in ItemStatus}
    for name, event in ITEM_MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                move = (EVENT_LABELS[name], ItemStatus[transition.dest])
                if move not in out[ItemStatus[source]]:
                    out[ItemStatus[source]].append(move)
    return list(out.items())


# The normal path of an item through one meeting, for the full flow's summary.
MAIN_PATH = (
    ItemStatus.DRAFT,
    ItemStatus.SUBMITTED,
    ItemStatus.ACCEPTED,
    ItemStatus.SCHEDULED,
    ItemStatus.APPROVED,
    ItemStatus.PUBLIC_COMMENT,
    ItemStatus.PUBLIC_COMMENT_CLOSED,
    ItemStatus.CONCLUDED,
)


# Graphviz titles every node and edge with its name (the state's code), and a browser shows a
# title when the pointer rests on it: say it in Japanese, as the boxes do. The comments beside
# them keep the codes (nobody sees those; tests read the edges from them).
_TITLE = re.compile(r"<title>([^<]*)</title>")
_LABELS = {status.value: status.label for status in ItemStatus}


def _japanese_title(match: re.Match) -> str:
    name = match.group(1)
    if name == "item_workflow":
        return "<title>案件の流れ</title>"
    source, _, dest = name.partition("&#45;&gt;")
    if dest:
        return f"<title>{_LABELS[source]} → {_LABELS[dest]}</title>"
    return f"<title>{_LABELS[name]}</title>"


# -- the item's own path -------------------------------------------------------------------------

DONE, CURRENT, TO_COME = "done", "current", "to_come"
# States that wait for, or sit at, a meeting of one kind: the step names the kind.
_AT_KIND = (ItemStatus.ACCEPTED, ItemStatus.SCHEDULED)


@dataclass(frozen=True)
class Step:
    """One step of an item's path: a state (with the meeting kind it concerns), and whether it is
    behind the item, where it is now, or still to come on its route."""

    status: ItemStatus
    kind_name: str | None
    when: str  # DONE, CURRENT or TO_COME

    @property
    def label(self) -> str:
        if self.kind_name and self.status in _AT_KIND:
            return f"{self.status.label}（{self.kind_name}）"
        return self.status.label


def item_path(
    status: ItemStatus,
    history: Sequence[tuple[str, str, str | None]],
    route: Sequence[str],
    level_kind: str | None,
    public_comment_planned: bool,
    kind_names: Mapping[str, str],
) -> list[Step]:
    """The item's own path: the states it went through (*history*: each state change as
    (from, to, the kind it then concerned), oldest first), the current one, and the normal path
    still ahead along its *route* (no 取下げ: that is a way out, not a step).
    """
    behind: list[tuple[ItemStatus, str | None]] = [(ItemStatus.DRAFT, None)]
    for _source, dest, kind in history:
        state = ItemStatus(dest)
        step = (state, kind if state in _AT_KIND else None)
        if step != behind[-1]:
            behind.append(step)
    here = (status, level_kind if status in _AT_KIND else None)
    if behind[-1] != here:
        behind.append(here)
    steps = [Step(s, kind_names.get(k or "", k), DONE) for s, k in behind[:-1]]
    steps.append(Step(here[0], kind_names.get(here[1] or "", here[1]), CURRENT))
    steps += [
        Step(s, kind_names.get(k or "", k), TO_COME)
        for s, k in _ahead(status, route, level_kind, public_comment_planned)
    ]
    return steps


def _ahead(
    status: ItemStatus, route: Sequence[str], level_kind: str | None, comment: bool
) -> list[tuple[ItemStatus, str | None]]:
    """The normal path from *status* to 完了 along *route*."""
    S = ItemStatus
    if status in FINAL_ITEM_STATES:
        return []
    tail: list[tuple[ItemStatus, str | None]] = []
    if comment:
        tail += [(S.PUBLIC_COMMENT, None), (S.PUBLIC_COMMENT_CLOSED, None)]
    tail.append((S.CONCLUDED, None))

    def meetings_from(index: int, *, scheduled_now: bool = False) -> list:
        out = []
        for position, kind in enumerate(route[index:]):
            if not (scheduled_now and position == 0):
                out.append((S.ACCEPTED, kind))
            out.append((S.SCHEDULED, kind))
        return out

    kinds = list(route)
    at = kinds.index(level_kind) if level_kind in kinds else 0
    match status:
        case S.DRAFT | S.RETURNED:
            return [(S.SUBMITTED, None), *meetings_from(0), (S.APPROVED, None), *tail]
        case S.SUBMITTED:
            return [*meetings_from(0), (S.APPROVED, None), *tail]
        case S.ACCEPTED:
            return [*meetings_from(at, scheduled_now=True), (S.APPROVED, None), *tail]
        case S.SCHEDULED:
            return [*meetings_from(at + 1), (S.APPROVED, None), *tail]
        case S.AMENDING:
            return [(S.AMENDMENT_SUBMITTED, None), (S.APPROVED, None), *tail]
        case S.AMENDMENT_SUBMITTED:
            return [(S.APPROVED, None), *tail]
        case S.APPROVED:
            return tail
        case S.PUBLIC_COMMENT:
            return tail[1:]
        case S.PUBLIC_COMMENT_CLOSED:
            return tail[2:]
    return []
