"""The impairment relay (demo/impair.py) over real loopback UDP: it forwards both ways,
applies the seeded loss model, delays, drops everything in an outage, and counts it all."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from demo.impair import A_TO_B, B_TO_A, ImpairedRelay, Impairment, Outage
from demo.netsim import Network
from tests.conftest import REPO

WAIT_S = 5.0
QUIET_S = 0.3  # nothing more arrives: the relay has finished with what it was given


@pytest.fixture
def ends() -> Iterator[tuple[socket.socket, socket.socket]]:
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for sock in (a, b):
        sock.bind(("127.0.0.1", 0))
    yield a, b
    a.close()
    b.close()


def drain(sock: socket.socket, until_quiet_s: float = QUIET_S) -> list[tuple[bytes, tuple]]:
    got = []
    sock.settimeout(until_quiet_s)
    while True:
        try:
            got.append(sock.recvfrom(2048))
        except TimeoutError:
            return got


def relay_for(ends, impairment: Impairment) -> ImpairedRelay:
    a, b = ends
    return ImpairedRelay(a.getsockname(), b.getsockname(), impairment)


def test_clean_relay_forwards_both_ways_and_the_answer_path_works(ends) -> None:
    a, b = ends
    with relay_for(ends, Impairment()) as relay:
        a.sendto(b"invite", relay.a_side)
        b.settimeout(WAIT_S)
        data, seen_from = b.recvfrom(2048)
        assert data == b"invite" and seen_from == relay.b_side  # b answers there
        b.sendto(b"ringing", seen_from)
        a.settimeout(WAIT_S)
        data, seen_from = a.recvfrom(2048)
        assert data == b"ringing" and seen_from == relay.a_side
        report = relay.report()
    assert report[A_TO_B]["delivered"] == 1 and report[B_TO_A]["delivered"] == 1
    assert report["impairment"] == "clean"


@pytest.mark.parametrize("burst", [1.0, 3.0])
def test_loss_follows_the_seeded_model_and_is_counted(ends, burst: float) -> None:
    a, b = ends
    impairment = Impairment(loss=0.2, burst_frames=burst, seed=7)
    count, batch = 400, 50  # in batches, as a phone paces them: no socket buffer overflows
    got = []
    with relay_for(ends, impairment) as relay:
        for first in range(0, count, batch):
            for i in range(first, first + batch):
                a.sendto(i.to_bytes(2, "big"), relay.a_side)
            got += drain(b, 0.1)
        stats = relay.stats[A_TO_B]
    model = Network(impairment.network(), 2 * impairment.seed)  # the relay's a->b model
    expected_lost = sum(model.send(0.0) is None for _ in range(count))
    assert stats.received == count
    assert stats.lost == expected_lost and 0.1 * count < expected_lost < 0.3 * count
    assert stats.delivered == len(got) == count - expected_lost
    assert relay.stats[B_TO_A].received == 0


def test_delay_holds_every_datagram_back(ends) -> None:
    a, b = ends
    delay_s = 0.08
    with relay_for(ends, Impairment(delay_s=delay_s, jitter_s=0.01, seed=3)) as relay:
        sent_at = time.monotonic()
        for i in range(20):
            a.sendto(bytes([i]), relay.a_side)
        b.settimeout(WAIT_S)
        b.recvfrom(2048)
        first = time.monotonic()
        rest = drain(b)
    assert first - sent_at >= delay_s - 0.04  # jitter is normal around the delay, floored
    assert len(rest) == 19


def test_outage_drops_everything_both_ways_and_says_when_the_link_came_back(ends) -> None:
    a, b = ends
    with relay_for(ends, Impairment(outages=(Outage(0.0, 3600.0),))) as relay:
        for _ in range(10):
            a.sendto(b"x", relay.a_side)
            b.sendto(b"y", relay.b_side)
        assert drain(a) == [] and drain(b) == []
        report = relay.report()
    for way in (A_TO_B, B_TO_A):
        assert report[way]["outage_dropped"] == 10 and report[way]["delivered"] == 0
        assert report[way]["first_after_outage"] == [None]
    ((start, end),) = report["outages"]
    assert end - start == pytest.approx(3600.0) and start == report["first_at"]


def test_outage_ends_and_the_first_datagram_after_it_is_dated(ends) -> None:
    a, b = ends
    with relay_for(ends, Impairment(outages=(Outage(0.0, 0.2),))) as relay:
        a.sendto(b"dropped", relay.a_side)
        assert drain(b) == []  # QUIET_S > the outage: it is over now
        a.sendto(b"through", relay.a_side)
        b.settimeout(WAIT_S)
        assert b.recvfrom(2048)[0] == b"through"
        report = relay.report()
    ((_start, end),) = report["outages"]
    back = report[A_TO_B]["first_after_outage"][0]
    assert back is not None and back >= end


@pytest.mark.parametrize("text", ["5", "a:b", "3:0", "-1:2", ""])
def test_outage_flag_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="AT_S:SECONDS"):
        Outage.parse(text)


def test_outage_flag_and_description() -> None:
    assert Outage.parse("8:5") == Outage(8.0, 5.0)
    path = Impairment(
        loss=0.1, burst_frames=3, delay_s=0.04, jitter_s=0.02, outages=(Outage(8, 5),)
    )
    assert path.describe() == "10 % loss, mean burst 3, 40 +- 20 ms delay, outage 5 s at 8 s"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--loss", "100"], "--loss must be a percentage from 0 to below 100"),
        (["--burst", "0.5"], "--burst must be at least 1 frame"),
        (["--jitter", "-1"], "--delay and --jitter must not be negative"),
        (["--outage", "5"], "--outage '5' is not AT_S:SECONDS (e.g. 8:5)"),
        (
            ["--loss", "5", "--rendezvous", "firebase"],
            "--loss, --burst, --delay, --jitter, --outage and --relay need static addresses",
        ),
        (
            ["--relay", "--rendezvous", "lan"],
            "--loss, --burst, --delay, --jitter, --outage and --relay need static addresses",
        ),
        (["--bob-clip", "no-such.wav"], "--bob-clip no-such.wav: no such file"),
    ],
)
def test_demo_flags_are_checked_with_one_line(flags: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "demo", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"pysnac: {message}"]
