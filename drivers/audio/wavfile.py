"""WAV files and rate changes with the standard library and numpy only (no scipy on a phone).

`read_wav` walks the RIFF chunks itself (Python 3.11's `wave` reads integer PCM only, and
clips come as float or WAVE_FORMAT_EXTENSIBLE too): integer PCM of 8 (unsigned), 16, 24 and
32 bits and IEEE float of 32 and 64 bits, any rate and channel count, as float samples in
[-1, 1]. `write_wav_int16` is `wave`. `resample_poly` is the polyphase resampler of
scipy.signal.resample_poly with its default filter (a Kaiser-windowed sinc, beta 5, ten
zero crossings per side at the lower of the two rates), so it gives the same samples: each
output is a short dot product of input samples with one of `up` phase filters, taken in
blocks over a strided view of the input (no up-sampled copy is ever built).
"""

from __future__ import annotations

import struct
import wave
from math import gcd
from pathlib import Path

import numpy as np

WAVE_FORMAT_PCM = 0x0001
WAVE_FORMAT_IEEE_FLOAT = 0x0003
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
PCM_BITS = (8, 16, 24, 32)
FLOAT_BITS = (32, 64)
FMT_MIN_BYTES = 16
EXTENSIBLE_SUBFORMAT_OFFSET = 24  # in the fmt chunk: the sub-format GUID's first two bytes
KAISER_BETA = 5.0  # scipy.signal.resample_poly's default window
ZERO_CROSSINGS = 10  # filter half length, in periods of the lower rate
RESAMPLE_BLOCK = 8192  # outputs per matrix product (bounds the temporary copy, ~1.4 MB)


class WavFormatError(ValueError):
    """Not a WAV file this reader understands; the message says what is wrong."""


def read_wav(path: Path | str) -> tuple[int, np.ndarray]:
    """(rate, samples): float64 in [-1, 1], shape (frames,) or (frames, channels).
    FileNotFoundError and OSError pass through; a bad file raises WavFormatError."""
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavFormatError("not a RIFF/WAVE file")
    fmt: bytes | None = None
    payload: bytes | None = None
    offset = 12
    while offset + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = data[offset + 8 : offset + 8 + size]
        if chunk_id == b"fmt ":
            fmt = body
        elif chunk_id == b"data":
            payload = body  # a truncated last chunk is read as far as it goes
            break
        offset += 8 + size + (size & 1)  # chunks are padded to an even length
    if fmt is None or len(fmt) < FMT_MIN_BYTES:
        raise WavFormatError("no fmt chunk")
    if payload is None:
        raise WavFormatError("no data chunk")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == WAVE_FORMAT_EXTENSIBLE and len(fmt) >= EXTENSIBLE_SUBFORMAT_OFFSET + 2:
        (tag,) = struct.unpack_from("<H", fmt, EXTENSIBLE_SUBFORMAT_OFFSET)
    if channels < 1 or rate < 1 or block_align != channels * ((bits + 7) // 8):
        raise WavFormatError(f"inconsistent fmt chunk ({channels} ch, {rate} Hz, {bits} bit)")
    usable = len(payload) - len(payload) % block_align
    raw = np.frombuffer(payload[:usable], dtype=np.uint8)
    samples = _decode(raw, tag, bits)
    samples = samples.reshape(-1, channels) if channels > 1 else samples
    return rate, samples


def _decode(raw: np.ndarray, tag: int, bits: int) -> np.ndarray:
    if tag == WAVE_FORMAT_IEEE_FLOAT and bits in FLOAT_BITS:
        return raw.view(f"<f{bits // 8}").astype(np.float64)
    if tag != WAVE_FORMAT_PCM or bits not in PCM_BITS:
        raise WavFormatError(f"unsupported sample format (tag {tag:#06x}, {bits} bit)")
    if bits == 8:
        return (raw.astype(np.float64) - 128.0) / 128.0
    if bits == 24:
        triples = raw.reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        values = np.where(values >= 1 << 23, values - (1 << 24), values)
        return values.astype(np.float64) / float(1 << 23)
    return raw.view(f"<i{bits // 8}").astype(np.float64) / float(1 << (bits - 1))


def write_wav_int16(path: Path | str, samples: np.ndarray, rate: int) -> None:
    """Mono 16-bit PCM."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.asarray(samples).astype("<i2").tobytes())


def resample_poly(samples: np.ndarray, up: int, down: int) -> np.ndarray:
    """Change the rate of a 1-D signal by up/down (scipy.signal.resample_poly's result)."""
    common = gcd(up, down)
    up, down = up // common, down // common
    x = np.asarray(samples, dtype=np.float64)
    if up == down:
        return x.copy()
    h = _lowpass(up, down)
    half = (len(h) - 1) // 2
    n_out = -(-len(x) * up // down)
    taps = 2 * half // up + 1
    # Output m sits at t = m*down and sums x[first + j] * h[2*half - q - j*up], j = 0..taps-1,
    # where first = ceil((t - half) / up) and q = (half - t) mod up: one filter per q.
    phase_filters = np.zeros((up, taps))
    for q in range(up):
        picked = h[2 * half - q :: -up][:taps]
        phase_filters[q, : len(picked)] = picked
    margin = taps + 1
    padded = np.concatenate((np.zeros(margin), x, np.zeros(2 * margin)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, taps)
    out = np.empty(n_out)
    for c in range(min(up, n_out)):  # outputs c, c+up, c+2up... share q; first steps by down
        t = c * down
        first = -(-(t - half) // up)
        rows = windows[first + margin :: down][: len(range(c, n_out, up))]
        column = out[c::up]
        for start in range(0, len(column), RESAMPLE_BLOCK):
            column[start : start + RESAMPLE_BLOCK] = (
                rows[start : start + RESAMPLE_BLOCK] @ phase_filters[(half - t) % up]
            )
    return out


def _lowpass(up: int, down: int) -> np.ndarray:
    """scipy's design: firwin(2*half+1, 1/max_rate, window=("kaiser", 5.0)) * up."""
    max_rate = max(up, down)
    half = ZERO_CROSSINGS * max_rate
    n = np.arange(-half, half + 1)
    h = np.sinc(n / max_rate) * np.kaiser(2 * half + 1, KAISER_BETA)
    return h / h.sum() * up
