"""The target rows over the real path: two phone processes (`main.py demo`) talking through
the impairment relay on loopback, one 30 s call per row; prints what each listener heard.

A benchmark prints numbers and asserts nothing. Whole-call PESQ-WB from the demo's own
scoring of each recording; mouth-to-ear as the demo measures it; wire kbit/s as the relay
counted the bytes it delivered (after loss) per direction. Environment: BENCH_RELAY_TALK_S.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TALK_S = os.environ.get("BENCH_RELAY_TALK_S", "30")
ROWS = [
    ("clean", ["--loss", "0"]),
    ("10 % random loss", ["--loss", "10"]),
    ("20 % random loss", ["--loss", "20"]),
    ("bursty 10 %, mean burst 3", ["--loss", "10", "--burst", "3"]),
    ("40 +- 20 ms jitter", ["--delay", "40", "--jitter", "20"]),
]


def run_row(args: list[str], out: Path) -> dict:
    command = [sys.executable, str(REPO / "main.py"), "demo", "--talk-s", TALK_S, "--json"]
    result = subprocess.run(
        [*command, "--out", str(out), *args], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1:])
    return json.loads(result.stdout)


def main() -> int:
    print(
        f"| condition ({TALK_S} s call, over the relay) | PESQ-WB alice->bob / bob->alice |"
        " mouth-to-ear ms | concealed / recovered / lost | delivered kbit/s |"
    )
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix=f"bench-relay-{os.getpid()}-") as tmp:
        for k, (label, args) in enumerate(ROWS):
            try:
                summary = run_row(args, Path(tmp) / str(k))
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
                print(f"| {label} | failed: {exc} | | | |", flush=True)
                continue
            ab, ba = summary["directions"]
            kbps = [d.get("relay", {}).get("kbit_per_s") for d in (ab, ba)]
            wire = " / ".join("direct" if v is None else f"{v:.1f}" for v in kbps)
            print(
                f"| {label} | {ab['pesq']:.2f} / {ba['pesq']:.2f} |"
                f" {ab['mouth_to_ear_ms']:.0f} / {ba['mouth_to_ear_ms']:.0f} |"
                f" {ab['frames_concealed']}/{ab['frames_recovered']}/{ab['frames_lost']}"
                f" / {ba['frames_concealed']}/{ba['frames_recovered']}/{ba['frames_lost']} |"
                f" {wire} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
