"""The state diagram, drawn by `transitions`' Graphviz backend from the state table.

`diagram_graph()` builds the graph variant of the machine (`build_graph_machine`) over a
bare model: drawing needs only the table, not the callbacks. `diagram_edges(source)`
reads the (source, dest, trigger) edges back out of the DOT text, so a test can check that
the picture shows exactly the transitions the running machine has.
"""

from __future__ import annotations

import re
from typing import Any

from pysnac_fsm.machine import DiagramError, build_graph_machine

_EDGE = re.compile(r'^\s*"?([\w]+)"?\s*->\s*"?([\w]+)"?\s*\[(.*)\]\s*$')
_LABEL = re.compile(r'label="((?:[^"\\]|\\.)*)"|label=(\S+)')


class _DrawingModel:
    """A model for drawing only: the diagram never fires a callback."""


def diagram_graph() -> Any:
    """A `graphviz.Digraph` of the whole table; DiagramError if Graphviz is unavailable."""
    import graphviz

    machine = build_graph_machine(_DrawingModel())
    graph = machine.get_graph(force_new=True)
    if not isinstance(graph, graphviz.Digraph):
        raise DiagramError(f"expected a graphviz Digraph, got {type(graph).__name__}")
    try:
        graphviz.version()
    except graphviz.ExecutableNotFound as exc:
        raise DiagramError("Graphviz `dot` is not installed (apt-get install graphviz)") from exc
    return graph


def diagram_edges(dot_source: str) -> set[tuple[str, str, str]]:
    """(source, dest, trigger) for each label part of each edge in DOT text."""
    edges: set[tuple[str, str, str]] = set()
    for line in dot_source.splitlines():
        match = _EDGE.match(line)
        if not match:
            continue
        source, dest, attributes = match.groups()
        label = _LABEL.search(attributes)
        if label is None:
            continue
        text = label.group(1) if label.group(1) is not None else label.group(2)
        for part in text.split(" | "):
            trigger = part.split(" [", 1)[0].strip()
            edges.add((source, dest, trigger))
    return edges
