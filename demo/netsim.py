"""A seeded one-way network model for the simulator and tests.

Each packet sent at time t either is lost or arrives at t + delay, where delay is
`delay_s` plus normally distributed jitter of standard deviation `jitter_s`, floored at
MIN_DELAY_S (a packet cannot arrive before it is sent). Packets are delivered in arrival
order, so reordering follows from the jitter, as on a real path. Loss is either independent
(Bernoulli) or bursty: a two-state Gilbert-Elliott chain (good: no loss, bad: every packet
lost) whose mean burst length is `burst_frames` and whose stationary loss is `loss`:
p(bad->good) = 1/burst, p(good->bad) = loss / (burst * (1 - loss)).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

MIN_DELAY_S = 0.0005  # half a millisecond: the floor for a one-way delay


@dataclass(frozen=True)
class NetworkParams:
    loss: float = 0.0  # stationary loss fraction, 0..1
    burst_frames: float = 1.0  # mean burst length in packets; 1 means independent loss
    delay_s: float = 0.0
    jitter_s: float = 0.0  # standard deviation of the delay

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss < 1.0:
            raise ValueError("loss must be in [0, 1)")
        if self.burst_frames < 1.0:
            raise ValueError("mean burst length must be at least 1 frame")
        if self.delay_s < 0 or self.jitter_s < 0:
            raise ValueError("delay and jitter must not be negative")


class Network:
    """`send(t)` returns the arrival time of a packet sent at `t`, or None if lost."""

    def __init__(self, params: NetworkParams, seed: int) -> None:
        self.params = params
        self._rng = random.Random(seed)
        self._bad = False
        burst = params.burst_frames
        self._bursty = burst > 1.0 and params.loss > 0
        self._p_bad_to_good = 1.0 / burst
        self._p_good_to_bad = params.loss / (burst * (1.0 - params.loss)) if self._bursty else 0
        self.sent = 0
        self.lost = 0

    def send(self, t: float) -> float | None:
        self.sent += 1
        if self._lose():
            self.lost += 1
            return None
        p = self.params
        jitter = self._rng.gauss(0.0, p.jitter_s) if p.jitter_s > 0 else 0.0
        return t + max(MIN_DELAY_S, p.delay_s + jitter)

    def _lose(self) -> bool:
        p = self.params
        if p.loss <= 0:
            return False
        if not self._bursty:
            return self._rng.random() < p.loss
        if self._bad:
            self._bad = self._rng.random() >= self._p_bad_to_good
        else:
            self._bad = self._rng.random() < self._p_good_to_bad
        return self._bad
