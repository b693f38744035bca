"""The real transport: one UDP socket, with a wake-up pipe so `close` interrupts `recv`.

Closing a socket does not wake a thread blocked in `recvfrom` on Linux, so `recv` waits
in `select` on the socket and on one end of a socketpair that `close` writes to.

The kernel stamps each datagram as it arrives (SO_TIMESTAMPNS, socket(7)); `recv` turns
the stamp into `last_queued_s`, how long the datagram waited before we read it. When this
process stalls (a Pi under load, a garbage collection), the datagrams that queued up meanwhile
are then dated when they arrived, not all at once when read, so the jitter buffer does
not mistake our own stall for network jitter.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time

from drivers.net.base import MAX_RECV_BYTES, Address, NetworkError, TransportClosed

RECV_BUFFER_BYTES = 256 * 1024  # a few seconds of voice if the socket thread stalls
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; also the cmsg type it sends
TIMESPEC = struct.Struct("@qq")  # struct timespec of CLOCK_REALTIME: seconds, nanoseconds
ANCILLARY_BYTES = socket.CMSG_SPACE(TIMESPEC.size)
MAX_QUEUED_S = 1.0  # a larger age is a wall-clock step, not a queue: clamp it


class UdpTransport:
    """A UDP socket bound to `bind` (port 0 picks a free port)."""

    def __init__(self, bind: Address = ("127.0.0.1", 0)) -> None:
        family = socket.AF_INET6 if ":" in bind[0] else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECV_BUFFER_BYTES)
            self._sock.bind(bind)
        except OSError as exc:
            self._sock.close()
            raise NetworkError(f"cannot bind UDP {bind[0]}:{bind[1]}: {exc.strerror}") from exc
        self._wake_r, self._wake_w = socket.socketpair()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._receivers = 0  # threads inside recv: the fds stay open until they leave
        self._released = False
        self._address: Address = self._sock.getsockname()[:2]
        self.truncated = 0  # datagrams longer than MAX_RECV_BYTES, dropped
        self._stamped = True
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        except OSError:  # not Linux: datagrams are dated when read
            self._stamped = False
        self.last_queued_s = 0.0  # how long the datagram `recv` just returned had waited

    @property
    def local_address(self) -> Address:
        return self._address

    def send(self, data: bytes, addr: Address) -> None:
        if self._closed.is_set():
            raise TransportClosed("transport closed")
        try:
            self._sock.sendto(data, addr)
        except OSError as exc:
            if self._closed.is_set():
                raise TransportClosed("transport closed") from exc
            raise NetworkError(f"cannot send to {addr[0]}:{addr[1]}: {exc.strerror}") from exc

    def recv(self, timeout: float | None) -> tuple[bytes, Address] | None:
        with self._lock:
            if self._closed.is_set():
                raise TransportClosed("transport closed")
            self._receivers += 1
        try:
            return self._recv(timeout)
        finally:
            with self._lock:
                self._receivers -= 1
                if self._closed.is_set() and self._receivers == 0:
                    self._release()

    def _recv(self, timeout: float | None) -> tuple[bytes, Address] | None:
        while True:
            ready, _, _ = select.select([self._sock, self._wake_r], [], [], timeout)
            if self._closed.is_set() or self._wake_r in ready:
                raise TransportClosed("transport closed")
            if not ready:
                return None
            try:
                data, ancillary, _flags, addr = self._sock.recvmsg(
                    MAX_RECV_BYTES + 1, ANCILLARY_BYTES if self._stamped else 0
                )
            except ConnectionRefusedError:
                continue  # an ICMP error for an earlier send; not a datagram
            except OSError as exc:
                raise NetworkError(f"receive failed: {exc}") from exc
            if len(data) > MAX_RECV_BYTES:
                self.truncated += 1
                continue
            self.last_queued_s = queued_s(ancillary, time.time())
            return data, addr[:2]

    def close(self) -> None:
        """Wake any blocked `recv`; the last receiver out (or this call) frees the fds."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
            if self._receivers == 0:
                self._release()

    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        self._sock.close()
        self._wake_w.close()
        self._wake_r.close()


def queued_s(ancillary: list[tuple[int, int, bytes]], wall_now: float) -> float:
    """How long ago the kernel stamped the datagram (0.0 when it did not)."""
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= TIMESPEC.size:
            seconds, nanoseconds = TIMESPEC.unpack_from(payload)
            return min(max(wall_now - (seconds + nanoseconds / 1e9), 0.0), MAX_QUEUED_S)
    return 0.0
