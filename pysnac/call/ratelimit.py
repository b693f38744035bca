"""Token buckets: one global, and one per source address in a bounded table.

A per-source limit means one flooding address cannot use up the work budget another
caller needs (WireGuard's `ratelimiter.c` keeps one bucket per IP the same way). The
table is bounded: when it is full, buckets that have refilled completely carry no
information and are dropped first; if none has, the oldest goes.
Pure: `now` comes in.
"""

from __future__ import annotations


class TokenBucket:
    """`rate_per_s` tokens a second, at most `burst` saved up."""

    __slots__ = ("at", "burst", "rate_per_s", "tokens")

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at: float | None = None

    def take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def refill(self, now: float) -> None:
        if self.at is not None:
            elapsed = max(0.0, now - self.at)
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate_per_s)
        self.at = now

    def full(self, now: float) -> bool:
        self.refill(now)
        return self.tokens >= self.burst


class SourceLimiter:
    """One TokenBucket per source host, at most `max_sources` of them."""

    def __init__(self, rate_per_s: float, burst: int, max_sources: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.max_sources = max_sources
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, source: str, now: float) -> bool:
        bucket = self._buckets.get(source)
        if bucket is None:
            if len(self._buckets) >= self.max_sources:
                self._make_room(now)
            bucket = self._buckets[source] = TokenBucket(self.rate_per_s, self.burst)
        return bucket.take(now)

    def _make_room(self, now: float) -> None:
        for source in [s for s, b in self._buckets.items() if b.full(now)]:
            del self._buckets[source]
        while len(self._buckets) >= self.max_sources:
            del self._buckets[next(iter(self._buckets))]

    def __len__(self) -> int:
        return len(self._buckets)
