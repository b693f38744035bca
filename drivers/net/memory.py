"""An in-memory datagram network: the simulated twin of UDP, with seeded loss and delay.

`MemoryNetwork` is a switch: `open(address)` gives a `MemoryTransport` bound there, and
datagrams between its transports are lost with probability `loss` and delayed by
`delay_s` plus normal jitter of standard deviation `jitter_s` (so they can reorder), all
from one seeded `random.Random`, on an injected clock (anything with `now()`). A packet
becomes receivable once the clock reaches its delivery time; `recv` blocks in real time
for at most `timeout` seconds, re-checking the clock whenever it wakes. `set_down(addr)`
cuts a host off (a crashed or unplugged phone). Like UDP it never reports delivery.
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from drivers.net.base import MAX_RECV_BYTES, Address, NetworkError, TransportClosed

POLL_FLOOR_S = 0.001  # shortest real wait while a delayed packet is in flight


class Clock(Protocol):
    def now(self) -> float: ...


class _Monotonic:
    def now(self) -> float:
        return time.monotonic()


@dataclass(order=True)
class _InFlight:
    deliver_at: float
    seq: int
    data: bytes = field(compare=False)
    source: Address = field(compare=False)


class MemoryNetwork:
    """A lossy switch between in-memory transports."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        loss: float = 0.0,
        delay_s: float = 0.0,
        jitter_s: float = 0.0,
    ) -> None:
        self.clock = clock or _Monotonic()
        self.loss = loss
        self.delay_s = delay_s
        self.jitter_s = jitter_s
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._hosts: dict[Address, MemoryTransport] = {}
        self._down: set[Address] = set()
        self._seq = itertools.count()
        self._ports = itertools.count(40000)
        self.sent = 0
        self.lost = 0

    def open(self, address: Address | None = None) -> MemoryTransport:
        with self._lock:
            if address is None:
                address = ("127.0.0.1", next(self._ports))
            if address in self._hosts:
                raise NetworkError(f"address {address[0]}:{address[1]} in use")
            transport = MemoryTransport(self, address)
            self._hosts[address] = transport
            return transport

    def set_down(self, address: Address, down: bool = True) -> None:
        """Drop everything to and from `address` (True) or restore it (False)."""
        with self._lock:
            (self._down.add if down else self._down.discard)(address)

    def _deliver(self, data: bytes, source: Address, dest: Address) -> None:
        with self._lock:
            self.sent += 1
            target = self._hosts.get(dest)
            lost = self._random.random() < self.loss
            delay = max(0.0, self.delay_s + self._random.gauss(0.0, self.jitter_s))
            if target is None or lost or source in self._down or dest in self._down:
                self.lost += 1
                return
            item = _InFlight(self.clock.now() + delay, next(self._seq), data, source)
        target._enqueue(item)

    def _forget(self, address: Address) -> None:
        with self._lock:
            self._hosts.pop(address, None)


class MemoryTransport:
    """One host on a MemoryNetwork; implements DatagramTransport."""

    def __init__(self, network: MemoryNetwork, address: Address) -> None:
        self._network = network
        self._address = address
        self._queue: list[_InFlight] = []
        self.last_queued_s = 0.0  # the last datagram: how long past its delivery time
        self._cond = threading.Condition()
        self._closed = False

    @property
    def local_address(self) -> Address:
        return self._address

    def send(self, data: bytes, addr: Address) -> None:
        if self._closed:
            raise TransportClosed("transport closed")
        if len(data) > MAX_RECV_BYTES:
            raise NetworkError(f"datagram of {len(data)} bytes is too long")
        self._network._deliver(bytes(data), self._address, tuple(addr))  # type: ignore[arg-type]

    def recv(self, timeout: float | None) -> tuple[bytes, Address] | None:
        give_up = None if timeout is None else time.monotonic() + timeout
        clock = self._network.clock
        with self._cond:
            while True:
                if self._closed:
                    raise TransportClosed("transport closed")
                now = clock.now()
                if self._queue and self._queue[0].deliver_at <= now:
                    item = heapq.heappop(self._queue)
                    self.last_queued_s = now - item.deliver_at
                    return item.data, item.source
                wait = None if give_up is None else give_up - time.monotonic()
                if wait is not None and wait <= 0:
                    return None
                if self._queue:
                    in_flight = max(POLL_FLOOR_S, self._queue[0].deliver_at - now)
                    wait = in_flight if wait is None else min(wait, in_flight)
                self._cond.wait(wait)

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._network._forget(self._address)

    def _enqueue(self, item: _InFlight) -> None:
        with self._cond:
            if not self._closed:
                heapq.heappush(self._queue, item)
                self._cond.notify_all()
