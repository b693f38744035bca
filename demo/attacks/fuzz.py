"""A seeded datagram fuzzer built from the product's own code, and `make fuzz`.

The corpus is every datagram of a real call between two pure endpoints (INVITE with valid
macs, RINGING, ACCEPT, CONFIRM, media, BYE) plus INVITEs keyed for the victim. Each fuzzed
datagram is one of: random bytes behind a random packet type; a corpus datagram with bits
flipped, truncated or extended; a corpus datagram re-addressed to the victim's live
session index; an exact replay; a keyed INVITE around random Noise bytes; a garbage INVITE.

`python -m demo.attacks.fuzz --datagrams N` sends N of them over loopback UDP at a live
phone (a `UdpCallService` in a call with another, media flowing), then checks the call
still carries media, and prints the drops by reason.
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

from demo.attacks.flooder import garbage_invite, keyed_invite
from pysnac.call import wire
from pysnac.call.endpoint import Endpoint
from pysnac.call.macs import InviteMacs
from pysnac.channel.identity import Identity
from pysnac.contacts import Contact

CODEC = {"bitrate": 24000, "frame_ms": 20}
STRATEGIES = ("random", "flip", "truncate", "extend", "readdress", "replay", "keyed", "garbage")


def capture_call(caller: Identity, callee: Identity) -> list[bytes]:
    """Every datagram of one complete call between two pure endpoints (zero delay)."""
    a_addr, b_addr = ("10.0.0.1", 1), ("10.0.0.2", 2)
    a = Endpoint(caller, name="alice", codec=CODEC, contacts=lambda: [])
    b = Endpoint(callee, name="bob", codec=CODEC, contacts=lambda: [])
    ends = {a_addr: b, b_addr: a}
    seen: list[bytes] = []
    now = 1000.0

    def pump() -> None:
        pending = [(d, a_addr, dst) for d, dst in a.take_output().datagrams]
        pending += [(d, b_addr, dst) for d, dst in b.take_output().datagrams]
        while pending:
            datagram, src, _dst = pending.pop(0)
            seen.append(datagram)
            end = ends[src]
            end.receive(datagram, src, now)
            there = b_addr if end is b else a_addr
            pending += [(d, there, t) for d, t in end.take_output().datagrams]

    a.place_call(Contact("bob", callee.signing_public, b_addr), now)
    pump()
    b.answer_call(now)
    pump()
    for n in range(5):
        datagram, _ = a.seal_media(bytes([n]) * 60, now)
        seen.append(datagram)
    a.hang_up(now)
    pump()
    return seen


class Fuzzer:
    """Seeded datagrams against a victim identity; `live_index` re-addresses packets."""

    def __init__(self, seed: int, victim: Identity, peer: Identity) -> None:
        self.rng = random.Random(seed)
        self.corpus = capture_call(peer, victim) + capture_call(victim, peer)
        self.macs = InviteMacs(victim.signing_public)
        self.live_index = 0
        self.kinds: Counter[str] = Counter()

    def datagrams(self, count: int) -> Iterator[bytes]:
        for _ in range(count):
            yield self.one()

    def one(self) -> bytes:
        rng = self.rng
        strategy = rng.choice(STRATEGIES)
        self.kinds[strategy] += 1
        base = rng.choice(self.corpus)
        if strategy == "random":
            kind = rng.choice([*[int(t) for t in wire.PacketType], 0, 0xFF])
            return bytes([kind]) + rng.randbytes(rng.randrange(0, 400))
        if strategy == "flip":
            flipped = bytearray(base)
            for _ in range(rng.randrange(1, 4)):
                flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            return bytes(flipped)
        if strategy == "truncate":
            return base[: rng.randrange(len(base))]
        if strategy == "extend":
            return base + rng.randbytes(rng.randrange(1, 64))
        if strategy == "readdress" and base[0] != wire.PacketType.INVITE:
            offset = 1 if base[0] == wire.PacketType.TRANSPORT else 13
            if base[0] == wire.PacketType.COOKIE:
                offset = 1
            if base[0] == wire.PacketType.WRONG_KEY:
                offset = 9
            index = self.live_index.to_bytes(4, "little")
            return base[:offset] + index + base[offset + 4 :]
        if strategy == "keyed":
            return keyed_invite(rng, self.macs)
        if strategy == "garbage":
            return garbage_invite(rng)
        return base  # replay (and re-addressed INVITEs: they have no receiver index)


def run_live(count: int, seed: int) -> tuple[Counter[str], Counter[str], float, bool]:
    """N fuzzed datagrams at a live phone in a call; (drops, kinds, seconds, call still up)."""
    from tests.test_call_service import TestPhone, connect

    alice, bob = TestPhone("alice"), TestPhone("bob")
    try:
        connect(alice, bob)
        alice.service.start_media()
        bob.service.start_media()
        fuzzer = Fuzzer(seed, bob.identity, alice.identity)
        fuzzer.live_index = bob.service.endpoint.active.local_index
        target = bob.service.local_address
        counters = bob.service.endpoint.counters
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        pause = threading.Event()
        started = time.perf_counter()
        for sent, datagram in enumerate(fuzzer.datagrams(count), start=1):
            sock.sendto(datagram, target)
            if sent % 256 == 0:  # let the phone keep up: never more than ~512 queued
                deadline = time.perf_counter() + 2.0
                while sum(counters.values()) < sent - 512 and time.perf_counter() < deadline:
                    pause.wait(0.001)
        elapsed = time.perf_counter() - started
        sock.close()
        received = (
            bob.service.endpoint.active.packets_received if bob.service.endpoint.active else 0
        )
        pause.wait(0.5)
        still_up = (
            bob.service.endpoint.active is not None
            and bob.service.endpoint.active.packets_received > received
        )
        return Counter(counters), fuzzer.kinds, elapsed, still_up
    finally:
        for phone in (alice, bob):
            try:
                phone.service.stop_media()
            finally:
                phone.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datagrams", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    drops, kinds, seconds, still_up = run_live(args.datagrams, args.seed)
    print(f"{args.datagrams:,} datagrams in {seconds:.1f} s ({args.datagrams / seconds:,.0f}/s)")
    print("sent by kind: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
    print("dropped by reason: " + ", ".join(f"{k} {v:,}" for k, v in drops.most_common()))
    unaccounted = args.datagrams - sum(drops.values())
    print(f"not dropped (answered repeats, or lost in the kernel buffer): {unaccounted:,}")
    print(f"the call still carries media: {'yes' if still_up else 'NO'}")
    return 0 if still_up else 1


if __name__ == "__main__":
    sys.exit(main())
