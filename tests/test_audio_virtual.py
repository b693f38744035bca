"""The virtual devices stepped by hand: ManualClock, the WAV microphone and speaker, silence.

Here the clock moves only when the test says so, so each test checks exactly what the
device does at a frame boundary: a reader blocks until the frame period has passed, a
writer blocks while the playout buffer is full, a stalled reader loses frames (overflow),
a writer that falls silent leaves a gap the recording keeps (underrun).
"""

from __future__ import annotations

import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from drivers.audio import AudioDeviceError, AudioParams, open_audio_device
from drivers.audio.paced import CAPTURE_BUFFER_FRAMES
from drivers.audio.wav_device import load_wav_mono16
from drivers.clock import ManualClock, MonotonicClock
from tests.signal_compare import read_wav, write_wav

FRAME = 960
FRAME_S = 0.02
WAIT_S = 5.0  # real-time bound on waiting for a helper thread


def ramp_wav(path: Path, samples: int, rate: int = 48000) -> np.ndarray:
    """A WAV whose every sample is distinct, to check ordering exactly."""
    data = (np.arange(samples) % 20000).astype("<i2")
    write_wav(path, data, rate)
    return data


class Reader(threading.Thread):
    """Reads one frame in the background and signals when done."""

    def __init__(self, device: object) -> None:
        super().__init__(daemon=True)
        self.device = device
        self.done = threading.Event()
        self.frame = b""

    def run(self) -> None:
        self.frame = self.device.read_frame()  # type: ignore[attr-defined]
        self.done.set()


# ---- ManualClock ----------------------------------------------------------------------


def test_manual_clock_wakes_a_waiter_only_when_advanced_past_its_deadline() -> None:
    clock = ManualClock(start=10.0)
    reached = threading.Event()
    thread = threading.Thread(target=lambda: reached.set() if clock.wait_until(10.05) else None)
    thread.start()
    assert clock.wait_for_waiters(1, WAIT_S)
    clock.advance(0.04)
    assert not reached.is_set()
    assert clock.waiters == 1
    clock.advance(0.01)
    assert reached.wait(WAIT_S)
    thread.join(WAIT_S)
    assert clock.now() == pytest.approx(10.05)


def test_manual_clock_cancel_returns_false() -> None:
    clock = ManualClock()
    cancel = threading.Event()
    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(clock.wait_until(1.0, cancel)))
    thread.start()
    assert clock.wait_for_waiters(1, WAIT_S)
    cancel.set()
    thread.join(WAIT_S)
    assert results == [False]
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_monotonic_clock_past_deadline_and_cancel() -> None:
    clock = MonotonicClock()
    assert clock.wait_until(clock.now() - 1.0) is True
    cancel = threading.Event()
    cancel.set()
    assert clock.wait_until(clock.now() + 60.0, cancel) is False


# ---- pacing by hand -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["silence", "wav"])
def test_a_frame_is_delivered_when_its_period_has_passed(kind: str) -> None:
    clock = ManualClock()
    device = open_audio_device(kind, AudioParams(clock=clock))
    device.start()
    reader = Reader(device)
    reader.start()
    assert clock.wait_for_waiters(1, WAIT_S)
    clock.advance(FRAME_S / 2)
    assert not reader.done.is_set()
    clock.advance(FRAME_S / 2)
    assert reader.done.wait(WAIT_S)
    assert reader.frame == bytes(2 * FRAME)
    device.stop()
    assert device.stats().frames_captured == 1


def test_playout_blocks_until_the_speaker_takes_a_frame(tmp_path: Path) -> None:
    clock = ManualClock()
    params = AudioParams(clock=clock, output_wav=tmp_path / "out.wav", playout_buffer_s=3 * FRAME_S)
    device = open_audio_device("wav", params)
    device.start()
    frames = [np.full(FRAME, k + 1, dtype="<i2").tobytes() for k in range(4)]
    for frame in frames[:3]:  # one plays at once, two wait in the buffer
        device.write_frame(frame)
    blocked = threading.Thread(target=device.write_frame, args=(frames[3],), daemon=True)
    blocked.start()
    assert clock.wait_for_waiters(1, WAIT_S)
    assert blocked.is_alive()
    clock.advance(FRAME_S)
    blocked.join(WAIT_S)
    assert not blocked.is_alive()
    device.stop()
    _, played = read_wav(tmp_path / "out.wav")
    values = np.round(played * 32768).astype(int).reshape(-1, FRAME)[:, 0]
    assert values.tolist() == [1, 2, 3, 4]
    assert device.stats().frames_played == 4
    assert device.stats().output_underruns == 0


