"""The target rows over the real path: two phone processes (`main.py demo`) talking through
the impairment relay on loopback, recorded speech both ways; prints what each listener heard.

A benchmark prints numbers and asserts nothing. Each row is BENCH_RELAY_CALLS calls (each
its own impairment seed, from BENCH_RELAY_FIRST_SEED) of BENCH_RELAY_TALK_S seconds. Per
direction: PESQ-WB of the whole call from its first frame (mean, and the worst call), of
its first 6 s, the mouth-to-ear median over the call (the demo follows the delay window by
window), frames concealed / recovered / lost, and the wire kbit/s the relay delivered
(after loss). A row is "met" when, each way, the mean over its calls reaches the PESQ
target and the mean of the first 6 s is within 0.3 of it, every call survived, and the
row's delay or bitrate cap holds; the worst call and the largest single-call gap are
printed beside them (one 6 s window of one call varies with where the loss bursts fell).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEECH = REPO / "tests" / "data" / "speech" / "arctic_a0007.wav"  # both ways
TALK_S = os.environ.get("BENCH_RELAY_TALK_S", "30")
CALLS = int(os.environ.get("BENCH_RELAY_CALLS", "5"))
FIRST_SEED = int(os.environ.get("BENCH_RELAY_FIRST_SEED", "1"))  # impairment seeds from here
FIRST_WITHIN = 0.3  # the first 6 s within this of the whole call
M2E_P50_MAX_MS = 130.0  # the jitter row's mouth-to-ear median
WIRE_MAX_KBPS = 64.0  # per direction at 10 % loss


@dataclass(frozen=True)
class Row:
    label: str
    args: tuple[str, ...]
    pesq_min: float
    wire_capped: bool = False
    m2e_capped: bool = False


ROWS = [
    Row("clean (through the relay)", ("--relay",), 4.3),
    Row("10 % random loss", ("--loss", "10"), 4.0, wire_capped=True),
    Row("20 % random loss", ("--loss", "20"), 3.6),
    Row("bursty 10 %, mean burst 3", ("--loss", "10", "--burst", "3"), 3.3),
    Row("40 +- 20 ms jitter", ("--delay", "40", "--jitter", "20"), 4.1, m2e_capped=True),
]


def run_call(args: tuple[str, ...], seed: int, out: Path) -> dict:
    command = [
        *(sys.executable, str(REPO / "main.py"), "demo", "--talk-s", TALK_S, "--json"),
        *("--clip", str(SPEECH), "--bob-clip", str(SPEECH), "--seed", str(seed)),
        *("--out", str(out), *args),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if not result.stdout.strip():
        raise RuntimeError((result.stderr.strip().splitlines() or ["no output"])[-1])
    return json.loads(result.stdout)


def direction_cells(row: Row, ways: list[dict]) -> tuple[list[str], bool]:
    """One direction over the row's calls: its cells and whether it met every target."""
    whole = [w["pesq"] for w in ways]
    # A call shorter than 6 s has no first 6 s of its own: it counts as its whole.
    first = [w["pesq_first_6s"] or w["pesq"] for w in ways]
    m2e = [w["mouth_to_ear_p50_ms"] for w in ways if w["mouth_to_ear_p50_ms"] is not None]
    kbps = [w["relay"].get("kbit_per_s", 0.0) for w in ways]
    gap = max(abs(f - w) for f, w in zip(first, whole, strict=True))
    mean_gap = abs(statistics.mean(first) - statistics.mean(whole))
    met = statistics.mean(whole) >= row.pesq_min and mean_gap <= FIRST_WITHIN
    met = met and all(w["survived"] for w in ways)
    if row.m2e_capped:
        met = met and bool(m2e) and statistics.median(m2e) <= M2E_P50_MAX_MS
    if row.wire_capped:
        met = met and max(kbps) <= WIRE_MAX_KBPS
    frames = [(w["frames_concealed"], w["frames_recovered"], w["frames_lost"]) for w in ways]
    cells = [
        f"{statistics.mean(whole):.2f} (min {min(whole):.2f})",
        f"{statistics.mean(first):.2f} (one call's gap up to {gap:.2f})",
        f"{statistics.median(m2e):.0f}" if m2e else "n/a",
        "/".join(str(sum(f[k] for f in frames) // len(frames)) for k in range(3)),
        f"{statistics.mean(kbps):.1f}",
    ]
    return cells, met


def main() -> int:
    print(
        f"{CALLS} calls of {TALK_S} s per row through the impairment relay, recorded speech"
        " both ways; per direction (alice->bob | bob->alice): whole-call PESQ-WB mean (worst"
        " call), first 6 s mean (largest single-call gap), mouth-to-ear median ms,"
        " concealed/recovered/lost frames per call, delivered kbit/s"
    )
    print("| condition | target | alice->bob | bob->alice | met |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix=f"bench-relay-{os.getpid()}-") as tmp:
        for k, row in enumerate(ROWS):
            calls = []
            for seed in range(FIRST_SEED, FIRST_SEED + CALLS):
                try:
                    calls.append(run_call(row.args, seed, Path(tmp) / f"{k}-{seed}"))
                except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
                    print(f"| {row.label} | seed {seed} failed: {exc} | | | NOT met |", flush=True)
            if not calls:
                continue
            target = f">= {row.pesq_min}" + (", p50 <= 130 ms" if row.m2e_capped else "")
            target += ", <= 64 kbit/s" if row.wire_capped else ""
            cells = [direction_cells(row, [c["directions"][d] for c in calls]) for d in (0, 1)]
            met = all(ok for _, ok in cells) and len(calls) == CALLS
            text = [" · ".join(c) for c, _ in cells]
            verdict = "met" if met else "NOT met"
            print(f"| {row.label} | {target} | {text[0]} | {text[1]} | {verdict} |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
