"""`main.py simulate`: an offline call through the real media pipeline, scored with PESQ-WB.

Runs the real encoder, a seeded network model, the real jitter buffer on a simulated clock
and the real decoder (demo/simulate.py) over N seeds and prints the MOS of the whole call
from its first frame (mean and spread), of its first 6 s and, labelled, of its settled last
pass; the mouth-to-ear delay and the loss-recovery counts; `--json` prints one object.
Every bad option or file is a `UsageError`: one line, no traceback.
"""

from __future__ import annotations

import argparse
import json
import math

from pysnac.errors import UsageError

MAX_SEEDS = 1000
MAX_DRIFT_PPM = 10000.0
MAX_DELAY_MS = 2000.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip", metavar="WAV", help="speech WAV file, any rate (required)")
    parser.add_argument("--loss", metavar="PCT", default="0", help="packet loss %% (default 0)")
    parser.add_argument(
        "--burst", metavar="MEAN_FRAMES", default="1", help="mean loss burst, frames (1: random)"
    )
    parser.add_argument("--delay", metavar="MS", default="0", help="one-way delay, ms")
    parser.add_argument("--jitter", metavar="MS", default="0", help="delay std deviation, ms")
    parser.add_argument("--drift", metavar="PPM", default="0", help="receiver clock error, ppm")
    parser.add_argument("--seeds", metavar="N", default="20", help="seeds to average (default 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _number(name: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise UsageError(f"--{name}: not a number: {text!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(f"--{name}: {text} is outside {low:g}..{high:g}")
    return value


def main(args: argparse.Namespace) -> int:
    if not args.clip:
        raise UsageError("simulate needs --clip WAV")
    loss = _number("loss", args.loss, 0.0, 95.0)
    burst = _number("burst", args.burst, 1.0, 100.0)
    delay = _number("delay", args.delay, 0.0, MAX_DELAY_MS)
    jitter = _number("jitter", args.jitter, 0.0, MAX_DELAY_MS)
    drift = _number("drift", args.drift, -MAX_DRIFT_PPM, MAX_DRIFT_PPM)
    seeds = _number("seeds", args.seeds, 1, MAX_SEEDS)
    if seeds != int(seeds):
        raise UsageError(f"--seeds: not a whole number: {args.seeds}")

    from demo.netsim import NetworkParams
    from demo.simulate import FIRST_SCORED_S, SimConfig, run
    from demo.wavio import read_wav_48k

    clip = read_wav_48k(args.clip)
    network = NetworkParams(
        loss=loss / 100.0, burst_frames=burst, delay_s=delay / 1000.0, jitter_s=jitter / 1000.0
    )
    summary = run(clip, SimConfig(network=network, drift_ppm=drift), int(seeds))
    if args.json:
        print(json.dumps(summary.as_dict()))
        return 0
    per_seed = {k: v / summary.seeds for k, v in summary.as_dict().items() if k in _COUNTS}
    print(
        f"clip {args.clip} ({len(clip) / 48000:.2f} s), loss {loss:g} % (mean burst {burst:g}),"
        f" delay {delay:g} ms +- {jitter:g} ms, drift {drift:g} ppm, {summary.seeds} seeds"
    )
    print(
        f"PESQ-WB MOS, whole call from its first frame  mean {summary.mos_mean:.2f}"
        f"  std {summary.mos_std:.2f}  (min {min(summary.mos):.2f}, max {max(summary.mos):.2f})"
    )
    print(
        f"PESQ-WB MOS, first {FIRST_SCORED_S:g} s  {summary.mos_first_mean:.2f};"
        f"  settled (last clip pass only)  {summary.mos_settled_mean:.2f}"
    )
    print(
        f"mouth-to-ear delay  p50 {summary.delay_ms_p50:.0f} ms  p95 {summary.delay_ms_p95:.0f} ms"
        "  (capture to playout, network included, sound-card buffers excluded)"
    )
    print(
        "per seed: "
        + ", ".join(f"{k.replace('_', ' ')} {v:.1f}" for k, v in per_seed.items())
        + f"; wire {summary.wire_kbps:.1f} kbit/s per direction"
    )
    return 0


_COUNTS = ("lost", "late", "concealed", "fec_recovered", "redundancy_recovered")
