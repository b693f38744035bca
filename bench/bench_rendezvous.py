"""Rendezvous numbers: record sign/verify cost; publish-to-watcher latency and lookup time
through Firebase (real pyrebase4 client, loopback protocol test server -- so this is our
overhead, not Google's network); and, as root, LAN discovery between two network
namespaces (mDNS probing dominates)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.rendezvous.record import key_id, sign_record, verify_record
from pysnac.channel.identity import Identity

ROUNDS_RECORD = 2000
ROUNDS_UPDATE = 30


def bench_record() -> None:
    identity = Identity.generate()
    addresses = [("192.168.1.20", 47000), ("203.0.113.9", 47000)]
    now_ms = int(time.time() * 1000)
    start = time.perf_counter()
    for _ in range(ROUNDS_RECORD):
        blob = sign_record(identity, "alice", addresses, now_ms)
    signed = time.perf_counter()
    for _ in range(ROUNDS_RECORD):
        verify_record(blob, now_ms)
    done = time.perf_counter()
    print(
        f"record: {len(blob)} bytes; sign {1e6 * (signed - start) / ROUNDS_RECORD:.0f} us, "
        f"verify {1e6 * (done - signed) / ROUNDS_RECORD:.0f} us"
    )


class RecordSink:
    """A watch callback that keeps what it is given; `wait_for(pred)` blocks on it."""

    def __init__(self) -> None:
        self.records: list = []
        self._cond = threading.Condition()

    def __call__(self, record) -> None:  # type: ignore[no-untyped-def]
        with self._cond:
            self.records.append(record)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
        with self._cond:
            self._cond.wait_for(lambda: predicate(self.records), timeout_s)


def _latencies(publish, sink: RecordSink, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(rounds):
        port = 40000 + i
        started = time.perf_counter()
        publish([("198.51.100.4", port)])
        sink.wait_for(lambda records, p=port: any(r.addresses[0][1] == p for r in records))
        out.append(1000 * (time.perf_counter() - started))
    return out


def _report(label: str, values: list[float]) -> None:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    print(f"{label}: median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms (n={len(values)})")


def bench_firebase() -> None:
    from drivers.rendezvous.firebase import FirebaseRendezvous
    from drivers.rendezvous.firebase_auth import load_firebase_config
    from tests.firebase_server import FirebaseTestServer

    server = FirebaseTestServer().start()
    folder = Path(tempfile.mkdtemp())
    alice_id = Identity.generate()
    configs = []
    for name in ("alice", "bob"):
        server.add_user(f"{name}@x", "pw", name)
        path = folder / f"{name}.json"
        path.write_text(
            json.dumps(
                {
                    "apiKey": server.api_key,
                    "databaseURL": server.url,
                    "authDomain": None,
                    "storageBucket": None,
                    "auth": {"email": f"{name}@x", "password": "pw"},
                    "authEmulatorHost": server.auth_host,
                }
            )
        )
        path.chmod(0o600)
        configs.append(load_firebase_config(path))
    started = time.perf_counter()
    alice = FirebaseRendezvous(configs[0])
    elapsed = time.perf_counter() - started
    print(f"firebase: backend constructed (pyrebase import + app) in {elapsed:.2f} s")
    bob = FirebaseRendezvous(configs[1])
    sink = RecordSink()
    bob.watch(alice_id.signing_public, sink)
    alice.start(alice_id, "alice", [("198.51.100.4", 39999)])
    sink.wait_for(bool)
    _report("firebase: publish -> watcher", _latencies(alice.update, sink, ROUNDS_UPDATE))
    lookups = []
    for _ in range(ROUNDS_UPDATE):
        t = time.perf_counter()
        assert bob.lookup(alice_id.signing_public, 5) is not None
        lookups.append(1000 * (time.perf_counter() - t))
    _report("firebase: lookup", lookups)
    alice.stop()
    bob.stop()
    server.stop()


def bench_lan() -> None:
    if os.geteuid() != 0:
        print("lan: skipped (needs root for network namespaces)")
        return
    import subprocess

    from drivers.rendezvous.lan import LanRendezvous
    from tests import test_rendezvous_lan as ns

    for n in (ns.NS_A, ns.NS_B):
        subprocess.run(["ip", "netns", "del", n], capture_output=True)
    ns._ip("netns", "add", ns.NS_A)
    ns._ip("netns", "add", ns.NS_B)
    try:
        ns._ip(
            "link",
            "add",
            "rdvA",
            "netns",
            ns.NS_A,
            "type",
            "veth",
            "peer",
            "name",
            "rdvB",
            "netns",
            ns.NS_B,
        )
        for n, dev, ip in ((ns.NS_A, "rdvA", ns.IP_A), (ns.NS_B, "rdvB", ns.IP_B)):
            ns._ip("-n", n, "addr", "add", f"{ip}/24", "dev", dev)
            ns._ip("-n", n, "link", "set", "lo", "up")
            ns._ip("-n", n, "link", "set", dev, "up")
        with ns.inside(ns.NS_A):
            alice = LanRendezvous()
        with ns.inside(ns.NS_B):
            bob = LanRendezvous()
        alice_id = Identity.generate()
        started = time.perf_counter()
        alice.start(alice_id, "alice", [(ns.IP_A, 39999)])
        assert bob.lookup(alice_id.signing_public, 10) is not None
        print(
            f"lan: start -> found by the peer in {time.perf_counter() - started:.2f} s "
            f"(instance {key_id(alice_id.signing_public)[:8]}...)"
        )
        sink = RecordSink()
        bob.watch(alice_id.signing_public, sink)
        _report("lan: update -> watcher", _latencies(alice.update, sink, 10))
        alice.stop()
        bob.stop()
    finally:
        for n in (ns.NS_A, ns.NS_B):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    bench_record()
    bench_firebase()
    bench_lan()
