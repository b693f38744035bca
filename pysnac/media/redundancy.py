"""When to protect frames, from the loss the far end reports.

A ladder with a hold-down, chosen from offline measurements of this codec:

    reported loss          earlier frames carried    encoder FEC loss hint
    0                      none                      0 (plain codec, best quality)
    below 0.5 %            none                      the loss, at least 1 % (cheap: same rate)
    0.5 % .. 4 %           n-1                       0
    4 % and more           n-1, n-3                  0
    4 % and more, bursty   n-1, n-3, n-6             0
    first START_PROTECT_S  n-1, n-3 at least         (the protected start)

Copies of n-1 and n-3 rebuild every burst of up to three (n-1, n-2: two) and clusters of
late packets on a jittery path, for a wait of three frames. With copies of n-1, n-3 and n-6
(a reported mean loss burst of 2.4 frames or more), every frame of the last six of a burst
has a copy in a packet after the burst: with Gilbert-Elliott loss of mean burst 3, 30 % of the lost
frames sit in the first L-3 of their burst, 9 % in the first L-6. The receiver then waits
six frames (its lookahead follows the deepest copy it sees). Copies come from a second
encoder at COPY_BITRATE_BPS while the primary steps down to PROTECTED_BITRATE_BPS, which
keeps a call at 10 % random loss under 64 kbit/s on the wire.

In-band FEC rebuilds frame n only from packet n+1; a redundant copy of n in packet n+1 does
the same job at full quality, so once redundancy is on, FEC would only spend bits the primary
frame needs (offline: FEC costs 0.4 MOS at a 10 % hint) and its hint goes to 0. Two
earlier frames also survive bursts, where FEC fails (RFC 2198 section 1). A level
falls only after REDUNDANCY_HOLD_S of lower demand, so a call does not flap.
"""

from __future__ import annotations

from dataclasses import dataclass

from pysnac.media import limits


@dataclass(frozen=True, slots=True)
class Protection:
    offsets: tuple[int, ...]  # which earlier frames to carry, in frames back
    fec_hint_percent: int

    @property
    def redundant_frames(self) -> int:
        return len(self.offsets)


def demand(loss_fraction: float) -> int:
    """Redundant frames wanted for this reported loss, before hold-down."""
    if loss_fraction >= limits.REDUNDANCY_TWO_AT_LOSS:
        return 2
    if loss_fraction >= limits.REDUNDANCY_ONE_AT_LOSS:
        return 1
    return 0


class RedundancyPolicy:
    """Turns reported loss into a `Protection` level; pure, time comes in as `now`.

    A call starts protected: for START_PROTECT_S from the first frame it carries
    START_REDUNDANT_FRAMES copies whatever the far end reports, since the far end's loss
    window is still filling and an early report of 0 means "not measured yet", not "clean".
    After that the reports decide, and a start-up level not backed by reported loss falls
    at once (the hold-down is for levels that loss asked for).
    """

    def __init__(self, *, redundancy: bool = True, fec: bool = True) -> None:
        self._redundancy = redundancy
        self._fec = fec
        self._level = 0
        self._level_since = 0.0
        self._bursty_since = -limits.REDUNDANCY_HOLD_S
        self._started_at: float | None = None

    def starting(self, now: float) -> bool:
        """Still in the protected start (the far end's reports do not yet mean much)."""
        return self._started_at is None or now - self._started_at < limits.START_PROTECT_S

    def update(self, loss_fraction: float, now: float, mean_burst: float = 0.0) -> Protection:
        if self._started_at is None:
            self._started_at = now
        wanted = demand(loss_fraction) if self._redundancy else 0
        if wanted >= self._level or now - self._level_since >= limits.REDUNDANCY_HOLD_S:
            self._level = wanted
            self._level_since = now
        level = self._level
        starting = self._redundancy and self.starting(now)
        if starting:
            level = max(level, limits.START_REDUNDANT_FRAMES)
        hint = 0
        if self._fec and level == 0 and loss_fraction > 0:
            hint = max(1, round(loss_fraction * 100))
        if level == 2 and mean_burst >= limits.BURSTY_MEAN_FRAMES:
            self._bursty_since = now
        bursty = now - self._bursty_since < limits.REDUNDANCY_HOLD_S
        offsets = _BURSTY_OFFSETS if level == 2 and bursty else _OFFSETS[level]
        return Protection(offsets, hint)


_OFFSETS = {0: (), 1: (1,), 2: (1, 3)}
_BURSTY_OFFSETS = (1, 3, 6)
