"""Read any WAV (any rate, mono or stereo, 8/16/24/32-bit or float) as 48 kHz int16 mono.

Reading and resampling are `drivers.audio.wavfile` (the standard library and numpy; its
polyphase filter gives scipy's `resample_poly` samples, exact rational ratio); stereo is
averaged to mono. A file that is not a usable WAV raises `WavError` with one clear line.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from drivers.audio.wavfile import WavFormatError, read_wav, resample_poly
from pysnac.errors import UsageError
from pysnac.media import limits

MIN_CLIP_S = 0.5  # PESQ needs at least a fraction of a second of speech


class WavError(UsageError):
    """A WAV file is missing, unreadable, empty or too short."""


def read_wav_48k(path: str | Path) -> np.ndarray:
    """The clip as int16 mono samples at 48 kHz."""
    try:
        rate, samples = read_wav(path)
    except FileNotFoundError:
        raise WavError(f"{path}: no such file") from None
    except (WavFormatError, OSError) as exc:
        raise WavError(f"{path}: not a readable WAV file ({exc})") from None
    if samples.size == 0:
        raise WavError(f"{path}: no audio in the file")
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if rate != limits.SAMPLE_RATE_HZ:
        ratio = Fraction(limits.SAMPLE_RATE_HZ, rate).limit_denominator(1000)
        samples = resample_poly(samples, ratio.numerator, ratio.denominator)
    if len(samples) < MIN_CLIP_S * limits.SAMPLE_RATE_HZ:
        raise WavError(f"{path}: shorter than {MIN_CLIP_S} s")
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
