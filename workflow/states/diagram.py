"""The item workflow as SVG, generated from the machine definition itself (Graphviz lays it out)."""

from __future__ import annotations

import re
from functools import lru_cache

import graphviz

from workflow.states.machine import EVENT_LABELS, ITEM_MACHINE
from workflow.states.states import ItemStatus

HIGHLIGHT = "#1d4f91"


@lru_cache(maxsize=len(ItemStatus) + 1)
def item_diagram_svg(highlight: ItemStatus | None = None) -> str:
    """The item state diagram as inline SVG markup, *highlight* filled in the accent colour."""
    graph = graphviz.Digraph(
        "item_workflow",
        graph_attr={"rankdir": "LR", "bgcolor": "transparent", "nodesep": "0.3", "ranksep": "0.45"},
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": "#ffffff",
            "color": "#767676",
            "fontname": "IPAexGothic",
            "fontsize": "12",
        },
        edge_attr={"fontname": "IPAexGothic", "fontsize": "9", "color": "#555555"},
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
    svg = re.sub(r'^<svg width="[^"]+" height="[^"]+"', "<svg", svg)  # scale with the page (CSS)
    svg = _TITLE.sub(_japanese_title, svg)
    title = "案件の流れ" + (f"（現在: {highlight.label}）" if highlight else "")
    return svg.replace("<svg", f'<svg class="workflow-diagram" role="img" aria-label="{title}"', 1)


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
