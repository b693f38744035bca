"""When to protect frames, from the loss the far end reports (issue 3, items 1 and 4).

A ladder with a hold-down, chosen from the offline numbers in NOTES.md:

    reported loss      previous frames carried   encoder FEC loss hint
    0                  0                          0 (plain codec, best quality)
    below 0.5 %        0                          the loss, at least 1 % (cheap: same bitrate)
    0.5 % .. 4 %       1                          0
    4 % and more       2                          0

In-band FEC rebuilds frame n only from packet n+1; a redundant copy of n in packet n+1 does
the same job at full quality, so once redundancy is on, FEC would only spend bits the primary
frame needs (NOTES.md: FEC costs 0.4 MOS at a 10 % hint) and its hint goes to 0. Two
previous frames also survive bursts of two, where FEC fails (RFC 2198 section 1). A level
falls only after REDUNDANCY_HOLD_S of lower demand, so a call does not flap.
"""

from __future__ import annotations

from dataclasses import dataclass

from pysnac_fsm.media import limits


@dataclass(frozen=True, slots=True)
class Protection:
    redundant_frames: int
    fec_hint_percent: int


def demand(loss_fraction: float) -> int:
    """Redundant frames wanted for this reported loss, before hold-down."""
    if loss_fraction >= limits.REDUNDANCY_TWO_AT_LOSS:
        return 2
    if loss_fraction >= limits.REDUNDANCY_ONE_AT_LOSS:
        return 1
    return 0


class RedundancyPolicy:
    """Turns reported loss into a `Protection` level; pure, time comes in as `now`."""

    def __init__(self, *, redundancy: bool = True, fec: bool = True) -> None:
        self._redundancy = redundancy
        self._fec = fec
        self._level = 0
        self._level_since = 0.0

    def update(self, loss_fraction: float, now: float) -> Protection:
        wanted = demand(loss_fraction) if self._redundancy else 0
        if wanted >= self._level or now - self._level_since >= limits.REDUNDANCY_HOLD_S:
            self._level = wanted
            self._level_since = now
        hint = 0
        if self._fec and self._level == 0 and loss_fraction > 0:
            hint = max(1, round(loss_fraction * 100))
        return Protection(self._level, hint)
