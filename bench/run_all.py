"""`make bench`: run every bench/bench_*.py in turn and let each print its numbers.

A benchmark prints measurements; it asserts nothing. Results that are files (tables,
plots) go to results/. A missed target is printed in capitals (`NOT met`, `OVER`,
`MISSES`, `MISMATCH`): this runner collects those lines into a summary at the end and
exits 1 when there is any, or when a benchmark fails. What the benchmarks write on
stderr (the ALSA and JACK chatter PyAudio prints when it opens) goes to
results/bench_NAME.stderr.log, never into the tables; a failed benchmark's last lines
are shown.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
MISSED = re.compile(r"\b(NOT met|OVER|MISSES|MISMATCH)\b")
STDERR_TAIL_LINES = 15


def run(script: Path) -> tuple[int, list[str]]:
    """Run one benchmark, echoing its stdout; (exit status, lines reporting a miss)."""
    log = RESULTS / f"{script.stem}.stderr.log"
    missed = []
    with log.open("w", encoding="utf-8") as errors:
        process = subprocess.Popen(
            [sys.executable, "-u", str(script)],
            cwd=HERE.parent,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if MISSED.search(line):
                missed.append(line.strip())
        status = process.wait()
    if status != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-STDERR_TAIL_LINES:]
        print("\n".join(tail), file=sys.stderr)
    return status, missed


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    failed, missed = [], []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.stem} ===", flush=True)
        status, misses = run(script)
        if status != 0:
            failed.append(script.name)
        missed += [f"{script.stem}: {line}" for line in misses]
    print("\n=== summary ===")
    for line in missed:
        print(f"missed: {line}")
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)} (stderr in results/)")
    if not missed and not failed:
        print("every target met")
    return 1 if missed or failed else 0


if __name__ == "__main__":
    sys.exit(main())
