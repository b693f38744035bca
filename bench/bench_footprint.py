"""A phone's memory in a call: resident set (now and peak) of each of two phone processes
started as the demo starts them (WAV audio on loopback UDP), read from /proc while they
talk for TALK_S, and the packages each imported (from `python -X importtime`).
"""

from __future__ import annotations

import re
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.phones import STDERR_NAME, PhoneProcess, connect, make_phone_folder, write_config
from demo.run import ALICE_CLIP, BOB_CLIP

TALK_S = 4.0
START_S = 60.0
STEP_S = 10.0
KIB_PER_MIB = 1024
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$")


def status_mib(pid: int, field: str) -> float:
    """A `VmRSS`/`VmHWM` line of /proc/PID/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / KIB_PER_MIB
    raise KeyError(field)


def heaviest_imports(stderr: str, count: int = 5) -> list[tuple[str, float]]:
    """Top-level packages by cumulative import time (ms)."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match and not match.group(2).startswith(" "):
            name = match.group(2).split(".")[0]
            totals[name] = max(totals.get(name, 0.0), int(match.group(1)) / 1000)
    return sorted(totals.items(), key=lambda item: -item[1])[:count]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="pysnac-footprint-") as tmp:
        root = Path(tmp)
        specs = {name: make_phone_folder(root, name) for name in ("alice", "bob")}
        clips = {"alice": ALICE_CLIP, "bob": BOB_CLIP}
        for name, spec in specs.items():
            others = [other for other in specs.values() if other is not spec]
            write_config(
                spec, others, audio="wav", input_wav=clips[name], output_wav=root / f"{name}.wav"
            )
        env = {"PYTHONPROFILEIMPORTTIME": "1"}
        phones = {name: PhoneProcess(spec, extra_env=env) for name, spec in specs.items()}
        try:
            for phone in phones.values():
                phone.wait_ready(START_S)
            idle = {name: status_mib(p.process.pid, "VmRSS") for name, p in phones.items()}
            connect(phones["alice"], phones["bob"], STEP_S)
            threading.Event().wait(TALK_S)
            talking = {name: status_mib(p.process.pid, "VmRSS") for name, p in phones.items()}
            peak = {name: status_mib(p.process.pid, "VmHWM") for name, p in phones.items()}
        finally:
            for phone in phones.values():
                phone.quit()
        for name, spec in specs.items():
            stderr = (spec.folder / STDERR_NAME).read_text(encoding="utf-8")
            modules = sum(1 for line in stderr.splitlines() if IMPORT_LINE.match(line))
            heavy = ", ".join(f"{pkg} {ms:.0f} ms" for pkg, ms in heaviest_imports(stderr))
            print(
                f"{name}: RSS idle {idle[name]:.1f} MiB, in a call {talking[name]:.1f} MiB, "
                f"peak {peak[name]:.1f} MiB (target <= 60); {modules} modules imported"
            )
            print(f"  slowest imports: {heavy}")
            scipy = "scipy" in {
                m.group(2).split(".")[0]
                for line in stderr.splitlines()
                if (m := IMPORT_LINE.match(line))
            }
            print(f"  scipy imported: {scipy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
