"""The in-memory network's impairments: seeded loss, delay on the injected clock, outages."""

from __future__ import annotations

from drivers.net.memory import MemoryNetwork


class StepClock:
    def __init__(self) -> None:
        self.t = 100.0

    def now(self) -> float:
        return self.t


def test_delay_follows_the_injected_clock() -> None:
    clock = StepClock()
    network = MemoryNetwork(clock=clock, delay_s=0.05)
    a, b = network.open(), network.open()
    a.send(b"late", b.local_address)
    assert b.recv(0.0) is None
    clock.t += 0.049
    assert b.recv(0.0) is None
    clock.t += 0.002
    assert b.recv(0.0) == (b"late", a.local_address)


def test_loss_is_seeded_and_near_its_rate() -> None:
    def survivors(seed: int) -> list[int]:
        network = MemoryNetwork(seed=seed, loss=0.2)
        a, b = network.open(), network.open()
        for i in range(1000):
            a.send(i.to_bytes(2, "little"), b.local_address)
        got = []
        while (item := b.recv(0.0)) is not None:
            got.append(int.from_bytes(item[0], "little"))
        return got

    first = survivors(7)
    assert first == survivors(7)
    assert first != survivors(8)
    assert 740 <= len(first) <= 860


def test_jitter_reorders() -> None:
    clock = StepClock()
    network = MemoryNetwork(clock=clock, seed=1, delay_s=0.05, jitter_s=0.02)
    a, b = network.open(), network.open()
    for i in range(50):
        a.send(bytes([i]), b.local_address)
    clock.t += 10.0
    order = []
    while (item := b.recv(0.0)) is not None:
        order.append(item[0][0])
    assert sorted(order) == list(range(50))
    assert order != list(range(50))


def test_a_host_that_is_down_neither_sends_nor_receives() -> None:
    network = MemoryNetwork()
    a, b = network.open(), network.open()
    network.set_down(b.local_address)
    a.send(b"x", b.local_address)
    b.send(b"y", a.local_address)
    assert b.recv(0.0) is None and a.recv(0.0) is None
    network.set_down(b.local_address, False)
    a.send(b"z", b.local_address)
    assert b.recv(0.0) == (b"z", a.local_address)
