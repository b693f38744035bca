"""Datagram transports: a real UDP socket and an in-memory lossy network for tests.

Both implement `drivers.net.base.DatagramTransport`; one contract suite
(tests/test_net_contract.py) runs over each.
"""

from __future__ import annotations

from drivers.net.base import DatagramTransport, NetworkError, TransportClosed

__all__ = ["DatagramTransport", "NetworkError", "TransportClosed"]
