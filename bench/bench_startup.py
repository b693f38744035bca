"""Start-up to the Idle screen, cold: `main.py run` as the service starts it, timed from the
process start to its READY=1 (sent once the Idle screen is drawn) on a notify socket, as
systemd would receive it. The LCD is `headless` (no plate needed) and the config's own
sound and rendezvous settings are kept. Prints the median and the range of `--runs` runs.

    python3 bench/bench_startup.py [--config FILE] [--runs N] [--json]

Without `--config`, a throwaway config (silence audio, LAN rendezvous) is written. The
identity key and state go to `$PYSNAC_STATE_DIR` (a fresh temporary folder by default).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 300.0  # a cold start under qemu arm64 takes tens of seconds
STOP_TIMEOUT_S = 30.0
RUNS = 3
THROWAWAY_CONFIG = """\
[device]
name = "bench"
[network]
bind = "127.0.0.1"
udp_port = 0
[audio]
driver = "silence"
[lcd]
driver = "headless"
"""


def start_once(config: Path, state_dir: Path, folder: Path) -> float:
    """Seconds from spawning `main.py run` to its READY=1."""
    sock_path = folder / f"notify-{time.monotonic_ns()}.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(READY_TIMEOUT_S)
        env = dict(os.environ, NOTIFY_SOCKET=str(sock_path), PYSNAC_STATE_DIR=str(state_dir))
        command = [sys.executable, str(REPO / "main.py"), "--config", str(config)]
        started = time.monotonic()
        proc = subprocess.Popen(
            [*command, "run", "--lcd", "headless"], env=env, stdout=subprocess.DEVNULL
        )
        try:
            while True:
                message = sock.recv(4096).decode()
                if "READY=1" in message.split("\n"):
                    return time.monotonic() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(STOP_TIMEOUT_S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="the phone's config (default: a throwaway)")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pysnac-startup-") as tmp:
        folder = Path(tmp)
        config = args.config
        if config is None:
            config = folder / "config.toml"
            config.write_text(THROWAWAY_CONFIG, encoding="utf-8")
        state_dir = Path(os.environ.get("PYSNAC_STATE_DIR") or folder / "state")
        state_dir.mkdir(parents=True, exist_ok=True)
        times = [start_once(config, state_dir, folder) for _ in range(args.runs)]
    result = {
        "startup_to_idle_s_median": round(statistics.median(times), 3),
        "startup_to_idle_s_min": round(min(times), 3),
        "startup_to_idle_s_max": round(max(times), 3),
        "runs": len(times),
        "machine": os.uname().machine,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"start-up to the Idle screen ({result['machine']}, {len(times)} runs, first is "
            f"cold): median {result['startup_to_idle_s_median']} s, "
            f"range {result['startup_to_idle_s_min']}-{result['startup_to_idle_s_max']} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
