"""Security bench: what refusing a stranger costs, whether calls ring under a flood, and
how fast a SAS grinder runs (and what it finds).

1. Refusing a garbage INVITE (wrong mac1) at a pure endpoint: microseconds per datagram
   (target under 10 us), and a keyed one under load (valid mac1, answered by a cookie).
2. Legitimate calls while 5,000 keyed INVITEs a second arrive from 64 spoofed-looking
   sources that never read a reply (a flooder process): each call over real loopback UDP
   from INVITE to ring at the callee (target: every one within 1 s).
3. SAS grinding: tries per second and matches against the commitment and, for contrast,
   against the old derivation.
4. Loading 20,000 pinned contacts from the phonebook file (target well under a second).
"""

from __future__ import annotations

import base64
import queue
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo.attacks.flooder import garbage_invite, keyed_invite  # noqa: E402
from demo.attacks.sas_grinder import grind_committed, grind_old  # noqa: E402
from pysnac.call.endpoint import Endpoint  # noqa: E402
from pysnac.call.macs import InviteMacs  # noqa: E402
from pysnac.call_events import EventName  # noqa: E402
from pysnac.channel.identity import Identity  # noqa: E402

REFUSALS = 20_000
FLOOD_RATE_PER_S = 5000.0
LEGIT_CALLS = 10
RING_TARGET_S = 1.0


def refusal_us(keyed: bool) -> float:
    victim = Identity.generate()
    endpoint = Endpoint(victim, name="bob", codec={}, contacts=lambda: [])
    rng = random.Random(1)
    macs = InviteMacs(victim.signing_public)
    datagrams = [keyed_invite(rng, macs) if keyed else garbage_invite(rng) for _ in range(REFUSALS)]
    sources = [(f"10.0.{n % 250}.{n % 199 + 1}", 4000 + n) for n in range(REFUSALS)]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        now = 1000.0
        for datagram, source in zip(datagrams, sources, strict=True):
            endpoint.receive(datagram, source, now)
            endpoint.take_output()
            now += 1.0 / FLOOD_RATE_PER_S
        best = min(best, (time.perf_counter() - start) / REFUSALS * 1e6)
    return best


def wait_event(phone, name: EventName, timeout_s: float) -> bool:
    """True when `phone` posts `name` within the timeout (other events are skipped)."""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            if phone.events.get(timeout=left).name is name:
                return True
        except queue.Empty:
            return False
    return False


def calls_under_flood() -> list[float]:
    from tests.test_call_service import TestPhone

    alice, bob = TestPhone("alice"), TestPhone("bob")
    alice.contacts, bob.contacts = [bob.contact()], [alice.contact()]
    host, port = bob.service.local_address
    key = base64.b64encode(bob.identity.signing_public).decode()
    seconds = LEGIT_CALLS * 1.5 + 3
    flooder = subprocess.Popen(
        [
            *(sys.executable, "-m", "demo.attacks.flooder", "--target", f"{host}:{port}"),
            *("--key", key, "--rate", str(FLOOD_RATE_PER_S), "--seconds", str(seconds)),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    latencies = []
    try:
        time.sleep(1.0)  # let the flood reach full rate (a bench, not a test)
        for _ in range(LEGIT_CALLS):
            start = time.perf_counter()
            alice.service.place_call(bob.contact())
            rang = wait_event(bob, EventName.INCOMING_CALL, 5.0)
            latencies.append(time.perf_counter() - start if rang else float("inf"))
            alice.service.cancel_call()
            if rang:
                wait_event(bob, EventName.REMOTE_HUNG_UP, 5.0)
            else:
                print(f"  no ring; callee drops so far: {dict(bob.service.endpoint.counters)}")
            time.sleep(0.3)
        counters = dict(bob.service.endpoint.counters)
    finally:
        flooder.wait(timeout=seconds + 10)
        alice.close()
        bob.close()
    print(f"  flooder: {flooder.stdout.read().strip()}")
    print(f"  callee drops: {counters}")
    return latencies


def contacts_load_s(count: int = 20_000) -> float:
    """Seconds to open a phonebook of `count` pinned contacts (the file the phone writes)."""
    import json
    import os
    import tempfile

    from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook

    rows = []
    for n in range(count):
        key = base64.b64encode(os.urandom(32)).decode()
        rows.append(json.dumps({"name": f"c{n}", "public_key": key}) + "\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / PHONEBOOK_FILE_NAME
        path.write_text("".join(rows), encoding="utf-8")
        start = time.perf_counter()
        loaded = len(Phonebook(path).contacts())
        elapsed = time.perf_counter() - start
    assert loaded == count
    return elapsed


def main() -> int:
    print(f"refusing a garbage INVITE (wrong mac1): {refusal_us(False):.1f} us (target < 10)")
    print(f"refusing a keyed INVITE under load (cookie reply): {refusal_us(True):.1f} us")
    latencies = calls_under_flood()
    rung = [t for t in latencies if t <= RING_TARGET_S]
    print(
        f"legitimate calls under {FLOOD_RATE_PER_S:,.0f} keyed INVITEs/s: {len(rung)}/"
        f"{len(latencies)} rang within {RING_TARGET_S:.0f} s; INVITE to ring median "
        f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )
    committed, equal = grind_committed(1_000_000)
    print(
        f"SAS grinding against the commitment: {committed.per_s:,.0f} tries/s, "
        f"{committed.matches} matches in {committed.tries:,}; the SAS shown "
        f"{'MATCHED' if equal else 'differed'}"
    )
    old = grind_old(100_000, chars=3)
    print(
        f"SAS grinding against the old derivation: {old.per_s:,.0f} tries/s, {old.matches} "
        f"matches in {old.tries:,} on a 3-character space (31^3 = 29,791)"
    )
    print(f"loading 20,000 pinned contacts (phonebook file): {contacts_load_s():.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
