"""Calls between two homes: every pair of home-router kinds (demo/netns.py; root only).

For each cell a real call (`demo/run.py` with `network`): did it connect, direct or
relay, Select on alice -> ringing on bob, answer -> first audio heard (the later of the
two phones; targets: direct 1 s, relay 2 s). Then the relay's added delay (the median
handshake round trip of relayed calls minus that of direct ones, both in the same rig),
and the bytes of STUN keepalive a phone sends and receives per idle hour (measured on the
wire from a phone socket behind a NAT, UDP and IP headers included). Prints numbers;
asserts nothing. `BENCH_NAT_CELLS=nat:nat,open:symmetric-nat` runs only those cells.
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.netns import HOME_KINDS, INTERNET_IP, TURN_PORT, NetRig, missing_requirements, run_in
from demo.run import run_demo
from pysnac.runtime.reachability import STUN_EVERY_S

TALK_S = 1.0
TARGET_MS = {"direct": 1000.0, "relay": 2000.0}
UDP_IP_HEADER_BYTES = 28  # IPv4 20 + UDP 8
KEEPALIVE_ROUNDS = 20


def cells() -> list[tuple[str, str]]:
    chosen = os.environ.get("BENCH_NAT_CELLS")
    if chosen:
        return [tuple(cell.split(":", 1)) for cell in chosen.split(",")]  # type: ignore[misc]
    return list(itertools.product(HOME_KINDS, HOME_KINDS))


def one_cell(alice: str, bob: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="pysnac-bench-nat-") as out:
        try:
            result = run_demo(
                out=Path(out),
                talk_s=TALK_S,
                echo=lambda _line: None,
                network=alice,
                bob_network=bob,
            )
        except Exception as exc:  # a cell that does not connect is a result, not a crash
            return {"connected": False, "why": str(exc).splitlines()[0][:60]}
    heard = max(result.answer_to_first_heard_ms.values(), default=float("nan"))
    rtts = [v for v in result.rtt_ms.values() if v is not None]
    return {
        "connected": result.sas_match and min(d.frames_received for d in result.directions) > 0,
        "path": "/".join(sorted(set(result.path.values()))),
        "ring_ms": result.ring_ms,
        "heard_ms": heard,
        "rtt_ms": statistics.median(rtts) if rtts else None,
    }


def keepalive_bytes_per_hour() -> tuple[float, int]:
    """STUN bytes per idle hour of one phone behind an EIM NAT, and the rounds measured."""
    from drivers.net.udp import UdpTransport
    from pysnac.runtime.ice import IceSettings
    from pysnac.runtime.ice_transport import IceMuxTransport

    with NetRig("nat", "nat") as rig:
        transport = run_in(
            rig.homes["alice"].namespace,
            lambda: IceMuxTransport(
                UdpTransport(("0.0.0.0", 0)), IceSettings(stun_server=(INTERNET_IP, TURN_PORT))
            ).start(),
        )
        published: list[list] = []
        try:
            watcher = run_in(
                rig.homes["alice"].namespace,
                lambda: transport.watch_reachability(
                    hosts=lambda: [(rig.homes["alice"].ip, transport.local_address[1])],
                    public=None,
                    publish=published.append,
                ),
            )
            rounds = 0
            while rounds < KEEPALIVE_ROUNDS:
                before = watcher.bytes_received
                watcher.check_now()
                deadline = time.monotonic() + 2.0
                while watcher.bytes_received == before and time.monotonic() < deadline:
                    time.sleep(0.01)  # a bench may wait by polling; tests never do
                rounds += 1
            sent, received = watcher.bytes_sent, watcher.bytes_received
        finally:
            transport.close()
    per_round = (sent + received) / rounds + 2 * UDP_IP_HEADER_BYTES
    return per_round * 3600.0 / STUN_EVERY_S, rounds


def main() -> int:
    why = missing_requirements()
    if why:
        print(f"skipped: the NAT rig {why}")
        return 0
    print(f"{'alice':>14} {'bob':>14}  connected  path    ring ms  first audio ms  target")
    results = {}
    for alice, bob in cells():
        found = one_cell(alice, bob)
        results[(alice, bob)] = found
        if not found["connected"]:
            print(f"{alice:>14} {bob:>14}  NO         {found.get('why', '')}", flush=True)
            continue
        target = TARGET_MS["relay" if "relay" in found["path"] else "direct"]
        ok = "met" if max(found["ring_ms"], found["heard_ms"]) <= target else "MISSED"
        print(
            f"{alice:>14} {bob:>14}  yes        {found['path']:<6} {found['ring_ms']:8.0f}"
            f" {found['heard_ms']:15.0f}  {ok} ({target:.0f} ms)",
            flush=True,
        )
    direct = [r["rtt_ms"] for r in results.values() if r.get("path") == "direct" and r["rtt_ms"]]
    relay = [r["rtt_ms"] for r in results.values() if r.get("path") == "relay" and r["rtt_ms"]]
    if direct and relay:
        added = statistics.median(relay) - statistics.median(direct)
        print(
            f"relay's added delay (handshake round trip, median): {added:.2f} ms "
            f"(direct {statistics.median(direct):.2f} ms, relay {statistics.median(relay):.2f} ms)"
        )
    per_hour, rounds = keepalive_bytes_per_hour()
    print(
        f"STUN keepalive per idle phone: {per_hour / 1024:.1f} KiB per hour "
        f"(one binding every {STUN_EVERY_S:.0f} s, {rounds} rounds measured, headers included)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
