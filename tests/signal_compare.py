"""Comparing what went in with what came out: delay estimation and windowed correlation.

A real audio path shifts the signal by an unknown delay and may glitch for a frame or two
(measured: under load 3 of 15 runs glitched once), so byte equality is the wrong test.
`estimate_delay` finds the lag that maximises the cross-correlation (computed with FFTs);
`windowed_correlation` then scores each window of the reference that carries speech
(normalised cross-correlation, 1.0 = identical shape and any gain), searching a few ms
around the delay in each window to tolerate drift (or wider, where a path may slip by
more than that: a sound device that ran dry for a moment delays all that follows).
Click tracks measure latency: `click_track` makes one, `detect_clicks` finds their onsets.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

DEFAULT_WINDOW_S = 0.25
WINDOW_SEARCH_S = 0.003  # per-window delay search around the global delay
MIN_WINDOW_RMS = 0.01  # windows of the reference quieter than this (full scale 1.0) are skipped
CLICK_LENGTH_S = 0.001
CLICK_AMPLITUDE = 0.8
CLICK_THRESHOLD = 0.3
CLICK_REFRACTORY_S = 0.05


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    """A WAV file as (rate, float samples in [-1, 1], mono)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit WAV files are compared")
        rate = wav.getframerate()
        channels = wav.getnchannels()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return rate, to_float(data.reshape(-1, channels) if channels > 1 else data)


def to_float(data: np.ndarray | bytes) -> np.ndarray:
    """int16 bytes/arrays (or floats) to mono float64 in [-1, 1]."""
    if isinstance(data, bytes | bytearray):
        data = np.frombuffer(data, dtype="<i2")
    array = np.asarray(data)
    if array.ndim == 2:
        array = array.mean(axis=1)
    if array.dtype.kind == "f":
        return array.astype(np.float64)
    return array.astype(np.float64) / 32768.0


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    """Write mono int16 (or float in [-1, 1]) samples as a 16-bit WAV file."""
    array = np.asarray(samples)
    if array.dtype.kind == "f":
        array = np.clip(np.round(array * 32767.0), -32768, 32767)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(array.astype("<i2").tobytes())


def estimate_delay(
    reference: np.ndarray, output: np.ndarray, max_delay: int, min_delay: int | None = None
) -> int:
    """The lag d in [min_delay, max_delay] maximising sum(reference[n] * output[n + d]).

    `min_delay` defaults to -max_delay: a recording started after the sound began starts
    part-way into the reference (a negative lag).
    """
    ref = to_float(reference)
    out = to_float(output)
    low = -max_delay if min_delay is None else min_delay
    size = len(ref) + len(out) - 1
    n_fft = 1 << (size - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(out, n_fft) * np.fft.rfft(ref[::-1], n_fft), n_fft)[:size]
    # index len(ref)-1 of the full correlation is lag 0
    zero = len(ref) - 1
    first = max(0, zero + low)
    lags = corr[first : zero + max_delay + 1]
    if len(lags) == 0:
        return 0
    return int(np.argmax(lags)) + first - zero


def windowed_correlation(
    reference: np.ndarray,
    output: np.ndarray,
    delay: int,
    rate: int,
    window_s: float = DEFAULT_WINDOW_S,
    search_s: float = WINDOW_SEARCH_S,
) -> list[float]:
    """Normalised cross-correlation of each speech window of `reference` with `output`,
    the best over lags within `search_s` of `delay` (each window searched on its own)."""
    ref = to_float(reference)
    out = to_float(output)
    window = int(window_s * rate)
    search = int(search_s * rate)
    scores = []
    for start in range(0, len(ref) - window + 1, window):
        piece = ref[start : start + window]
        if np.sqrt(np.mean(piece**2)) < MIN_WINDOW_RMS:
            continue
        lo = max(0, start + delay - search)
        hi = min(len(out), start + delay + search + window)
        scores.append(_best_normalised(piece, out[lo:hi]))
    return scores


def _best_normalised(piece: np.ndarray, segment: np.ndarray) -> float:
    """max over k of <piece, segment[k:k+n]> / (|piece| |segment[k:k+n]|), by FFT."""
    n = len(piece)
    if len(segment) < n:
        return 0.0
    n_fft = 1 << (len(segment) + n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(segment, n_fft) * np.conj(np.fft.rfft(piece, n_fft)), n_fft)
    corr = corr[: len(segment) - n + 1]
    squares = np.concatenate([[0.0], np.cumsum(segment**2)])
    energy = squares[n:] - squares[:-n]
    denom = np.sqrt(np.maximum(energy, 0.0) * np.sum(piece**2))
    valid = denom > 1e-12
    if not valid.any():
        return 0.0
    return float(np.max(corr[valid] / denom[valid]))


def click_track(rate: int, clicks: int, interval_s: float, lead_s: float = 0.2) -> np.ndarray:
    """Silence with `clicks` short full-band bursts, `interval_s` apart, after `lead_s`."""
    length = int(CLICK_LENGTH_S * rate)
    track = np.zeros(int((lead_s + clicks * interval_s) * rate))
    for k in range(clicks):
        start = int((lead_s + k * interval_s) * rate)
        track[start : start + length] = CLICK_AMPLITUDE
    return track


def detect_clicks(signal: np.ndarray, rate: int, threshold: float = CLICK_THRESHOLD) -> list[int]:
    """Sample indices where |signal| first crosses `threshold`, at most one per refractory."""
    samples = np.abs(to_float(signal))
    above = np.flatnonzero(samples >= threshold)
    onsets: list[int] = []
    refractory = int(CLICK_REFRACTORY_S * rate)
    for index in above:
        if not onsets or index - onsets[-1] >= refractory:
            onsets.append(int(index))
    return onsets
