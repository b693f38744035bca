"""The runtime edge: the timer thread against a stepped clock, and a whole phone running
its real threads (state machine + timers) built from a config by `build_phone`."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pytest

from drivers.clock import ManualClock, MonotonicClock
from drivers.lcd.headless import HeadlessLcd
from pysnac.call_events import CallEvent, Established, EventName
from pysnac.config import parse_config
from pysnac.runtime.app import NullCallService, build_phone
from pysnac.runtime.timers import TimerQueue, Timers
from pysnac.screen import Button
from pysnac_fsm import table
from tests.fake_call_service import FakeCallService

WAIT_S = 5.0
BOB_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
CONFIG = f"""
[device]
name = "alice"
[lcd]
driver = "headless"
[[contacts]]
name = "bob"
public_key = "{BOB_KEY}"
address = "127.0.0.1:47001"
"""


def test_timer_queue_orders_cancels_and_repeats() -> None:
    timers = TimerQueue()
    late = timers.schedule(0.0, 5.0, "late")
    timers.schedule(0.0, 1.0, "early")
    timers.schedule(0.0, 2.0, "tick", period_s=2.0)
    timers.cancel(late)
    assert timers.due(0.5) == []
    assert timers.due(2.0) == ["early", "tick"]
    assert timers.next_deadline() == 4.0
    assert timers.due(9.0) == ["tick"]  # far behind: one tick, not three
    assert timers.next_deadline() == 10.0  # the phase is kept: 4, (6, 8 skipped), 10
    timers.cancel_all()
    assert timers.next_deadline() is None


def test_timer_thread_posts_only_when_the_manual_clock_passes_the_deadline() -> None:
    clock = ManualClock(start=1000.0)
    posted: queue.Queue[str] = queue.Queue()
    timers = Timers(posted.put, clock)
    timers.start()
    try:
        timers.schedule(10.0, "ten")
        timers.schedule(3.0, "three", period_s=3.0)
        clock.advance(2.9)
        assert timers.next_deadline() == pytest.approx(clock.now() + 0.1)
        assert posted.empty()
        clock.advance(0.2)
        assert posted.get(timeout=WAIT_S) == "three"
        clock.advance(7.0)
        got = {posted.get(timeout=WAIT_S), posted.get(timeout=WAIT_S)}
        assert got == {"three", "ten"}
    finally:
        timers.stop()
    assert posted.empty()


def test_timer_thread_with_the_real_clock_wakes_for_an_earlier_deadline() -> None:
    posted: queue.Queue[str] = queue.Queue()
    timers = Timers(posted.put, MonotonicClock())
    timers.start()
    try:
        timers.schedule(3600.0, "hour")
        start = timers.clock.now()
        timers.schedule(0.01, "soon")
        assert posted.get(timeout=WAIT_S) == "soon"
        assert timers.clock.now() - start < 1.0
    finally:
        timers.stop()


@pytest.fixture
def running(tmp_path: Path):
    config_path = tmp_path / "config.toml"
    config_path.write_text(CONFIG)
    config = parse_config(config_path, CONFIG)
    clock = ManualClock(start=1000.0)
    services: list[FakeCallService] = []

    def factory(post):
        services.append(FakeCallService(post))
        return services[0]

    lcd = HeadlessLcd()
    phone = build_phone(
        config, lcd=lcd, call_service_factory=factory, clock=clock, fingerprint="F3KQ-9XMA-7TRE"
    )
    before = threading.active_count()
    phone.start()
    yield phone, lcd, services[0], clock
    phone.stop()
    assert threading.active_count() <= before  # stop() joined its threads


def test_phone_threads_call_end_to_end(running) -> None:
    phone, lcd, service, clock = running
    assert lcd.wait_for(lambda lines: lines[0].startswith("\x01bob"), WAIT_S)
    lcd.press(Button.SELECT)  # the home screen is the dial: one press calls bob
    assert phone.wait_for_state(table.DIALING, WAIT_S)
    assert service.calls[0][0] == "place_call"
    phone.post(CallEvent(EventName.REMOTE_ACCEPTED))
    service.emit(EventName.CALL_ESTABLISHED, Established("q7w2", "bob"))
    assert phone.wait_for_state(table.IN_CALL, WAIT_S)
    assert lcd.wait_for(lambda lines: "q7w2" in lines[1], WAIT_S)
    clock.advance(1.0)  # the 1 s tick refreshes the call time
    assert lcd.wait_for(lambda lines: "0:01" in lines[0], WAIT_S)
    lcd.press(Button.SELECT)
    assert phone.wait_for_state(table.HANGUP, WAIT_S)
    clock.advance(table.HANGUP_SCREEN_S)
    assert phone.wait_for_state(table.IDLE, WAIT_S)
    assert service.media_starts == service.media_stops == 1


def test_events_from_many_threads_are_serialised(running) -> None:
    phone, lcd, _service, clock = running
    phone.post(CallEvent(EventName.INCOMING_CALL))
    assert phone.wait_for_state(table.RINGING, WAIT_S)

    def spam() -> None:
        for _ in range(200):
            phone.post(CallEvent(EventName.PEER_LOST))  # ends the ring once, then ignored
            lcd.press(Button.UP)

    workers = [threading.Thread(target=spam) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert phone.wait_for_state(table.HANGUP, WAIT_S)  # the first PEER_LOST ended the ring
    clock.advance(table.HANGUP_SCREEN_S)  # queued behind all the spam
    assert phone.wait_for_state(table.IDLE, WAIT_S)
    assert phone.loop.ignored == 4 * 200 * 2 - 1  # all but the first PEER_LOST


def test_stop_during_a_call_hangs_up_and_stops_media(running) -> None:
    phone, lcd, service, _clock = running
    lcd.press(Button.SELECT)
    phone.post(CallEvent(EventName.REMOTE_ACCEPTED))
    phone.post(CallEvent(EventName.CALL_ESTABLISHED, Established("q7w2", "bob")))
    assert phone.wait_for_state(table.IN_CALL, WAIT_S)
    phone.stop()
    # Stopping is the table's shut_down trigger: the call is hung up, then in_call's exit
    # hook reads the link and stops media, and the call is in the recent calls.
    assert service.names()[-3:] == ["hang_up", "link_stats", "stop_media"]
    assert not service.media_running
    assert phone.state == table.OFF
    assert phone.model.history.records()[0].outcome == "Shut down"
    assert service.closes == 1


def test_stop_records_the_call_it_interrupts(running) -> None:
    phone, lcd, _service, clock = running
    lcd.press(Button.SELECT)  # home is the dial: one press calls bob
    assert phone.wait_for_state(table.DIALING, WAIT_S)
    phone.post(CallEvent(EventName.REMOTE_ACCEPTED))
    phone.post(CallEvent(EventName.CALL_ESTABLISHED, Established("q7w2", "bob")))
    assert phone.wait_for_state(table.IN_CALL, WAIT_S)
    clock.advance(5.0)
    phone.stop()
    record = phone.model.history.records()[0]
    assert (record.direction, record.peer, record.outcome) == ("out", "bob", "Shut down")
    assert record.duration_s == 5.0


def test_stop_while_ringing_silences_the_ring_and_records_the_call(running) -> None:
    phone, _lcd, service, _clock = running
    phone.post(CallEvent(EventName.INCOMING_CALL))
    assert phone.wait_for_state(table.RINGING, WAIT_S)
    phone.stop()
    assert service.names()[-3:] == ["start_tone", "reject_call", "stop_tone"]
    record = phone.model.history.records()[0]
    assert (record.direction, record.outcome, record.duration_s) == ("in", "Shut down", 0.0)


def test_null_call_service_says_no_network() -> None:
    posted: list[CallEvent] = []
    service = NullCallService(posted.append)
    service.place_call(None)  # type: ignore[arg-type]
    assert posted[0].name is EventName.UNREACHABLE
    assert posted[0].data.reason == "No network"
