"""The anti-replay window: RFC 6479 ("IPsec Anti-Replay Algorithm without Bit Shifting").

A ring of REPLAY_BITMAP_WORDS 64-bit words remembers which counters arrived. When a
higher counter arrives, the words between the old and new top are cleared (at most
the whole ring) instead of shifting bits; a counter's bit is word (counter / 64) mod
ring size, bit counter mod 64. A counter is accepted if it is above the highest seen,
or at most REPLAY_WINDOW_PACKETS below it and not yet seen: so reordering inside the
window is fine, duplicates and stragglers are refused. Same algorithm as WireGuard's
`counter_validate` (drivers/net/wireguard/receive.c).

`check` and `commit` are separate so the receiver can refuse a known replay cheaply
before decrypting but only moves the window after the packet authenticated: a forged
packet with a huge counter must not push the window past real traffic.
"""

from __future__ import annotations

from enum import Enum

from pysnac.channel.limits import (
    REJECT_AFTER_MESSAGES,
    REPLAY_BITMAP_WORDS,
    REPLAY_WINDOW_PACKETS,
    REPLAY_WORD_BITS,
)

_WORD_SHIFT = REPLAY_WORD_BITS.bit_length() - 1  # 64 -> 6
_BIT_MASK = REPLAY_WORD_BITS - 1
_RING_MASK = REPLAY_BITMAP_WORDS - 1
assert REPLAY_BITMAP_WORDS & _RING_MASK == 0, "the ring size must be a power of two"


class Verdict(Enum):
    FRESH = "fresh"
    REPLAYED = "replayed"  # this counter was already accepted
    TOO_OLD = "too old"  # below the window: cannot tell, so refuse
    INVALID = "invalid"  # at or above REJECT_AFTER_MESSAGES: no honest sender uses it


class ReplayWindow:
    """Which counters one receiving key has accepted."""

    __slots__ = ("_bitmap", "_greatest")

    def __init__(self) -> None:
        self._bitmap = [0] * REPLAY_BITMAP_WORDS
        self._greatest = -1  # no counter seen yet

    @property
    def greatest(self) -> int:
        """The highest counter accepted so far (-1 before the first)."""
        return self._greatest

    def check(self, counter: int) -> Verdict:
        """Would `counter` be accepted? Changes nothing."""
        if not 0 <= counter < REJECT_AFTER_MESSAGES:
            return Verdict.INVALID
        if counter > self._greatest:
            return Verdict.FRESH
        if self._greatest - counter > REPLAY_WINDOW_PACKETS:
            return Verdict.TOO_OLD
        word = self._bitmap[(counter >> _WORD_SHIFT) & _RING_MASK]
        return Verdict.REPLAYED if word >> (counter & _BIT_MASK) & 1 else Verdict.FRESH

    def commit(self, counter: int) -> None:
        """Record an authenticated counter; `check(counter)` must have said FRESH."""
        if self.check(counter) is not Verdict.FRESH:
            raise ValueError(f"counter {counter} is not fresh")
        index = counter >> _WORD_SHIFT
        if counter > self._greatest:
            current = self._greatest >> _WORD_SHIFT
            for step in range(1, min(index - current, REPLAY_BITMAP_WORDS) + 1):
                self._bitmap[(current + step) & _RING_MASK] = 0
            self._greatest = counter
        self._bitmap[index & _RING_MASK] |= 1 << (counter & _BIT_MASK)
