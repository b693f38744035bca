"""The real pyaudio driver through the private PulseAudio rig: sound, faults, and counting.

Speech played into a virtual microphone with paplay must come out of the device's reads
(windowed normalised cross-correlation, not bytes); what the device plays must
reach the virtual speaker; a stalled reader counts an overflow and a stalled writer an
underrun without dying; a device pulled mid-stream raises AudioDeviceError naming it.
Stalls below are the stimulus under test (real time must pass for a real device), not
synchronisation: they use the device-independent real clock's wait_until.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from demo.pulse_rig import PulseRig
from drivers.audio import AudioDeviceError, AudioParams, open_audio_device
from drivers.audio.base import AudioDevice
from drivers.clock import MonotonicClock
from tests.signal_compare import estimate_delay, read_wav, to_float, windowed_correlation

RATE = 48000
MIN_WINDOW_CORRELATION = 0.9
MIN_GOOD_WINDOW_FRACTION = 0.8
MAX_DELAY_S = 1.0
STALL_S = 0.3
PADDING_FRAMES = 50  # 1 s of reads after the clip ends


def stall(seconds: float) -> None:
    """Let real time pass: the stimulus for overflow/underrun tests."""
    clock = MonotonicClock()
    clock.wait_until(clock.now() + seconds)


@pytest.fixture
def device_a(pulse_rig: PulseRig) -> Iterator[AudioDevice]:
    mic, speaker = pulse_rig.device_names("a")
    device = open_audio_device("pyaudio", AudioParams(input_device=mic, output_device=speaker))
    device.start()
    yield device
    device.stop()


def test_speech_into_the_microphone_is_captured(
    pulse_rig: PulseRig,
    speech_48k: Path,
    device_a: AudioDevice,
) -> None:
    _, reference = read_wav(speech_48k)
    frames_needed = len(reference) // 960 + PADDING_FRAMES
    device_a.read_frame()
    player = pulse_rig.play_into("mic_a", speech_48k)
    captured = b"".join(device_a.read_frame() for _ in range(frames_needed))
    assert player.wait(timeout=10) == 0
    output = to_float(captured)
    delay = estimate_delay(reference, output, int(MAX_DELAY_S * RATE))
    scores = windowed_correlation(reference, output, delay, RATE)
    good = sum(score >= MIN_WINDOW_CORRELATION for score in scores)
    assert len(scores) >= 8
    assert good >= MIN_GOOD_WINDOW_FRACTION * len(scores), (delay, scores)
    assert device_a.stats().input_overflows == 0


def test_what_the_device_plays_reaches_the_speaker(
    pulse_rig: PulseRig,
    speech_48k: Path,
    device_a: AudioDevice,
    tmp_path: Path,
) -> None:
    _, reference = read_wav(speech_48k)
    pcm = np.round(reference * 32767).astype("<i2").tobytes()
    pcm += bytes(-len(pcm) % 1920)
    recording = pulse_rig.record("spk_a", tmp_path / "heard.wav")
    for start in range(0, len(pcm), 1920):
        device_a.write_frame(pcm[start : start + 1920])
    for _ in range(PADDING_FRAMES // 2):
        device_a.write_frame(bytes(1920))
    device_a.stop()
    _, heard = read_wav(recording.stop())
    delay = estimate_delay(reference, heard, int(MAX_DELAY_S * RATE))
    scores = windowed_correlation(reference, heard, delay, RATE)
    assert len(scores) >= 8
    assert sum(s >= MIN_WINDOW_CORRELATION for s in scores) >= MIN_GOOD_WINDOW_FRACTION * len(
        scores
    ), (delay, scores)
    stats = device_a.stats()
    assert stats.frames_played == len(pcm) // 1920 + PADDING_FRAMES // 2
    assert stats.output_underruns == 0  # a writer that keeps up never lets the speaker run dry


def test_a_stalled_reader_counts_an_overflow_and_goes_on(device_a: AudioDevice) -> None:
    for _ in range(5):
        device_a.read_frame()
    assert device_a.stats().input_overflows == 0
    stall(STALL_S)
    frames = [device_a.read_frame() for _ in range(20)]
    stats = device_a.stats()
    assert stats.input_overflows >= 1
    assert stats.frames_captured == 25
    assert all(len(frame) == 1920 for frame in frames)


def test_a_stalled_writer_counts_an_underrun_and_goes_on(device_a: AudioDevice) -> None:
    for _ in range(10):
        device_a.write_frame(bytes(1920))
    before = device_a.stats().output_underruns
    stall(STALL_S)
    for _ in range(10):
        device_a.write_frame(bytes(1920))
    stats = device_a.stats()
    assert stats.output_underruns >= before + 1
    assert stats.frames_played == 20


def test_a_device_pulled_mid_stream_raises_a_named_error(pulse_rig: PulseRig) -> None:
    mic, speaker = pulse_rig.device_names("b")
    device = open_audio_device("pyaudio", AudioParams(input_device=mic, output_device=speaker))
    device.start()
    reading = threading.Event()
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(500):  # 10 s unless the device fails
                device.read_frame()
                reading.set()
        except AudioDeviceError as exc:
            failures.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert reading.wait(5)
        pulse_rig.unplug("b")
        thread.join(timeout=5)
        assert not thread.is_alive()
        assert len(failures) == 1
        assert mic in str(failures[0])
        assert "main.py devices" in str(failures[0])
        with pytest.raises(AudioDeviceError, match=speaker):
            device.write_frame(bytes(1920))
    finally:
        device.stop()
        pulse_rig.replug("b")
    # Plugged back in, the same device names open again.
    again = open_audio_device("pyaudio", AudioParams(input_device=mic, output_device=speaker))
    again.start()
    try:
        assert len(again.read_frame()) == 1920
    finally:
        again.stop()


def test_a_missing_default_device_is_named() -> None:
    device = open_audio_device("pyaudio", AudioParams(input_device="99999"))
    with pytest.raises(AudioDeviceError, match="99999"):
        device.start()
    device.stop()


def test_open_and_stop_leave_no_descriptor_behind(pulse_rig: PulseRig) -> None:
    mic, speaker = pulse_rig.device_names("a")

    def one_call() -> None:
        device = open_audio_device("pyaudio", AudioParams(input_device=mic, output_device=speaker))
        device.start()
        for _ in range(2):
            device.read_frame()
            device.write_frame(bytes(1920))
        device.stop()

    one_call()  # PortAudio's first initialisation may keep process-wide state
    fds = len(os.listdir("/proc/self/fd"))
    threads = threading.active_count()
    for _ in range(5):
        one_call()
    assert len(os.listdir("/proc/self/fd")) == fds
    assert threading.active_count() == threads


def start_read_stop_together(devices: list[AudioDevice]) -> list[BaseException]:
    """Each device on its own thread, started (and then stopped) at the same moment."""
    barrier = threading.Barrier(len(devices))
    errors: list[BaseException] = []

    def run(device: AudioDevice) -> None:
        try:
            barrier.wait(timeout=10)
            device.start()
            device.read_frame()
            barrier.wait(timeout=10)
            device.stop()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(device,)) for device in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    return errors


def test_two_phones_start_and_stop_at_once_in_one_process(pulse_rig: PulseRig) -> None:
    """PortAudio set-up is not thread-safe and the stderr silencing is process-wide: both
    go through one lock, so concurrent starts neither crash nor leave fd 2 on /dev/null."""
    stderr_before = os.fstat(2)
    for _ in range(4):
        devices = [
            open_audio_device("pyaudio", AudioParams(input_device=mic, output_device=speaker))
            for mic, speaker in (pulse_rig.device_names("a"), pulse_rig.device_names("b"))
        ]
        assert start_read_stop_together(devices) == []
        assert all(device.stats().frames_captured >= 1 for device in devices)
    stderr_after = os.fstat(2)
    assert (stderr_after.st_dev, stderr_after.st_ino) == (
        stderr_before.st_dev,
        stderr_before.st_ino,
    )
