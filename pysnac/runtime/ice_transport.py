"""`IceMuxTransport`: the phone's UDP socket and its calls' ICE sessions as one transport.

The call service runs on one `DatagramTransport` and addresses its peer by (host, port).
With STUN or TURN configured, a call may instead run over an ICE session (a punched
direct path or a TURN relay, pysnac/runtime/ice.py). This transport sends a datagram on
the ICE session filed under its address when there is one, else on the UDP socket; and it
merges what both receive into one queue: a `net-udp` thread reads the socket (keeping the
kernel's arrival stamp), the `net-ice` loop adds what the sessions receive. The Noise
handshake and every media packet are the same bytes on either path: a relay forwards
ciphertext.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from drivers.net.base import Address, DatagramTransport, TransportClosed
from pysnac.errors import PysnacError
from pysnac.runtime.ice import PATH_DIRECT, IceAgent, IceSettings
from pysnac.runtime.reachability import Reachability, is_stun

Publish = Callable[[list[Address]], None]

log = logging.getLogger(__name__)

THREAD_JOIN_S = 2.0
RECV_ERROR_PAUSE_S = 0.1
INBOX_DATAGRAMS = 1024  # a few seconds of voice if the socket thread stalls; then drop
_CLOSED = object()


class IceMuxTransport:
    """Implements `DatagramTransport` over `udp` plus an `IceAgent`; `start()` it."""

    def __init__(self, udp: DatagramTransport, settings: IceSettings) -> None:
        self.udp = udp
        self.agent = IceAgent(settings, self._from_ice)
        self._inbox: queue.Queue[object] = queue.Queue(INBOX_DATAGRAMS)
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read_udp, name="net-udp", daemon=True)
        self._last_queued_s = 0.0
        self.dropped = 0  # datagrams that found the inbox full
        self.reachability: Reachability | None = None

    def start(self) -> IceMuxTransport:
        self.agent.start()
        self._reader.start()
        return self

    @property
    def local_address(self) -> Address:
        return self.udp.local_address

    @property
    def last_queued_s(self) -> float:
        return self._last_queued_s

    def path_for(self, addr: Address) -> str:
        """PATH_RELAY when the ICE session filed under `addr` goes through the relay."""
        session = self.agent.session_for(addr)
        return session.path if session is not None and session.path else PATH_DIRECT

    def send(self, data: bytes, addr: Address) -> None:
        if self._closed.is_set():
            raise TransportClosed("transport closed")
        if not self.agent.send(data, addr):
            self.udp.send(data, addr)

    def recv(self, timeout: float | None) -> tuple[bytes, Address] | None:
        if self._closed.is_set():
            raise TransportClosed("transport closed")
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _CLOSED:
            self._inbox.put_nowait(_CLOSED)  # for any other receiver
            raise TransportClosed("transport closed")
        data, addr, queued_s, put_at = item  # type: ignore[misc]
        self._last_queued_s = queued_s + (time.monotonic() - put_at)
        return data, addr

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self.reachability is not None:
            self.reachability.close()
        self.udp.close()
        self.agent.close()
        self._reader.join(THREAD_JOIN_S)
        try:
            self._inbox.put_nowait(_CLOSED)
        except queue.Full:
            self._inbox.get_nowait()
            self._inbox.put_nowait(_CLOSED)

    # ---- feeding the inbox ------------------------------------------------------------

    def _put(self, data: bytes, addr: Address, queued_s: float) -> None:
        try:
            self._inbox.put_nowait((data, addr, queued_s, time.monotonic()))
        except queue.Full:
            self.dropped += 1

    def _from_ice(self, data: bytes, addr: Address) -> None:
        if not self._closed.is_set():
            self._put(data, addr, 0.0)

    def _read_udp(self) -> None:
        while not self._closed.is_set():
            try:
                item = self.udp.recv(None)
            except TransportClosed:
                return
            except PysnacError as exc:
                log.warning("receive failed: %s", exc)
                self._closed.wait(RECV_ERROR_PAUSE_S)
                continue
            if item is None:
                continue
            watcher = self.reachability
            if watcher is not None and is_stun(item[0]) and watcher.on_datagram(item[0]):
                continue  # our own binding answer: not for the call layer
            self._put(item[0], item[1], self.udp.last_queued_s)

    def watch_reachability(
        self,
        hosts: Callable[[], list[Address]],
        public: Address | None,
        publish: Publish,
        on_change: Callable[[], None] = lambda: None,
    ) -> Reachability:
        """Keep the published candidates true (pysnac/runtime/reachability.py) until close;
        `on_change` when they moved (a call in progress restarts its ICE session)."""
        settings = self.agent.settings
        self.reachability = Reachability(
            self.udp,
            settings.stun_server or settings.turn_server,
            hosts,
            public,
            publish,
            in_call=self.agent.in_call,
            on_change=on_change,
        ).start()
        self.agent.on_connected = self.reachability.check_now  # watch closely in a call
        return self.reachability
