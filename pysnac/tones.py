"""Call-progress tones, generated: the ring a callee hears and the ring-back a caller hears.

Pure (no I/O, no clock): `tone_frame(tone, index, ...)` is frame `index` of an endless
cadence, so a worker that writes frames 0, 1, 2 ... to a device paced by its own clock
plays the cadence at the right speed, and a test can synthesise any stretch of it.
Each tone is a sum of sines switched on and off by a cadence (seconds on, off, on, off ...):
the ring is the British double ring (400+450 Hz, 0.4 s on, 0.2 off, 0.4 on, 2 off), the
ring-back ITU-T E.180's most common one (425 Hz, 1 s on, 4 s off). Every burst starts and
ends with a short linear ramp so the speaker does not click. Loudness follows the volume
level through the same gain curve as the call's playout.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy loads with the first tone, not when the state machine does
    import numpy as np


class Tone(StrEnum):
    RING = "ring"  # this phone is being called (Ringing)
    RINGBACK = "ringback"  # the phone we call is ringing (Dialing)


@dataclass(frozen=True)
class Cadence:
    frequencies_hz: tuple[float, ...]
    pattern_s: tuple[float, ...]  # on, off, on, off ... (even length), then it repeats

    @property
    def period_s(self) -> float:
        return sum(self.pattern_s)


CADENCES = {
    Tone.RING: Cadence((400.0, 450.0), (0.4, 0.2, 0.4, 2.0)),
    Tone.RINGBACK: Cadence((425.0,), (1.0, 4.0)),
}
TONE_PEAK_FULL_SCALE = 0.25  # -12 dBFS at unity gain: loud, with headroom for +9 dB
RAMP_S = 0.005  # fade in/out of each burst


def envelope(cadence: Cadence, t: np.ndarray) -> np.ndarray:
    """0..1 per sample time `t` (seconds): 1 inside an "on" burst, ramped at its edges."""
    import numpy as np

    phase = np.mod(t, cadence.period_s)
    level = np.zeros_like(t)
    start = 0.0
    for i, length in enumerate(cadence.pattern_s):
        if i % 2 == 0:  # an "on" burst
            inside = (phase >= start) & (phase < start + length)
            edge = np.minimum(phase - start, start + length - phase) / RAMP_S
            level = np.where(inside, np.clip(edge, 0.0, 1.0), level)
        start += length
    return level


def tone_frame(tone: Tone, index: int, frame_samples: int, sample_rate: int, gain: float) -> bytes:
    """Frame `index` (int16 LE mono) of `tone`'s endless cadence at `gain` (1.0 = unity)."""
    import numpy as np

    cadence = CADENCES[tone]
    t = (index * frame_samples + np.arange(frame_samples)) / sample_rate
    wave = sum(np.sin(2 * np.pi * f * t) for f in cadence.frequencies_hz) / len(
        cadence.frequencies_hz
    )
    samples = wave * envelope(cadence, t) * TONE_PEAK_FULL_SCALE * gain * 32767
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()
