"""Time-stretching of decoded speech by whole pitch periods: how the jitter buffer grows and
shrinks its delay inside speech without concealing a frame.

Theory of operation (WebRTC NetEq's accelerate and preemptive expand, a WSOLA variant).
Voiced speech repeats itself every pitch period. To shorten a frame by one period L, the
segment x[0:L] is cross-faded into x[L:2L] (the first fades out as the second fades in)
and the result continues with x[2L:]; to lengthen it, x[0:L] is kept, then x[L:2L] is
cross-faded into x[0:L] and x[L:] follows, so one period plays twice. L is the lag
in [PITCH_MIN_S, PITCH_MAX_S] where the signal best matches itself (normalised
cross-correlation, searched on a decimated copy, then refined). Each splice starts on
the sample that would have played anyway and ends on the one that follows it, so there
is no step in the waveform. When the match is poor (a plosive, a fricative, onset) the
frame is left alone and the caller tries again on the next one; a quiet frame has no
audible structure to damage, so it is stretched by the best lag whatever the match.

Pure numpy on int16 frames; O(frame x lags / decimation) per call, only when steering.
"""

from __future__ import annotations

import numpy as np

from pysnac.media import limits

PITCH_MIN_S = 0.0025  # 400 Hz: the shortest pitch period searched
PITCH_MAX_S = 0.010  # 100 Hz; a lower voice matches at two periods' lag of a shorter search
ACCELERATE_MIN_CORRELATION = 0.9  # NetEq's threshold to remove a period of active speech
EXPAND_MIN_CORRELATION = 0.6  # repeating a period is forgiving; NetEq uses a lower bar too
SEARCH_DECIMATION = 4  # coarse search at 12 kHz, then +-DECIMATION samples at full rate
QUIET_RMS = 32768.0 * 10 ** (limits.QUIET_DBFS / 20)


def _lags(rate: int) -> tuple[int, int]:
    return round(PITCH_MIN_S * rate), round(PITCH_MAX_S * rate)


def _ncc(x: np.ndarray, lag: int) -> float:
    """Normalised correlation of x[0:lag] with x[lag:2 lag]."""
    a, b = x[:lag], x[lag : 2 * lag]
    denom = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b)) / denom if denom > 0 else 0.0


def best_lag(x: np.ndarray, rate: int = limits.SAMPLE_RATE_HZ) -> tuple[int, float]:
    """The pitch-period lag L (samples) at which x[0:L] best matches x[L:2L], and the match."""
    low, high = _lags(rate)
    high = min(high, len(x) // 2)
    if high < low:
        return 0, 0.0
    d = SEARCH_DECIMATION
    coarse = x[: 2 * high : d]
    best, best_c = low, -2.0
    for lag in range(max(1, low // d), high // d + 1):
        c = _ncc(coarse, lag)
        if c > best_c:
            best, best_c = lag * d, c
    fine, fine_c = best, -2.0
    for lag in range(max(low, best - d), min(high, best + d) + 1):
        c = _ncc(x, lag)
        if c > fine_c:
            fine, fine_c = lag, c
    return fine, fine_c


def _fade(length: int) -> np.ndarray:
    """0 .. (L-1)/L: the splice's first sample is the one that would have played anyway."""
    return np.arange(length, dtype=np.float64) / length


def _is_quiet(x: np.ndarray) -> bool:
    return float(np.sqrt(np.mean(x * x))) < QUIET_RMS if len(x) else True


def accelerate(pcm: np.ndarray, rate: int = limits.SAMPLE_RATE_HZ) -> np.ndarray | None:
    """`pcm` (int16) one pitch period shorter, or None when the speech does not allow it."""
    x = pcm.astype(np.float64)
    lag, match = best_lag(x, rate)
    if lag == 0 or (match < ACCELERATE_MIN_CORRELATION and not _is_quiet(x)):
        return None
    up = _fade(lag)
    mixed = x[:lag] * (1.0 - up) + x[lag : 2 * lag] * up
    return _to_int16(np.concatenate([mixed, x[2 * lag :]]))


def expand(pcm: np.ndarray, rate: int = limits.SAMPLE_RATE_HZ) -> np.ndarray | None:
    """`pcm` (int16) one pitch period longer, or None when the speech does not allow it."""
    x = pcm.astype(np.float64)
    lag, match = best_lag(x, rate)
    if lag == 0 or (match < EXPAND_MIN_CORRELATION and not _is_quiet(x)):
        return None
    up = _fade(lag)
    mixed = x[lag : 2 * lag] * (1.0 - up) + x[:lag] * up
    return _to_int16(np.concatenate([x[:lag], mixed, x[lag:]]))


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)
