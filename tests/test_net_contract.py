"""The DatagramTransport contract, run over the real UDP socket and the in-memory twin."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from drivers.net.base import DatagramTransport, TransportClosed
from drivers.net.memory import MemoryNetwork
from drivers.net.udp import UdpTransport

WAIT_S = 2.0


def _udp_pair() -> tuple[DatagramTransport, DatagramTransport]:
    return UdpTransport(("127.0.0.1", 0)), UdpTransport(("127.0.0.1", 0))


def _memory_pair() -> tuple[DatagramTransport, DatagramTransport]:
    network = MemoryNetwork()
    return network.open(), network.open()


@pytest.fixture(params=[_udp_pair, _memory_pair], ids=["udp", "memory"])
def pair(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[DatagramTransport, DatagramTransport]]:
    make: Callable[[], tuple[DatagramTransport, DatagramTransport]] = request.param
    a, b = make()
    yield a, b
    a.close()
    b.close()


def test_datagram_arrives_whole_with_its_source(pair) -> None:
    a, b = pair
    a.send(b"hello", b.local_address)
    got = b.recv(WAIT_S)
    assert got == (b"hello", a.local_address)


def test_datagrams_keep_boundaries(pair) -> None:
    a, b = pair
    payloads = [bytes([i]) * (i + 1) for i in range(20)]
    for payload in payloads:
        a.send(payload, b.local_address)
    received = [b.recv(WAIT_S) for _ in payloads]
    assert sorted(data for data, _ in received) == sorted(payloads)


def test_recv_times_out_with_none(pair) -> None:
    _, b = pair
    assert b.recv(0.02) is None


def test_close_wakes_a_blocked_recv(pair) -> None:
    _, b = pair
    outcome: list[object] = []
    started = threading.Event()

    def reader() -> None:
        started.set()
        try:
            b.recv(None)
        except TransportClosed as exc:
            outcome.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    assert started.wait(WAIT_S)
    b.close()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], TransportClosed)


def test_use_after_close_raises_and_close_is_idempotent(pair) -> None:
    a, b = pair
    a.close()
    a.close()
    with pytest.raises(TransportClosed):
        a.recv(0.01)
    with pytest.raises(TransportClosed):
        a.send(b"x", b.local_address)


def test_local_address_is_a_host_port_pair(pair) -> None:
    a, b = pair
    host, port = a.local_address
    assert isinstance(host, str) and isinstance(port, int) and port > 0
    assert a.local_address != b.local_address
