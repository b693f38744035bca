"""Build the `transitions` machine from the state table, for running or for drawing.

Both variants take the same `STATES` and `TRANSITIONS`, with `auto_transitions=False`
(nothing bypasses the table), `ignore_invalid_triggers=True` (a late event is not an
error: the runtime logs it) and `on_exception` (a bug in a callback is logged, not
fatal). The machine is a plain `Machine`, not a `LockedMachine`: only the one
state-machine thread (`pysnac.runtime.loop`) ever triggers it. `send_event=True`
hands every callback the `EventData`, whose kwargs carry `now` and the event's `data`.
"""

from __future__ import annotations

import copy
from typing import Any

from pysnac.errors import PysnacError
from pysnac_fsm import table

DIAGRAM_ENGINE = "graphviz"


class DiagramError(PysnacError, RuntimeError):
    """The diagram backend is missing (transitions fell back to another engine)."""


def _machine_kwargs(model: Any) -> dict[str, Any]:
    return {
        "model": model,
        "states": copy.deepcopy(table.STATES),
        "transitions": copy.deepcopy(table.TRANSITIONS),
        "initial": table.IDLE,
        "auto_transitions": False,
        "ignore_invalid_triggers": True,
        "send_event": True,
        "on_exception": "on_machine_exception",
    }


def build_machine(model: Any) -> Any:
    """The runtime machine over `model` (a `PhoneModel` or anything with its callbacks)."""
    from transitions import Machine

    return Machine(**_machine_kwargs(model))


def build_graph_machine(model: Any) -> Any:
    """The same machine with Graphviz diagrams; raises DiagramError if the engine fell back."""
    from transitions.extensions import GraphMachine
    from transitions.extensions.diagrams_graphviz import Graph

    machine = GraphMachine(
        **_machine_kwargs(model),
        graph_engine=DIAGRAM_ENGINE,
        title="PySNAC phone",
        show_conditions=True,
    )
    machine.machine_attributes = {**machine.machine_attributes, "rankdir": "TB", "ranksep": "0.6"}
    if machine.graph_cls is not Graph:
        raise DiagramError(
            f"diagram engine fell back to {machine.graph_cls.__module__}; "
            "install the graphviz Python package and Debian's graphviz"
        )
    return machine


def machine_edges(machine: Any) -> set[tuple[str, str, str]]:
    """(source, dest, trigger) for every transition the running machine holds."""
    result: set[tuple[str, str, str]] = set()
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                result.add((source, transition.dest or source, trigger))
    return result
