"""The state diagram, drawn with Graphviz from the state table: nested, for reading.

The table is flat (the phone runs a plain `Machine`); the drawing nests it as the design
thinks of it. Everything but `off` sits in one "On" box; inside it, the "Idle" box holds
the home screen and the pairing offer around a "Menus" box, and the "Call" box holds
the call states around a "Connecting" box. A transition the table gives every state of a
box is drawn once, leaving the box's edge (so the failures and the incoming call leave
Idle once); what remains is drawn state by state. Internal transitions (no state change:
ticks, volume, scrolling) are listed inside their state, and those every state takes in
the legend note. The design's spine, Idle -> Dialing -> KeyExchange -> InCall -> Hangup,
is the vertical axis, heavier, with the names the design uses.

Every edge whose tail is a box names the exact states it stands for in its `comment`
attribute, and so does the legend, so `diagram_edges` can read back the (source, dest,
trigger) triples from the DOT text and a test can check that the picture shows exactly
the transitions the running machine has.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pysnac.errors import PysnacError
from pysnac_fsm import table


class DiagramError(PysnacError, RuntimeError):
    """The diagram backend is missing (the graphviz package or Graphviz's `dot`)."""


@dataclass(frozen=True)
class Box:
    """A cluster of states drawn as one box; `anchor` is the node edges leave it from."""

    name: str
    label: str
    states: tuple[str, ...]
    anchor: str


CONNECTING = (table.DIALING, table.RINGING, table.KEY_EXCHANGE)
MENUS = tuple(s for s in table.MENU_STATES if s != table.CONFIRM_CONTACT)
BOXES = (  # largest first: a transition is drawn from the largest box it covers
    Box("cluster_on", "On", tuple(table.STATES_IN_ORDER), table.HANGUP),
    Box("cluster_idle", "Idle", tuple(table.HOME_STATES), table.IDLE),
    Box("cluster_menus", "Menus", MENUS, table.MENU),
    Box("cluster_call", "Call", tuple(table.CALL_STATES), table.IN_CALL),
    Box("cluster_connecting", "Connecting", CONNECTING, table.KEY_EXCHANGE),
)
NESTING = {  # box -> the boxes drawn inside it
    "cluster_on": ("cluster_idle", "cluster_call"),
    "cluster_idle": ("cluster_menus",),
    "cluster_call": ("cluster_connecting",),
}
SPINE = (table.IDLE, table.DIALING, table.KEY_EXCHANGE, table.IN_CALL, table.HANGUP)
TITLES = {  # the names the design writes
    table.IDLE: "Idle: home screen (dial)",
    table.KEY_EXCHANGE: "KeyExchange",
    table.IN_CALL: "InCall",
}
LEGEND = "every_state"
SPINE_WEIGHT = 20
FONT = "Helvetica"
FONT_SIZE = "16"
LABEL_SIZE = "13"
PNG_DPI = "72"
NEWLINE = "\\n"  # DOT's centred line break, kept on one line of the DOT text


def title(state: str) -> str:
    return TITLES.get(state, "".join(part.capitalize() for part in state.split("_")))


def _part(row: dict) -> str:
    """`trigger`, or `trigger` over `[condition, !unless]` on the next line (narrower)."""
    conditions = [*row.get("conditions", []), *(f"!{c}" for c in row.get("unless", []))]
    guard = NEWLINE + f"[{', '.join(conditions)}]" if conditions else ""
    return row["trigger"] + guard


def _sources(row: dict) -> list[str]:
    return row["source"] if isinstance(row["source"], list) else [row["source"]]


def _edges() -> tuple[dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]], dict]:
    """(tail box or state, dest) -> [(label part, sources)], and state -> internal parts."""
    moves: dict[tuple[str, str], set[str]] = defaultdict(set)
    internal: dict[str, set[str]] = defaultdict(set)
    for row in table.TRANSITIONS:
        for source in _sources(row):
            if row["dest"] is None:
                internal[_part(row)].add(source)
            else:
                moves[(row["dest"], _part(row))].add(source)
    drawn: dict[tuple[str, str], list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
    for (dest, part), sources in moves.items():
        left = set(sources)
        for box in BOXES:
            if set(box.states) <= left and dest not in box.states:
                drawn[(box.name, dest)].append((part, box.states))
                left -= set(box.states)
        for source in sorted(left):
            drawn[(source, dest)].append((part, (source,)))
    return drawn, internal


def diagram_graph() -> Any:
    """A `graphviz.Digraph` of the whole table; DiagramError if Graphviz is unavailable."""
    try:
        import graphviz
    except ImportError as exc:
        raise DiagramError("the graphviz Python package is not installed") from exc
    try:
        graphviz.version()
    except graphviz.ExecutableNotFound as exc:
        raise DiagramError("Graphviz `dot` is not installed (apt-get install graphviz)") from exc
    drawn, internal = _edges()
    everywhere = sorted(p for p, s in internal.items() if s >= set(table.STATES_IN_ORDER))
    graph = graphviz.Digraph("pysnac", comment="PySNAC phone: drawn from pysnac_fsm/table.py")
    graph.attr(
        rankdir="TB",
        compound="true",
        newrank="true",
        nodesep="0.35",
        ranksep="0.45",
        fontname=FONT,
        label="PySNAC phone",
        labelloc="t",
        fontsize="22",
        dpi=PNG_DPI,
    )
    graph.attr("node", shape="box", style="rounded", fontname=FONT, fontsize=FONT_SIZE)
    graph.attr("edge", fontname=FONT, fontsize=LABEL_SIZE)
    boxes = {box.name: box for box in BOXES}
    placed: set[str] = set()

    def node(g: Any, state: str) -> None:
        own = sorted(p for p, s in internal.items() if state in s and p not in everywhere)
        label = title(state) + (NEWLINE * 2 + NEWLINE.join(own) if own else "")
        spine = state in SPINE
        g.node(state, label=label, penwidth="2.5" if spine else "1", group="spine" if spine else "")

    def fill(g: Any, box: Box) -> None:
        g.attr(label=box.label, fontname=FONT, fontsize="18", style="rounded", labeljust="l")
        for inner in NESTING.get(box.name, ()):
            with g.subgraph(name=inner) as sub:
                fill(sub, boxes[inner])
            placed.update(boxes[inner].states)
        for state in box.states:
            if state not in placed:
                node(g, state)
                placed.add(state)

    with graph.subgraph(name="cluster_on") as on:
        fill(on, boxes["cluster_on"])
        on.node(
            LEGEND,
            label="In every state (internal):" + NEWLINE + NEWLINE.join(everywhere),
            shape="note",
            style="",
            fontsize=LABEL_SIZE,
            comment=" ".join(table.STATES_IN_ORDER),
        )
        on.edge(table.CONFIRM_CONTACT, LEGEND, style="invis")  # under the pairing offer
    with graph.subgraph() as row:  # the incoming call starts beside the outgoing one
        row.attr(rank="same")
        row.node(table.DIALING)
        row.node(table.RINGING)
    node(graph, table.OFF)
    for (tail, dest), parts in sorted(drawn.items()):
        label = NEWLINE.join(part for part, _ in parts)
        attrs: dict[str, str] = {"label": label}
        if tail in boxes:
            box = boxes[tail]
            attrs["ltail"] = box.name
            attrs["comment"] = " ".join(box.states)
            tail = box.anchor
        if (tail, dest) in itertools.pairwise(SPINE):
            attrs.update(weight=str(SPINE_WEIGHT), penwidth="2.5")
        elif dest == table.IDLE:  # the way home does not rank the home screen below
            attrs.update(constraint="false")
        graph.edge(tail, dest, **attrs)
    return graph


_EDGE = re.compile(r'^\s*"?(\w+)"?\s*->\s*"?(\w+)"?\s*\[(.*)\]\s*$')
_NODE = re.compile(r'^\s*"?(\w+)"?\s*\[(.*)\]\s*$')
_ATTR = r'{}="((?:[^"\\]|\\.)*)"|{}=(\S+)'


def _attribute(attributes: str, name: str) -> str | None:
    match = re.search(_ATTR.format(name, name), attributes)
    if match is None:
        return None
    return match.group(1) if match.group(1) is not None else match.group(2)


def _triggers(lines: list[str]) -> list[str]:
    """The trigger names in label lines (a `[condition]` line belongs to the one above)."""
    return [line.strip() for line in lines if line.strip() and not line.startswith("[")]


def diagram_edges(dot_source: str) -> set[tuple[str, str, str]]:
    """(source, dest, trigger) for each label part of each edge in DOT text, for every
    state the edge's tail stands for; internal ones (source, source, trigger) from the
    lines listed inside a state (or in the legend, for the states it names)."""
    edges: set[tuple[str, str, str]] = set()
    for line in dot_source.splitlines():
        edge = _EDGE.match(line)
        node = None if edge else _NODE.match(line)
        attributes = edge.group(3) if edge else node.group(2) if node else ""
        label = _attribute(attributes, "label")
        if label is None:
            continue
        comment = _attribute(attributes, "comment")
        if edge:
            sources = comment.split() if comment else [edge.group(1)]
            for trigger in _triggers(label.split(NEWLINE)):
                edges.update((source, edge.group(2), trigger) for source in sources)
        elif node:
            sources = comment.split() if comment else [node.group(1)]
            lines = label.split(NEWLINE)
            listed = lines[1:] if comment else lines[2:]  # after the title (and a blank)
            for trigger in _triggers(listed):
                edges.update((source, source, trigger) for source in sources)
    return edges
