"""A network impairment in userspace: a UDP relay on loopback between two phone processes.

These machines have no kernel netem, so the demo puts a relay on the path instead. The
relay has two sockets. Phone A's contact address for B is the relay's `a_side`, and B's
contact address for A is its `b_side`: a datagram A sends to `a_side` leaves from `b_side`
to B (so B sees it come from `b_side` and answers there), and one B sends to `b_side`
leaves from `a_side` to A. Each direction has its own seeded `demo.netsim.Network`:
random loss, or Gilbert-Elliott bursty loss with a mean burst in frames, and a delay with
normally distributed jitter (packets are delivered in arrival order, so jitter reorders
them as a real path does). Outages drop everything both ways for a while; their times
count from the first datagram the relay sees, so the impairment applies from the first
packet of the call (the INVITE) on. Everything the relay did is counted per direction,
with the monotonic time (CLOCK_MONOTONIC is system-wide, so these times compare with the
phones' marks) of each outage's end and of the first datagram delivered after it.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import select
import socket
import threading
import time
from dataclasses import asdict, dataclass, field

from demo.netsim import Network, NetworkParams

Address = tuple[str, int]
MAX_DATAGRAM_BYTES = 65535
JOIN_S = 2.0
RECV_BUFFER_BYTES = 256 * 1024  # as the phones': seconds of voice if the relay stalls
A_TO_B = "a_to_b"
B_TO_A = "b_to_a"


@dataclass(frozen=True)
class Outage:
    """Nothing passes either way from `at_s` after the first datagram, for `duration_s`."""

    at_s: float
    duration_s: float

    @classmethod
    def parse(cls, text: str) -> Outage:
        """`AT_S:SECONDS` (the command line's form); ValueError saying what is wrong."""
        at, sep, duration = text.partition(":")
        try:
            outage = cls(float(at), float(duration)) if sep else None
        except ValueError:
            outage = None
        if outage is None or outage.at_s < 0 or outage.duration_s <= 0:
            raise ValueError(f"{text!r} is not AT_S:SECONDS (e.g. 8:5)")
        return outage


@dataclass(frozen=True)
class Impairment:
    """What the relay does to both directions; `loss` is a fraction (0.1 = 10 %)."""

    loss: float = 0.0
    burst_frames: float = 1.0  # mean loss burst in packets; 1 means independent loss
    delay_s: float = 0.0
    jitter_s: float = 0.0  # standard deviation of the delay
    outages: tuple[Outage, ...] = ()
    seed: int = 1

    def network(self) -> NetworkParams:
        return NetworkParams(self.loss, self.burst_frames, self.delay_s, self.jitter_s)

    @property
    def clean(self) -> bool:
        return self.network() == NetworkParams() and not self.outages

    def describe(self) -> str:
        if self.clean:
            return "clean"
        parts = []
        if self.loss:
            burst = f", mean burst {self.burst_frames:g}" if self.burst_frames > 1 else ""
            parts.append(f"{100 * self.loss:g} % loss{burst}")
        if self.delay_s or self.jitter_s:
            parts.append(f"{1000 * self.delay_s:g} +- {1000 * self.jitter_s:g} ms delay")
        parts += [f"outage {o.duration_s:g} s at {o.at_s:g} s" for o in self.outages]
        return ", ".join(parts)


@dataclass
class DirectionStats:
    """What the relay did to one direction."""

    received: int = 0
    delivered: int = 0
    lost: int = 0  # by the loss model
    outage_dropped: int = 0
    bytes_delivered: int = 0
    first_at: float | None = None
    last_at: float | None = None
    first_after_outage: list[float | None] = field(default_factory=list)  # one per outage

    @property
    def kbit_per_s(self) -> float:
        """Delivered payload bitrate (UDP payload only) between first and last datagram."""
        if self.first_at is None or self.last_at is None or self.last_at <= self.first_at:
            return 0.0
        return 8.0 * self.bytes_delivered / (self.last_at - self.first_at) / 1000.0


class ImpairedRelay:
    """Start with `start()`, point phone A at `a_side` and B at `b_side`; `close()` it."""

    def __init__(self, a: Address, b: Address, impairment: Impairment) -> None:
        self.impairment = impairment
        self._peer = {A_TO_B: b, B_TO_A: a}
        self._socks = {A_TO_B: _bound(a[0]), B_TO_A: _bound(b[0])}
        self._out = {A_TO_B: self._socks[B_TO_A], B_TO_A: self._socks[A_TO_B]}
        params = impairment.network()
        self._networks = {
            A_TO_B: Network(params, 2 * impairment.seed),
            B_TO_A: Network(params, 2 * impairment.seed + 1),
        }
        self.stats = {name: DirectionStats() for name in (A_TO_B, B_TO_A)}
        for stats in self.stats.values():
            stats.first_after_outage = [None] * len(impairment.outages)
        self.first_at: float | None = None  # the first datagram either way: outages count from it
        self._queue: list[tuple[float, int, str, bytes]] = []
        self._order = itertools.count()
        self._wake_r, self._wake_w = socket.socketpair()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="impair-relay", daemon=True)

    @property
    def a_side(self) -> Address:
        """Where phone A sends to reach B (B's address in A's contacts)."""
        return self._socks[A_TO_B].getsockname()[:2]

    @property
    def b_side(self) -> Address:
        """Where phone B sends to reach A (A's address in B's contacts)."""
        return self._socks[B_TO_A].getsockname()[:2]

    def start(self) -> ImpairedRelay:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the relay thread and close both sockets. Idempotent."""
        if not self._closed.is_set():
            self._closed.set()
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        if self._thread.is_alive():
            self._thread.join(JOIN_S)
        for sock in (*self._socks.values(), self._wake_r, self._wake_w):
            sock.close()

    def __enter__(self) -> ImpairedRelay:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def outage_windows(self) -> list[tuple[float, float]]:
        """Each outage as (start, end) monotonic times; empty before the first datagram."""
        if self.first_at is None:
            return []
        return [
            (self.first_at + o.at_s, self.first_at + o.at_s + o.duration_s)
            for o in self.impairment.outages
        ]

    def report(self) -> dict[str, object]:
        """Counts and times, for the demo's summary and JSON."""
        with self._lock:
            return {
                "impairment": self.impairment.describe(),
                "first_at": self.first_at,
                "outages": self.outage_windows(),
                **{
                    name: {**asdict(stats), "kbit_per_s": stats.kbit_per_s}
                    for name, stats in self.stats.items()
                },
            }

    # ---- the relay thread -------------------------------------------------------------

    def _serve(self) -> None:
        readable = [*self._socks.values(), self._wake_r]
        direction_of = {sock: name for name, sock in self._socks.items()}
        while not self._closed.is_set():
            timeout = None
            if self._queue:
                timeout = max(0.0, self._queue[0][0] - time.monotonic())
            ready, _, _ = select.select(readable, [], [], timeout)
            for sock in ready:
                if sock is self._wake_r:
                    return
                try:
                    data, _addr = sock.recvfrom(MAX_DATAGRAM_BYTES)
                except OSError:  # e.g. an ICMP port unreachable from a phone that quit
                    continue
                self._arrived(direction_of[sock], data, time.monotonic())
            self._deliver_due(time.monotonic())

    def _arrived(self, direction: str, data: bytes, now: float) -> None:
        with self._lock:
            if self.first_at is None:
                self.first_at = now
            stats = self.stats[direction]
            stats.received += 1
            if any(start <= now < end for start, end in self.outage_windows()):
                stats.outage_dropped += 1
                return
            arrive_at = self._networks[direction].send(now)
            if arrive_at is None:
                stats.lost += 1
                return
        heapq.heappush(self._queue, (arrive_at, next(self._order), direction, data))

    def _deliver_due(self, now: float) -> None:
        while self._queue and self._queue[0][0] <= now:
            _, _, direction, data = heapq.heappop(self._queue)
            with self._lock:  # counted first: whoever receives it sees it counted
                stats = self.stats[direction]
                stats.delivered += 1
                stats.bytes_delivered += len(data)
                sent_at = time.monotonic()
                stats.first_at = stats.first_at if stats.first_at is not None else sent_at
                stats.last_at = sent_at
                for i, (_start, end) in enumerate(self.outage_windows()):
                    if stats.first_after_outage[i] is None and sent_at >= end:
                        stats.first_after_outage[i] = sent_at
            try:
                self._out[direction].sendto(data, self._peer[direction])
            except OSError:  # the phone is gone; a real path would drop it too
                with self._lock:
                    stats.delivered -= 1
                    stats.bytes_delivered -= len(data)


def _bound(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER_BYTES)
    sock.bind((host, 0))
    return sock
