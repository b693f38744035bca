"""Sound-device faults in a whole call, through the real pyaudio driver.

The faulty phone (alice) uses the `pyaudio` driver on the private PulseAudio rig; bob uses
the silent device, so only alice touches PortAudio in this process. Faults:
- a device missing when the call starts: the LCD names it, the log line names it and
  points to `main.py devices`, bob hears the call end, alice goes back to Idle and works;
- the device pulled in the middle of a call (`pulse_rig.unplug`, which fails PortAudio's
  streams as a pulled USB card does): the call ends with a reason on the LCD, both phones
  return to Idle, and once the device is back a new call carries sound;
- the call's media threads stalled (as on a Raspberry Pi starved of CPU): the capture
  buffer overflows and the speaker runs dry; both are counted by the real driver, shown in
  the call's statistics and its hang-up summary, and the call goes on.
The 0.4 s stall is the stimulus (real time must pass for a real sound card), not a wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import drivers.audio
from demo.pulse_rig import PulseRig
from drivers.audio import AudioParams
from drivers.audio.base import AudioDevice, AudioStats
from drivers.clock import MonotonicClock
from pysnac.screen import Button
from pysnac_fsm import table
from tests.audio_phones import InProcessPhones, wait_until

pytestmark = [pytest.mark.audio, pytest.mark.usefixtures("this_rigs_alsa")]

MISSING_DEVICE = "pysnac_mic_z"  # no such PCM in the rig's ALSA config
NAMED = f"No {MISSING_DEVICE}"  # what alice's LCD says
FLOWING_FRAMES = 10  # frames alice must have captured before the fault is injected
STALL_S = 0.4
STEP_S = 10.0


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[InProcessPhones]:
    phones = InProcessPhones(tmp_path)
    yield phones
    phones.close()


def captured(phones: InProcessPhones, name: str) -> int:
    """Frames the phone has sent in its current (or last) call."""
    return phones.phone(name).service.link_stats().frames_sent


def test_a_missing_device_is_named_on_the_lcd_and_in_the_log(
    pulse_rig: PulseRig, phones: InProcessPhones, caplog: pytest.LogCaptureFixture
) -> None:
    _, speaker = pulse_rig.device_names("a")
    phones.add("alice", input_device=MISSING_DEVICE, output_device=speaker)
    phones.add("bob", audio="silence")
    phones.start()
    with caplog.at_level(logging.WARNING):
        phones.call("alice", "bob")
        phones.answer("bob")
        phones.expect_state("alice", table.HANGUP)
    assert phones.lcd("alice").wait_for(lambda lines: lines[0].strip() == NAMED, STEP_S)
    logged = [r.getMessage() for r in caplog.records if MISSING_DEVICE in r.getMessage()]
    assert any("main.py devices" in message for message in logged), logged
    # bob is told (bye), instead of talking to silence until the call is lost
    phones.expect_state("bob", table.HANGUP)
    assert phones.lcd("bob").wait_for(lambda lines: lines[0].startswith("Call ended"), STEP_S)
    # alice stays up: back to Idle, and she can call again
    phones.dismiss("alice")
    phones.dismiss("bob")
    phones.call("alice", "bob")
    phones.answer("bob")
    phones.expect_state("alice", table.HANGUP)
    assert phones.lcd("alice").wait_for(lambda lines: lines[0].strip() == NAMED, STEP_S)


def test_a_device_pulled_in_a_call_ends_it_and_the_phone_calls_again(
    pulse_rig: PulseRig, phones: InProcessPhones
) -> None:
    mic, speaker = pulse_rig.device_names("a")
    phones.add("alice", input_device=mic, output_device=speaker)
    phones.add("bob", audio="silence")
    phones.start()
    phones.connect("alice", "bob")
    assert wait_until(lambda: captured(phones, "alice") >= FLOWING_FRAMES)
    try:
        pulse_rig.unplug("a")
        phones.expect_state("alice", table.HANGUP)
        assert phones.lcd("alice").wait_for(
            lambda lines: lines[0].startswith("Audio device err"), STEP_S
        )
        phones.expect_state("bob", table.HANGUP)
        assert phones.lcd("bob").wait_for(lambda lines: lines[0].startswith("Call ended"), STEP_S)
    finally:
        pulse_rig.replug("a")
    phones.dismiss("alice")
    phones.dismiss("bob")
    phones.connect("alice", "bob")
    assert wait_until(lambda: captured(phones, "alice") >= FLOWING_FRAMES)
    bob = phones.phone("bob").service
    assert wait_until(lambda: bob.link_stats().frames_received >= FLOWING_FRAMES)
    phones.lcd("alice").press(Button.SELECT)
    phones.expect_state("alice", table.HANGUP)
    phones.expect_state("bob", table.HANGUP)


class StallableDevice:
    """A real sound device whose caller can be held, as a phone starved of CPU would be:
    while held, the call's capture and playout threads block before touching the device,
    so the real driver finds its capture buffer full and its playout buffer empty."""

    def __init__(self, inner: AudioDevice) -> None:
        self.inner = inner
        self.name = inner.name
        self._running = threading.Event()
        self._running.set()

    def hold(self) -> None:
        self._running.clear()

    def release(self) -> None:
        self._running.set()

    def start(self) -> None:
        self.inner.start()

    def read_frame(self) -> bytes:
        self._running.wait()
        return self.inner.read_frame()

    def write_frame(self, pcm: bytes) -> None:
        self._running.wait()
        self.inner.write_frame(pcm)

    def stop(self) -> None:
        self._running.set()
        self.inner.stop()

    def stats(self) -> AudioStats:
        return self.inner.stats()


def test_overflows_and_underruns_are_counted_in_the_call_stats_never_fatal(
    pulse_rig: PulseRig, phones: InProcessPhones, monkeypatch: pytest.MonkeyPatch
) -> None:
    devices: list[StallableDevice] = []
    real_open = drivers.audio.open_audio_device

    def open_stallable(kind: str, params: AudioParams) -> AudioDevice:
        device = StallableDevice(real_open(kind, params))
        if kind == "pyaudio":
            devices.append(device)
        return device

    monkeypatch.setattr(drivers.audio, "open_audio_device", open_stallable)
    mic, speaker = pulse_rig.device_names("a")
    phones.add("alice", input_device=mic, output_device=speaker)
    phones.add("bob", audio="silence")
    phones.start()
    phones.connect("alice", "bob")
    assert wait_until(lambda: captured(phones, "alice") >= FLOWING_FRAMES)
    assert 1 <= len(devices) <= 2  # the ring-back tone's device (closed by now), the call's
    call_device = devices[-1]
    before = phones.phone("alice").service.link_stats()
    call_device.hold()
    try:
        clock = MonotonicClock()
        clock.wait_until(clock.now() + STALL_S)  # the stimulus: alice's media threads stall
    finally:
        call_device.release()
    stalled_at = captured(phones, "alice")
    # never fatal: the call goes on, frames keep flowing
    assert wait_until(lambda: captured(phones, "alice") >= stalled_at + FLOWING_FRAMES)
    assert phones.phone("alice").state == table.IN_CALL
    during = phones.phone("alice").service.link_stats()
    assert during.input_overflows > before.input_overflows == 0
    assert during.output_underruns > before.output_underruns
    phones.lcd("alice").press(Button.SELECT)
    phones.expect_state("alice", table.HANGUP)
    assert phones.lcd("alice").wait_for(lambda lines: lines[0].startswith("Hung up"), STEP_S)
    summary = phones.phone("alice").model.link  # what the hang-up record reports
    assert summary.input_overflows >= during.input_overflows
    assert summary.output_underruns >= during.output_underruns
