"""A phone's memory in a call: resident set (now and peak) of each of two phone processes
started as the demo starts them, read from /proc while they talk for TALK_S, and the
packages each imported (from `python -X importtime`). Twice: with the WAV driver, and with
PyAudio through a sound server (the demo's `--real-audio` rig; skipped if none can start).
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
from demo.sound import real_audio
from pysnac.errors import PysnacError

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


def measure(sound) -> None:
    """One call between two phone processes; `sound`: the rig for PyAudio, or None (WAV)."""
    with tempfile.TemporaryDirectory(prefix="pysnac-footprint-") as tmp:
        root = Path(tmp)
        specs = {name: make_phone_folder(root, name) for name in ("alice", "bob")}
        clips = {"alice": ALICE_CLIP, "bob": BOB_CLIP}
        for name, spec in specs.items():
            others = [other for other in specs.values() if other is not spec]
            if sound is None:
                out = root / f"{name}.wav"
                write_config(spec, others, audio="wav", input_wav=clips[name], output_wav=out)
            else:
                write_config(spec, others, audio="pyaudio")
        env = {name: {"PYTHONPROFILEIMPORTTIME": "1"} for name in specs}
        if sound is not None:
            env = {name: {**env[name], **sound.env_for(name)} for name in specs}
        phones = {name: PhoneProcess(spec, extra_env=env[name]) for name, spec in specs.items()}
        stop_talking = None
        try:
            for phone in phones.values():
                phone.wait_ready(START_S)
            idle = {name: status_mib(p.process.pid, "VmRSS") for name, p in phones.items()}
            connect(phones["alice"], phones["bob"], STEP_S)
            if sound is not None:
                stop_talking = sound.talk(clips, root)
            threading.Event().wait(TALK_S)
            talking = {name: status_mib(p.process.pid, "VmRSS") for name, p in phones.items()}
            peak = {name: status_mib(p.process.pid, "VmHWM") for name, p in phones.items()}
        finally:
            if stop_talking is not None:
                stop_talking()
            for phone in phones.values():
                phone.quit()
        for name, spec in specs.items():
            stderr = (spec.folder / STDERR_NAME).read_text(encoding="utf-8")
            packages = {
                m.group(2).split(".")[0]
                for line in stderr.splitlines()
                if (m := IMPORT_LINE.match(line))
            }
            heavy = ", ".join(f"{pkg} {ms:.0f} ms" for pkg, ms in heaviest_imports(stderr))
            print(
                f"{name}: RSS idle {idle[name]:.1f} MiB, in a call {talking[name]:.1f} MiB, "
                f"peak {peak[name]:.1f} MiB (target <= 60); {len(packages)} top-level "
                f"packages imported, scipy among them: {'scipy' in packages}"
            )
            print(f"  slowest imports: {heavy}")


def main() -> int:
    print("WAV driver (the demo's default path):")
    measure(None)
    try:
        with real_audio(True, lambda line: print(line)) as sound:
            print("PyAudio through a sound server:")
            measure(sound)
    except PysnacError as exc:
        print(f"PyAudio through a sound server: skipped ({exc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
