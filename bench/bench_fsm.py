"""The appliance's two measured numbers:

1. Start-up to the Idle screen: `main.py --config X run --lcd stdio` from process spawn
   to the first screen on stdout (target < 1.5 s; real drivers' imports are deferred).
2. Event latency, button press -> new screen on the LCD, through the real state-machine
   thread, machine and screens (target p99 < 5 ms).

Prints numbers; asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STARTUP_RUNS = 5
LATENCY_PRESSES = 2000
WAIT_S = 5.0
KEYS = [
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
    "AgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICE=",
]
CONFIG = (
    '[device]\nname = "alice"\n[network]\nudp_port = 0\n[lcd]\ndriver = "headless"\n'
    '[rendezvous]\nbackends = ["static"]\n'  # never mDNS on the host's network
    + "".join(f'[[contacts]]\nname = "c{i}"\npublic_key = "{key}"\n' for i, key in enumerate(KEYS))
)


def startup_once(config: Path) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "--config", str(config), "run", "--lcd", "stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None and process.stdin is not None
    elapsed = float("nan")
    for line in process.stdout:
        if '"type": "screen"' in line:
            elapsed = time.perf_counter() - start
            break
    process.stdin.write("quit\n")
    process.stdin.close()
    process.wait(timeout=30)
    return elapsed


def bench_startup(folder: Path) -> None:
    config = folder / "config.toml"
    config.write_text(CONFIG)
    first = startup_once(config)  # creates the identity key
    runs = sorted(startup_once(config) for _ in range(STARTUP_RUNS))
    print(f"startup to Idle screen, first run (creates key): {first * 1000:.0f} ms")
    median_ms = statistics.median(runs) * 1000
    print(
        f"startup to Idle screen, {STARTUP_RUNS} runs: median {median_ms:.0f} ms,"
        f" max {runs[-1] * 1000:.0f} ms (target < 1500 ms)"
    )


def bench_latency(folder: Path) -> None:
    from drivers.lcd.headless import HeadlessLcd
    from pysnac.config import load_config
    from pysnac.runtime.app import NullCallService, build_phone
    from pysnac.screen import GLYPH_PHONE, Button

    class TimedLcd(HeadlessLcd):
        def __init__(self) -> None:
            super().__init__()
            self.shown = threading.Event()
            self.shown_at = 0.0

        def show(self, lines: tuple[str, str]) -> None:
            before = self.lines
            super().show(lines)
            if self.lines != before:
                self.shown_at = time.perf_counter()
                self.shown.set()

    config_path = folder / "config.toml"
    config_path.write_text(CONFIG)
    lcd = TimedLcd()
    phone = build_phone(
        load_config(config_path),
        lcd=lcd,
        call_service_factory=NullCallService,
        fingerprint="F3KQ-9XMA-7TRE",
    )
    phone.start()
    assert lcd.wait_for(lambda lines: lines[0].startswith(GLYPH_PHONE + "c0"), WAIT_S)
    # Up/Down on the home screen step through the contacts: each press changes the screen
    samples = []
    for index in range(LATENCY_PRESSES):
        lcd.shown.clear()
        start = time.perf_counter()
        lcd.press(Button.DOWN if index % 2 == 0 else Button.UP)
        if not lcd.shown.wait(WAIT_S):
            raise RuntimeError("no new screen")
        samples.append(lcd.shown_at - start)
    phone.stop()
    samples.sort()
    p50 = samples[len(samples) // 2] * 1000
    p99 = samples[int(len(samples) * 0.99)] * 1000
    print(
        f"button -> new screen, {LATENCY_PRESSES} presses: p50 {p50:.3f} ms, p99 {p99:.3f} ms,"
        f" max {samples[-1] * 1000:.3f} ms (target p99 < 5 ms)"
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        bench_startup(Path(folder))
    with tempfile.TemporaryDirectory() as folder:
        bench_latency(Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
