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
FIRST_SCORED_S = 6.0  # the start-up of a call, scored on its own
LAG_WINDOW_S = 1.0  # the delay is followed through the call in windows this long
LAG_SEARCH_S = 0.4  # each window's delay is looked for this far either side of the call's
MAX_MOUTH_TO_EAR_MS = 2000.0  # a longer delay is no conversation: not looked for
LAG_SLACK_MS = 200.0  # the device start marks are taken around, not at, the device start
LAG_MIN_CORRELATION = 0.6  # below this a window (a pause, a concealed stretch) is skipped


@dataclass(frozen=True)
class Score:
    mos: float  # PESQ-WB MOS-LQO, or nan when it could not be scored
    lag_ms: float  # where the reference starts in the recording
    correlation: float  # normalised cross-correlation at that lag, 0..1
    scored_s: float
    mos_first: float = float("nan")  # PESQ-WB of the first FIRST_SCORED_S from the lag
    lag_p50_ms: float = float("nan")  # median of the per-window lags (the delay follows
    # the jitter buffer through the call; `lag_ms` is the one lag that fits best overall)
    heard_s: float = 0.0  # how much of the talker was found in the recording near the
    # call's delay, in LAG_WINDOW_S windows: robust to a device that slipped mid-call


def load_16k(path: Path) -> np.ndarray:
    """Any WAV as float64 mono samples at 16 kHz (int16 scale)."""
    from drivers.audio.wav_device import load_wav_mono16

    return load_wav_mono16(path, PESQ_RATE_HZ).astype(np.float64)


