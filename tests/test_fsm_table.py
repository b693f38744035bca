"""The state table is consistent: callbacks exist, every event has a home, buttons map to
triggers their state accepts, timers fire triggers their state accepts, and every state is
reachable from idle and leads back to it."""

from __future__ import annotations

from collections import defaultdict

import states
from pysnac.call_events import EventName
from pysnac.screen import Button
from pysnac_fsm import table
from pysnac_fsm.machine import build_machine, machine_edges
from pysnac_fsm.phone import PhoneModel
from tests.fake_call_service import SyncPhone


def test_every_callback_named_in_the_table_exists_on_the_model() -> None:
    missing = {
        name for name in table.callback_names() if not callable(getattr(PhoneModel, name, None))
    }
    assert missing == set()
    assert callable(PhoneModel.on_machine_exception)


def test_no_trigger_shadows_a_model_attribute(tmp_path) -> None:
    phone = SyncPhone(tmp_path)
    bare = PhoneModel(
        phone.service,
        post=lambda trigger, data: None,
        phonebook=phone.phonebook,
        history=phone.history,
        device_name="a",
        fingerprint="f",
    )
    triggers = {row["trigger"] for row in table.TRANSITIONS}
    own = set(vars(bare)) | set(dir(PhoneModel))
    assert triggers & own == set()


def test_runtime_machine_has_exactly_the_table_edges(tmp_path) -> None:
    phone = SyncPhone(tmp_path)
    assert machine_edges(phone.machine) == table.edges()
    assert phone.machine.auto_transitions is False
    assert phone.machine.ignore_invalid_triggers is True


def test_every_call_service_event_is_a_trigger() -> None:
    triggers = {trigger for _s, _d, trigger in table.edges()}
    assert {name.value for name in EventName} <= triggers


def test_every_state_has_a_screen_module_and_table_entry() -> None:
    names = [state["name"] for state in table.STATES]
    assert names == table.ALL_STATES
    assert set(states.STATE_MODULES) == set(names)


def test_button_maps_name_triggers_their_state_accepts() -> None:
    for state, module in states.STATE_MODULES.items():
        if state not in table.ALL_STATES:
            continue
        for button, trigger in module.BUTTONS.items():
            assert isinstance(button, Button)
            assert trigger in table.triggers_from(state), (state, button, trigger)


def test_timers_fire_triggers_their_state_accepts() -> None:
    for state, timers in table.STATE_TIMERS.items():
        for seconds, trigger, _repeats in timers:
            assert seconds > 0
            assert trigger in table.triggers_from(state), (state, trigger)


def test_only_internal_transitions_loop() -> None:
    for row in table.TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        assert row["dest"] not in sources, row


def test_every_state_is_reachable_and_returns_to_idle() -> None:
    forward: dict[str, set[str]] = defaultdict(set)
    backward: dict[str, set[str]] = defaultdict(set)
    for source, dest, _trigger in table.edges():
        forward[source].add(dest)
        backward[dest].add(source)

    def closure(graph: dict[str, set[str]]) -> set[str]:
        seen, todo = {table.IDLE}, [table.IDLE]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert closure(forward) == set(table.ALL_STATES)
    # Every state but the final `off` leads back home, and every one of them can stop.
    assert closure(backward) == set(table.STATES_IN_ORDER)
    assert all(table.OFF in forward[state] for state in table.STATES_IN_ORDER)
    assert forward[table.OFF] == set()


def test_every_call_state_has_a_way_out_without_the_network() -> None:
    """A dead peer must never strand the phone: each call state has a timeout or button."""
    for state in [*table.CALL_STATES, table.HANGUP]:
        local = {t for t in table.triggers_from(state) if t not in {e.value for e in EventName}}
        assert local - {table.TICK}, state


def test_build_machine_rejects_nothing_in_the_table() -> None:
    class Bare:
        pass

    machine = build_machine(Bare())
    assert len(machine_edges(machine)) == len(table.edges())
