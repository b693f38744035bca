"""Build the `transitions` machine from the state table (`pysnac_fsm.diagram` draws the
same table).

It takes `STATES` and `TRANSITIONS`, with `auto_transitions=False` (nothing bypasses
the table), `ignore_invalid_triggers=True` (a late event is not an error: the runtime
logs it) and `on_exception` (a bug in a callback is logged, not fatal). The machine is a
plain `Machine`, not a `LockedMachine`: only the one state-machine thread
(`pysnac.runtime.loop`) ever triggers it. `send_event=True` hands every callback the
`EventData`, whose kwargs carry `now` and the event's `data`.
"""

from __future__ import annotations

import copy
from typing import Any

from pysnac_fsm import table


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


def machine_edges(machine: Any) -> set[tuple[str, str, str]]:
    """(source, dest, trigger) for every transition the running machine holds."""
    result: set[tuple[str, str, str]] = set()
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                result.add((source, transition.dest or source, trigger))
    return result
