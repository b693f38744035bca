"""The DatagramTransport contract, run over the real UDP socket and the in-memory twin."""

from __future__ import annotations

import socket
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


def test_recv_says_how_long_a_datagram_waited(pair) -> None:
    """A datagram read late is dated when it arrived (kernel timestamp for UDP), so a
    stall of our own process is not mistaken for network jitter."""
    a, b = pair
    a.send(b"prompt", b.local_address)
    assert b.recv(WAIT_S) is not None
    assert 0.0 <= b.last_queued_s < 0.1  # read as soon as it came
    a.send(b"left waiting", b.local_address)
    waited = threading.Event()
    waited.wait(0.3)  # the stimulus: the datagram sits unread for 0.3 s
    assert b.recv(WAIT_S) is not None
    assert 0.25 <= b.last_queued_s < 1.0


def test_kernel_stamp_ages_are_clamped_and_absent_stamps_are_zero() -> None:
    from drivers.net.udp import MAX_QUEUED_S, SO_TIMESTAMPNS, TIMESPEC, queued_s

    stamp = [(socket.SOL_SOCKET, SO_TIMESTAMPNS, TIMESPEC.pack(1000, 500_000_000))]
    assert queued_s(stamp, 1000.75) == pytest.approx(0.25)
    assert queued_s(stamp, 1000.0) == 0.0  # the wall clock stepped back
    assert queued_s(stamp, 5000.0) == MAX_QUEUED_S  # ... or forward
    assert queued_s([], 1000.75) == 0.0