def test_the_next_frame_goes_in_once_ten_ms_are_left_as_on_the_real_card(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    device = open_audio_device("wav", AudioParams(clock=clock, output_wav=tmp_path / "o.wav"))
    device.start()
    device.write_frame(np.full(FRAME, 1, dtype="<i2").tobytes())  # plays at once
    second = threading.Thread(
        target=device.write_frame, args=(np.full(FRAME, 2, dtype="<i2").tobytes(),), daemon=True
    )
    second.start()
    assert clock.wait_for_waiters(1, WAIT_S)
    clock.advance(FRAME_S / 4)  # 15 ms of the first frame still to play: no room
    assert clock.wait_for_waiters(1, WAIT_S)
    assert second.is_alive()
    clock.advance(FRAME_S / 4)  # 10 ms left: 30 ms of buffer holds both
    second.join(WAIT_S)
    assert not second.is_alive()
    clock.advance(FRAME_S)
    device.stop()
    _, played = read_wav(tmp_path / "o.wav")
    values = np.round(played * 32768).astype(int).reshape(-1, FRAME)[:, 0]
    assert values.tolist() == [1, 2]  # back to back: no silence between them
    assert device.stats().output_underruns == 0


def test_a_gap_in_playout_is_an_underrun_and_silence_in_the_recording(tmp_path: Path) -> None:
    clock = ManualClock()
    device = open_audio_device("wav", AudioParams(clock=clock, output_wav=tmp_path / "o.wav"))
    device.start()
    tone = np.full(FRAME, 1000, dtype="<i2").tobytes()
    device.write_frame(tone)
    clock.advance(2.5 * FRAME_S)  # the phone had nothing to play for two slots
    device.write_frame(tone)
    device.stop()
    _, played = read_wav(tmp_path / "o.wav")
    levels = np.round(np.abs(played) * 32768).astype(int).reshape(-1, FRAME).max(axis=1)
    assert levels.tolist() == [1000, 0, 0, 1000]
    assert device.stats().output_underruns == 1


def test_a_stalled_reader_loses_old_frames_and_counts_one_overflow(tmp_path: Path) -> None:
    clock = ManualClock()
    clip = ramp_wav(tmp_path / "ramp.wav", FRAME * 40)
    device = open_audio_device("wav", AudioParams(clock=clock, input_wav=tmp_path / "ramp.wav"))
    device.start()
    clock.advance(FRAME_S)
    first = device.read_frame()
    assert first == clip[:FRAME].tobytes()
    clock.advance(20 * FRAME_S)  # the reader was away for 20 frames
    frames = [device.read_frame() for _ in range(CAPTURE_BUFFER_FRAMES)]
    # It resumes with the oldest frame the buffer still holds: frame 21 - 8 = 13.
    assert frames[0] == clip[13 * FRAME : 14 * FRAME].tobytes()
    assert device.stats().input_overflows == 1
    device.stop()


# ---- the WAV microphone ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "dtype", "channels"),
    [(16000, "<i2", 1), (44100, "<i2", 2), (48000, "<f4", 1), (8000, "u1", 1), (48000, "<i4", 1)],
)
def test_any_wav_becomes_48k_mono_int16(
    tmp_path: Path, rate: int, dtype: str, channels: int
) -> None:
    from scipy.io import wavfile

    seconds = 0.5
    t = np.arange(int(rate * seconds)) / rate
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    info = np.dtype(dtype)
    if info.kind == "f":
        data = tone.astype(dtype)
    elif info == np.uint8:
        data = np.round(tone * 127 + 128).astype(dtype)
    else:
        data = np.round(tone * np.iinfo(info).max).astype(dtype)
    if channels == 2:
        data = np.stack([data, data], axis=1)
    path = tmp_path / "in.wav"
    wavfile.write(path, rate, data)
    samples = load_wav_mono16(path, 48000)
    assert samples.dtype == np.dtype("<i2")
    assert len(samples) == pytest.approx(48000 * seconds, abs=2)
    middle = samples[2000:-2000].astype(float) / 32767
    assert np.max(np.abs(middle)) == pytest.approx(0.5, abs=0.02)
    spectrum = np.abs(np.fft.rfft(middle))
    peak_hz = np.argmax(spectrum) * 48000 / len(middle)
    assert peak_hz == pytest.approx(440, abs=5)


def test_after_the_clip_silence_or_loop(tmp_path: Path) -> None:
    clip = ramp_wav(tmp_path / "r.wav", FRAME * 2 + 100)
    for loop in (False, True):
        clock = ManualClock()
        params = AudioParams(clock=clock, input_wav=tmp_path / "r.wav", loop_input=loop)
        device = open_audio_device("wav", params)
        device.start()
        clock.advance(4 * FRAME_S)
        frames = [np.frombuffer(device.read_frame(), dtype="<i2") for _ in range(4)]
        device.stop()
        assert frames[2][:100].tolist() == clip[2 * FRAME : 2 * FRAME + 100].tolist()
        if loop:
            assert frames[2][100:200].tolist() == clip[:100].tolist()
        else:
            assert not frames[2][100:].any()
            assert not frames[3].any()


def test_a_bad_wav_is_a_named_device_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not a wav file")
    device = open_audio_device("wav", AudioParams(input_wav=bad))
    with pytest.raises(AudioDeviceError, match=r"notes\.wav"):
        device.start()
    device = open_audio_device("wav", AudioParams(output_wav=tmp_path / "no" / "dir" / "o.wav"))
    with pytest.raises(AudioDeviceError, match=r"o\.wav"):
        device.start()


def test_the_recording_is_a_valid_48k_wav_after_stop(tmp_path: Path) -> None:
    clock = ManualClock()
    out = tmp_path / "o.wav"
    params = AudioParams(clock=clock, output_wav=out, playout_buffer_s=2 * FRAME_S)
    device = open_audio_device("wav", params)
    device.start()
    for _ in range(2):  # both fit in the buffer: nothing waits
        device.write_frame(bytes(2 * FRAME))
    device.stop()
    device.stop()
    with wave.open(str(out), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (48000, 1, 2)
        assert wav.getnframes() == 2 * FRAME
