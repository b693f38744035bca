"""One contract suite over every audio device: wav, silence, and pyaudio through the rig.

Each implementation must open, deliver and take exact 20 ms frames, run on its own clock,
count what it did, stop idempotently (waking a blocked reader), and name a missing device
in an AudioDeviceError. Virtual devices run on the real monotonic clock here, as the
pyaudio device does; test_audio_virtual.py steps them by hand.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from demo.pulse_rig import PulseRig
from drivers.audio import KINDS, AudioDevice, AudioDeviceError, AudioParams, open_audio_device

PACING_FRAMES = 25  # 0.5 s of audio
PACING_TOLERANCE_S = 0.1
FRAME_S = 0.02

DeviceFactory = Callable[..., AudioDevice]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def base_params(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> AudioParams:
    if kind == "pyaudio":
        rig: PulseRig = request.getfixturevalue("pulse_rig")
        mic, speaker = rig.device_names("b")
        return AudioParams(input_device=mic, output_device=speaker)
    if kind == "wav":
        speech: Path = request.getfixturevalue("speech_48k")
        return AudioParams(input_wav=speech, output_wav=tmp_path / "played.wav")
    return AudioParams()


@pytest.fixture
def make_device(kind: str, base_params: AudioParams) -> Iterator[DeviceFactory]:
    devices: list[AudioDevice] = []

    def factory(**overrides: object) -> AudioDevice:
        device = open_audio_device(kind, replace(base_params, **overrides))
        devices.append(device)
        return device

    yield factory
    for device in devices:
        device.stop()


def test_frames_have_the_contract_size(make_device: DeviceFactory) -> None:
    device = make_device()
    device.start()
    frames = [device.read_frame() for _ in range(3)]
    assert [len(frame) for frame in frames] == [1920, 1920, 1920]
    for _ in range(3):
        device.write_frame(bytes(1920))
    with pytest.raises(ValueError, match="1919 bytes"):
        device.write_frame(bytes(1919))
    assert device.name


def test_capture_runs_on_the_device_clock(make_device: DeviceFactory) -> None:
    device = make_device()
    device.start()
    device.read_frame()  # the first frame may carry start-up latency
    begin = time.monotonic()
    for _ in range(PACING_FRAMES):
        device.read_frame()
    elapsed = time.monotonic() - begin
    assert abs(elapsed - PACING_FRAMES * FRAME_S) < PACING_TOLERANCE_S, elapsed


def test_playout_blocks_while_the_buffer_is_full(make_device: DeviceFactory) -> None:
    device = make_device()
    device.start()
    silence = bytes(1920)
    for _ in range(5):  # fill whatever the device may queue
        device.write_frame(silence)
    begin = time.monotonic()
    for _ in range(PACING_FRAMES):
        device.write_frame(silence)
    elapsed = time.monotonic() - begin
    assert abs(elapsed - PACING_FRAMES * FRAME_S) < PACING_TOLERANCE_S, elapsed


def test_stats_count_frames(make_device: DeviceFactory) -> None:
    device = make_device()
    device.start()
    for _ in range(4):
        device.read_frame()
    for _ in range(6):
        device.write_frame(bytes(1920))
    device.stop()  # flushes playout
    stats = device.stats()
    assert stats.frames_captured == 4
    assert stats.frames_played == 6
    assert stats.input_overflows == 0


def test_stop_is_idempotent_and_wakes_a_blocked_reader(make_device: DeviceFactory) -> None:
    device = make_device()
    device.start()
    device.read_frame()
    reading = threading.Event()
    results: list[bytes] = []

    def reader() -> None:
        reading.set()
        for _ in range(500):  # 10 s of frames unless stop() wakes it
            results.append(device.read_frame())
            if len(results) > 3 and not any(results[-1]):
                break

    thread = threading.Thread(target=reader)
    thread.start()
    assert reading.wait(5)
    device.stop()
    device.stop()
    thread.join(timeout=2)
    assert not thread.is_alive()
    assert len(results) < 500
    assert device.read_frame() == bytes(1920)  # after stop: silence at once
    device.write_frame(bytes(1920))  # and writes are discarded, not an error


def test_missing_device_names_it(kind: str, make_device: DeviceFactory, tmp_path: Path) -> None:
    if kind == "silence":
        pytest.skip("the silence device has no hardware or file to miss")
    if kind == "wav":
        device = make_device(input_wav=tmp_path / "no-such-clip.wav")
        missing = "no-such-clip.wav"
    else:
        device = make_device(input_device="no-such-usb-card")
        missing = "no-such-usb-card"
    with pytest.raises(AudioDeviceError) as caught:
        device.start()
    assert missing in str(caught.value)
    assert "main.py devices" in str(caught.value)
    device.stop()  # stopping a device that never started is fine


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown audio device kind 'alsa'"):
        open_audio_device("alsa", AudioParams())
