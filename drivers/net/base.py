"""The datagram transport contract the call service runs on.

A transport is one bound datagram endpoint. `send` never blocks for long and reports
local failures as `NetworkError`; `recv` blocks up to `timeout` seconds and returns None
when nothing came; after `close` (from any thread) a blocked or later `recv` raises
`TransportClosed` promptly, which is how the service's socket thread learns to stop.
"""

from __future__ import annotations

from typing import Protocol

from pysnac.errors import PysnacError

Address = tuple[str, int]
MAX_RECV_BYTES = 2048  # larger than any datagram we send (MAX_DATAGRAM_BYTES)


class NetworkError(PysnacError, OSError):
    """The local network stack refused a send or a bind (no route, port in use...)."""


class TransportClosed(PysnacError, OSError):
    """The transport was closed; no more datagrams will come."""


class DatagramTransport(Protocol):
    @property
    def local_address(self) -> Address:
        """The (host, port) this transport is bound to."""

    def send(self, data: bytes, addr: Address) -> None:
        """Send one datagram; raises NetworkError or TransportClosed."""

    def recv(self, timeout: float | None) -> tuple[bytes, Address] | None:
        """One datagram and its source, or None after `timeout` seconds."""

    @property
    def last_queued_s(self) -> float:
        """How long the datagram `recv` last returned had been waiting to be read (its
        arrival is `now - last_queued_s`); read it on the thread that called `recv`."""

    def close(self) -> None:
        """Release the socket; idempotent; wakes a blocked `recv`."""
