"""Ringing: the generated cadences (pure), and the ringer worker playing them through a
real device driver (the wav driver's recording, paced by its clock) until stopped; a
missing speaker is one log line and no tone, never a fault."""

from __future__ import annotations

import logging
import wave
from pathlib import Path

import numpy as np
import pytest

from drivers.audio import AudioParams, open_audio_device
from pysnac.runtime.ringer import Ringer
from pysnac.tones import CADENCES, Tone, tone_frame

RATE = 48000
FRAME = 960  # 20 ms
WAIT_S = 10.0


def synthesise(tone: Tone, seconds: float, gain: float = 1.0) -> np.ndarray:
    frames = int(seconds * RATE / FRAME)
    pcm = b"".join(tone_frame(tone, i, FRAME, RATE, gain) for i in range(frames))
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def rms_per_10ms(samples: np.ndarray) -> np.ndarray:
    blocks = samples[: len(samples) // 480 * 480].reshape(-1, 480)
    return np.sqrt((blocks**2).mean(axis=1))


def peak_frequencies(samples: np.ndarray, count: int) -> list[float]:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
    peaks = []
    for index in np.argsort(spectrum)[::-1]:
        if all(abs(freqs[index] - p) > 20 for p in peaks):
            peaks.append(float(freqs[index]))
        if len(peaks) == count:
            break
    return sorted(peaks)


@pytest.mark.parametrize("tone", list(Tone))
def test_cadence_is_on_and_off_where_it_says(tone: Tone) -> None:
    cadence = CADENCES[tone]
    loud = rms_per_10ms(synthesise(tone, cadence.period_s * 2)) > 1000
    start = 0.0
    for i, length in enumerate(cadence.pattern_s * 2):
        # the middle of each burst or gap, away from the 5 ms ramps
        inside = loud[int((start + 0.02) * 100) : int((start + length - 0.02) * 100)]
        assert inside.all() if i % 2 == 0 else not inside.any(), (i, start)
        start += length


@pytest.mark.parametrize("tone", list(Tone))
def test_tone_frequencies_and_volume(tone: Tone) -> None:
    cadence = CADENCES[tone]
    burst = synthesise(tone, 0.4)  # inside the first "on" burst of both cadences
    expected = sorted(cadence.frequencies_hz)
    found = peak_frequencies(burst, len(expected))
    assert found == pytest.approx(expected, abs=5)
    quiet = synthesise(tone, 0.4, gain=0.5)
    assert np.abs(quiet).max() == pytest.approx(np.abs(burst).max() / 2, rel=0.01)
    assert not synthesise(tone, 0.4, gain=0.0).any()  # volume 0 is silent
    assert np.abs(burst).max() < 32767 / 3  # headroom: the top volume does not clip


def wav_ringer(output: Path) -> Ringer:
    params = AudioParams(frame_samples=FRAME, output_wav=output)
    return Ringer(lambda: open_audio_device("wav", params), params)


def test_the_ring_reaches_the_speaker_and_stops(tmp_path: Path) -> None:
    output = tmp_path / "speaker.wav"
    ringer = wav_ringer(output)
    ringer.start("ring", 7)
    try:
        assert ringer.wait_frames(20, WAIT_S)  # 0.4 s: the first burst
    finally:
        ringer.stop()
    played = ringer.frames_played
    with wave.open(str(output)) as recording:  # stop() closed it: the header is complete
        samples = np.frombuffer(recording.readframes(recording.getnframes()), "<i2")
    assert len(samples) >= 20 * FRAME
    assert peak_frequencies(samples[: 20 * FRAME].astype(np.float64), 2) == pytest.approx(
        [400.0, 450.0], abs=5
    )
    assert ringer.problem == ""
    ringer.stop()  # idempotent
    assert ringer.frames_played == played  # nothing plays after stop


def test_a_new_tone_replaces_the_old_one(tmp_path: Path) -> None:
    ringer = wav_ringer(tmp_path / "speaker.wav")
    ringer.start("ring", 7)
    assert ringer.wait_frames(2, WAIT_S)
    ringer.start("ringback", 7)
    try:
        assert ringer.wait_frames(ringer.frames_played + 20, WAIT_S)
    finally:
        ringer.stop()
    with wave.open(str(tmp_path / "speaker.wav")) as recording:
        samples = np.frombuffer(recording.readframes(20 * FRAME), "<i2").astype(np.float64)
    assert peak_frequencies(samples, 1) == pytest.approx([425.0], abs=5)


def test_no_speaker_is_one_log_line_and_no_tone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ringer = wav_ringer(tmp_path / "no such folder" / "speaker.wav")
    with caplog.at_level(logging.WARNING):
        ringer.start("ring", 7)
        assert ringer.wait_ended(WAIT_S)  # the device failed: the tone gave up by itself
        ringer.stop()
        ringer.start("ring", 7)  # a second call: still no fault
        assert ringer.wait_ended(WAIT_S)
        ringer.stop()
    assert ringer.frames_played == 0
    assert ringer.problem
    lines = [r for r in caplog.records if r.name == "pysnac.runtime.ringer"]
    assert len(lines) == 2 and all(r.exc_info is None for r in lines)  # one per call