def find_lag(
    reference: np.ndarray, recording: np.ndarray, bounds: tuple[int, int] | None = None
) -> tuple[int, float]:
    """The sample offset of `reference` inside `recording`, and the normalised peak. A
    negative offset means the reference began before the recording did (the talker's
    microphone opened before the listener's speaker); at most half the reference.
    `bounds` (lowest, highest) limits the search where the caller knows the delay's range:
    a talker repeating one clip matches one repetition late almost as well."""
    size = 1 << int(np.ceil(np.log2(len(recording) + len(reference))))
    corr = _cross_correlation(recording, reference, size)
    ahead = corr[: max(1, len(recording) - len(reference) // 2)]
    before = corr[size - len(reference) // 2 :]  # lags -len(reference)//2 .. -1
    lags = np.concatenate([np.arange(-len(before), 0), np.arange(len(ahead))])
    peaks = np.concatenate([before, ahead])
    if bounds is not None:
        inside = (lags >= bounds[0]) & (lags <= bounds[1])
        if np.any(inside):
            lags, peaks = lags[inside], peaks[inside]
    lag = int(lags[int(np.argmax(peaks))])
    return lag, _match(*_overlap(reference, recording, lag))


def _cross_correlation(signal: np.ndarray, pattern: np.ndarray, size: int) -> np.ndarray:
    """corr[k] = sum of signal[k + i] * pattern[i], by FFT over `size` (a power of two at
    least len(signal) + len(pattern), so nothing wraps into the lags looked at)."""
    spectrum = np.fft.rfft(signal, size) * np.conj(np.fft.rfft(pattern, size))
    return np.fft.irfft(spectrum, size)


def _match(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation of two equal-length stretches, 0 for silence."""
    denom = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
    return float(np.dot(a, b)) / denom


def _overlap(
    reference: np.ndarray, recording: np.ndarray, lag: int
) -> tuple[np.ndarray, np.ndarray]:
    """The stretch of `recording` and of `reference` that line up at `lag`."""
    if lag < 0:
        reference = reference[-lag:]
        lag = 0
    segment = recording[lag : lag + len(reference)]
    return segment, reference[: len(segment)]


def score_files(reference_wav: Path, recording_wav: Path) -> Score:
    return score(load_16k(reference_wav), load_16k(recording_wav))


def score_call(
    talker_wav: Path, recording_wav: Path, devices_offset_ms: float | None = None
) -> Score:
    """The whole call: `talker_wav` is everything the talker said (longer than the call),
    `recording_wav` what the listener played from its device's start to the hang-up. The
    talker's speech is cut to the recording's length, found in it, and scored from there
    to the end: from the first frame, start-up, losses and outages included. With
    `devices_offset_ms` (the listener's device started this long after the talker's) the
    delay is looked for only up to MAX_MOUTH_TO_EAR_MS (and LAG_SLACK_MS below 0, for the
    marks' own error)."""
    recording = load_16k(recording_wav)
    bounds = None
    if devices_offset_ms is not None:
        low = round(-devices_offset_ms * PESQ_RATE_HZ / 1000)
        slack = round(LAG_SLACK_MS * PESQ_RATE_HZ / 1000)
        bounds = (low - slack, low + round(MAX_MOUTH_TO_EAR_MS * PESQ_RATE_HZ / 1000))
    return score(load_16k(talker_wav)[: len(recording)], recording, bounds)


def score(
    reference: np.ndarray, recording: np.ndarray, bounds: tuple[int, int] | None = None
) -> Score:
    from pesq import pesq
    from pesq.cypesq import PesqError

    lag, correlation = find_lag(reference, recording, bounds)
    segment, ref = _overlap(reference, recording, lag)
    scored_s = len(segment) / PESQ_RATE_HZ
    lag_ms = 1000.0 * lag / PESQ_RATE_HZ
    if scored_s < MIN_SCORED_S:
        return Score(float("nan"), lag_ms, correlation, scored_s)

    def mos_of(ref_part: np.ndarray, segment_part: np.ndarray) -> float:
        try:
            return float(pesq(PESQ_RATE_HZ, ref_part, segment_part, "wb"))
        except (PesqError, ValueError):
            return float("nan")  # e.g. no utterance found: silence was all that arrived

    first = round(FIRST_SCORED_S * PESQ_RATE_HZ)
    lags = window_lags(reference, recording, lag)
    return Score(
        mos_of(ref, segment),
        lag_ms,
        correlation,
        scored_s,
        mos_first=mos_of(ref[:first], segment[:first]) if len(segment) > first else float("nan"),
        lag_p50_ms=1000.0 * float(np.median(lags)) / PESQ_RATE_HZ if lags else float("nan"),
        heard_s=len(lags) * LAG_WINDOW_S,
    )


def heard_fraction(heard_s: float, received_s: float) -> float:
    """Of the LAG_WINDOW_S windows that fit whole into `received_s` of media wherever they
    fall (one fewer than fit end to end: a window straddling the call's start or end is
    half silence), the share in which the talker was found: 0 when nothing was heard."""
    fits = max(1, int(received_s / LAG_WINDOW_S) - 1)
    return min(1.0, heard_s / LAG_WINDOW_S / fits)


def window_lags(reference: np.ndarray, recording: np.ndarray, lag: int) -> list[int]:
    """The lag of each LAG_WINDOW_S of `reference` in `recording`, searched near the
    call's `lag`: the delay as the listener lived it, window by window. Windows that do
    not match well (silence, concealment) are left out."""
    window = round(LAG_WINDOW_S * PESQ_RATE_HZ)
    search = round(LAG_SEARCH_S * PESQ_RATE_HZ)
    lags = []
    for start in range(max(0, -lag), len(reference) - window + 1, window):
        part = reference[start : start + window]
        low = max(0, start + lag - search)
        around = recording[low : start + lag + window + search]
        if len(around) < window or not np.any(part):
            continue
        size = 1 << int(np.ceil(np.log2(len(around) + window)))
        corr = _cross_correlation(around, part, size)
        best = int(np.argmax(corr[: len(around) - window + 1]))
        if _match(around[best : best + window], part) >= LAG_MIN_CORRELATION:
            lags.append(low + best - start)
    return lags
