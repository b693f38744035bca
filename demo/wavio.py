"""Read any WAV (any rate, mono or stereo, 8/16/24/32-bit or float) as 48 kHz int16 mono.

Resampling is scipy's polyphase filter (`resample_poly`, exact rational ratio); stereo is
averaged to mono. A file that is not a usable WAV raises `WavError` with one clear line.
"""

from __future__ import annotations

import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

from pysnac.errors import UsageError
from pysnac.media import limits

MIN_CLIP_S = 0.5  # PESQ needs at least a fraction of a second of speech


class WavError(UsageError):
    """A WAV file is missing, unreadable, empty or too short."""


def read_wav_48k(path: str | Path) -> np.ndarray:
    """The clip as int16 mono samples at 48 kHz."""
    import scipy.io.wavfile
    from scipy.signal import resample_poly

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)
            rate, data = scipy.io.wavfile.read(str(path))
    except FileNotFoundError:
        raise WavError(f"{path}: no such file") from None
    except (ValueError, OSError, EOFError, IndexError) as exc:
        raise WavError(f"{path}: not a readable WAV file ({exc})") from None
    if data.size == 0 or rate <= 0:
        raise WavError(f"{path}: no audio in the file")
    samples = _to_float(data)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if rate != limits.SAMPLE_RATE_HZ:
        ratio = Fraction(limits.SAMPLE_RATE_HZ, rate).limit_denominator(1000)
        samples = resample_poly(samples, ratio.numerator, ratio.denominator)
    if len(samples) < MIN_CLIP_S * limits.SAMPLE_RATE_HZ:
        raise WavError(f"{path}: shorter than {MIN_CLIP_S} s")
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def _to_float(data: np.ndarray) -> np.ndarray:
    if data.dtype == np.uint8:
        return (data.astype(np.float64) - 128.0) / 128.0
    if data.dtype.kind == "i":
        return data.astype(np.float64) / float(-np.iinfo(data.dtype).min)
    if data.dtype.kind == "f":
        return data.astype(np.float64)
    raise WavError(f"unsupported WAV sample type {data.dtype}")


def write_wav(path: str | Path, samples: np.ndarray, rate: int = limits.SAMPLE_RATE_HZ) -> None:
    import scipy.io.wavfile

    scipy.io.wavfile.write(str(path), rate, samples.astype(np.int16))
