"""Random event sequences (buttons, call-service events, timeouts, stale timers, service
faults) never crash the phone, never run media outside in_call, balance start/stop of
media, keep every screen 16x2, and every call ends back in idle."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import states
from pysnac.call_events import (
    DirectoryStatus,
    Discovered,
    Established,
    EventName,
    Failure,
    IncomingCall,
)
from pysnac.contacts import Contact
from pysnac.runtime.loop import TimerFired
from pysnac.screen import LCD_COLUMNS, Button
from pysnac_fsm import table
from tests.fake_call_service import SyncPhone

LONG = "x" * 40  # names and reasons longer than a line must still fit the screen
DATA = {
    EventName.INCOMING_CALL: st.sampled_from(
        [
            IncomingCall("bob", bytes(range(32)), True, "F"),
            IncomingCall(LONG, bytes(32), False, LONG),
        ]
    ),
    EventName.CALL_ESTABLISHED: st.sampled_from(
        [Established("ab12", "bob"), Established(LONG, LONG)]
    ),
    EventName.CONTACT_DISCOVERED: st.sampled_from(
        [
            Discovered(Contact("dave", bytes([9]) * 32), "D"),
            Discovered(Contact("bob", bytes(32)), LONG),
        ]
    ),
    EventName.DIRECTORY_STATUS: st.sampled_from(
        [DirectoryStatus("lan", True), DirectoryStatus("x", False)]
    ),
}
FAILURE = st.sampled_from([None, Failure(LONG, "detail"), Failure("")])


def call_event() -> st.SearchStrategy:
    return st.sampled_from(list(EventName)).flatmap(
        lambda name: st.tuples(st.just("event"), st.just(name), DATA.get(name, FAILURE))
    )


# Short scripts that reach deep states, so random runs spend time inside calls.
SCRIPTS = {
    "outgoing": [
        ("press", Button.SELECT, None),
        ("event", EventName.REMOTE_ACCEPTED, None),
        ("event", EventName.CALL_ESTABLISHED, Established("ab12", "bob")),
    ],
    "incoming": [
        ("event", EventName.INCOMING_CALL, IncomingCall("bob", bytes(range(32)), True, "F")),
        ("press", Button.SELECT, None),
        ("event", EventName.CALL_ESTABLISHED, Established("ab12", "bob")),
    ],
}

ACTIONS = st.one_of(
    st.tuples(st.just("script"), st.sampled_from(sorted(SCRIPTS)), st.none()),
    st.tuples(st.just("press"), st.sampled_from(list(Button)), st.none()),
    call_event(),
    st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 5.0, 31.0, 61.0]), st.none()),
    st.tuples(st.just("stale_timer"), st.sampled_from([table.TIMEOUT, table.TICK]), st.none()),
    st.tuples(
        st.just("fail"),
        st.sampled_from(["place_call", "start_media", "answer_call", "hang_up", "link_stats"]),
        st.none(),
    ),
)


def check_invariants(phone: SyncPhone) -> None:
    # The screen function itself must fit (the drivers would silently cut or pad it).
    line1, line2 = states.render(phone.model.context(phone.clock.now()))
    assert len(line1) == len(line2) == LCD_COLUMNS
    assert phone.lines == (line1, line2)
    assert phone.service.violations == []
    assert phone.service.media_running == (phone.state == table.IN_CALL)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, max_size=40))
def test_random_event_sequences(actions: list) -> None:
    with tempfile.TemporaryDirectory() as folder:
        phone = SyncPhone(Path(folder))
        steps = []
        for kind, what, data in actions:
            steps.extend(SCRIPTS[what] if kind == "script" else [(kind, what, data)])
        in_call_seen = False
        for kind, what, data in steps:
            if kind == "press":
                phone.press(what)
            elif kind == "event":
                phone.event(what, data)
            elif kind == "advance":
                phone.advance(what)
            elif kind == "stale_timer":
                phone.loop.post(TimerFired(what, phone.loop.generation - 1))
                phone.drain()
            else:
                phone.service.fail[what] = RuntimeError("injected")
            check_invariants(phone)
            in_call_seen |= phone.state == table.IN_CALL
        event("reached in_call" if in_call_seen else "never in_call")
        # Whatever happened, every call ends back in idle: hang up (Select in a call, Left
        # elsewhere) and let the timers run. The menu's "Shut down" (confirmed) is final.
        phone.service.fail.clear()
        longest_s = max(seconds for timers in table.STATE_TIMERS.values() for seconds, *_ in timers)
        for _ in range(20):
            if phone.state in (table.IDLE, table.OFF):
                break
            phone.press(Button.SELECT if phone.state == table.IN_CALL else Button.LEFT)
            phone.advance(longest_s + 1)
        assert phone.state in (table.IDLE, table.OFF)
        assert phone.service.media_starts == phone.service.media_stops
        check_invariants(phone)
