"""The real transport: one UDP socket, with a wake-up pipe so `close` interrupts `recv`.

Closing a socket does not wake a thread blocked in `recvfrom` on Linux, so `recv` waits
in `select` on the socket and on one end of a socketpair that `close` writes to.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading

from drivers.net.base import MAX_RECV_BYTES, Address, NetworkError, TransportClosed

RECV_BUFFER_BYTES = 256 * 1024  # a few seconds of voice if the socket thread stalls


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
                data, addr = self._sock.recvfrom(MAX_RECV_BYTES + 1)
            except ConnectionRefusedError:
                continue  # an ICMP error for an earlier send; not a datagram
            except OSError as exc:
                raise NetworkError(f"receive failed: {exc}") from exc
            if len(data) > MAX_RECV_BYTES:
                self.truncated += 1
                continue
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
