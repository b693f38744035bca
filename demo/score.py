"""Score what a phone heard against what the other phone said: align, then PESQ-WB.

A live call's recording starts when the listener's sound device starts and lags the
talker's clip by the set-up and pipeline delay, so the two are first lined up by the peak
of their cross-correlation (FFT, over the whole recording), then the aligned stretch is
scored with PESQ-WB (ITU-T P.862.2, `pesq` package) at 16 kHz. The lag is reported too:
it is the mouth-to-ear delay of the call minus the difference of the devices' start times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

PESQ_RATE_HZ = 16000
MIN_SCORED_S = 1.0  # PESQ needs at least this much overlapping speech


@dataclass(frozen=True)
class Score:
    mos: float  # PESQ-WB MOS-LQO, or nan when it could not be scored
    lag_ms: float  # where the reference starts in the recording
    correlation: float  # normalised cross-correlation at that lag, 0..1
    scored_s: float


def load_16k(path: Path) -> np.ndarray:
    """Any WAV as float64 mono samples at 16 kHz (int16 scale)."""
    from drivers.audio.wav_device import load_wav_mono16

    return load_wav_mono16(path, PESQ_RATE_HZ).astype(np.float64)


def find_lag(reference: np.ndarray, recording: np.ndarray) -> tuple[int, float]:
    """The sample offset of `reference` inside `recording`, and the normalised peak."""
    size = 1 << int(np.ceil(np.log2(len(recording) + len(reference))))
    spectrum = np.fft.rfft(recording, size) * np.conj(np.fft.rfft(reference, size))
    corr = np.fft.irfft(spectrum, size)[: max(1, len(recording) - len(reference) // 2)]
    lag = int(np.argmax(corr))
    segment = recording[lag : lag + len(reference)]
    ref = reference[: len(segment)]
    denom = float(np.linalg.norm(segment) * np.linalg.norm(ref)) or 1.0
    return lag, float(np.dot(segment, ref)) / denom


def score_files(reference_wav: Path, recording_wav: Path) -> Score:
    return score(load_16k(reference_wav), load_16k(recording_wav))


def score(reference: np.ndarray, recording: np.ndarray) -> Score:
    from pesq import pesq
    from pesq.cypesq import PesqError

    lag, correlation = find_lag(reference, recording)
    segment = recording[lag : lag + len(reference)]
    ref = reference[: len(segment)]
    scored_s = len(segment) / PESQ_RATE_HZ
    lag_ms = 1000.0 * lag / PESQ_RATE_HZ
    if scored_s < MIN_SCORED_S:
        return Score(float("nan"), lag_ms, correlation, scored_s)
    try:
        mos = float(pesq(PESQ_RATE_HZ, ref, segment, "wb"))
    except (PesqError, ValueError):
        mos = float("nan")  # e.g. no utterance found: silence was all that arrived
    return Score(mos, lag_ms, correlation, scored_s)
