"""`main.py demo --interactive` inside tmux: its own session (never one it did not make),
and nothing left behind when the phones quit or the session is closed (processes,
sessions, the folder with their keys). Runs on a private tmux server (`-L`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

WAIT_S = 30.0
POLL_S = 0.05


class Server:
    def __init__(self) -> None:
        self.socket = f"pysnac-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        assert result.returncode == 0 or not check, result.stderr
        return result.stdout

    def sessions(self) -> list[str]:
        return self.tmux("list-sessions", "-F", "#{session_name}", check=False).split()

    def wait(self, condition, what: str):
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(POLL_S)
        raise AssertionError(f"never: {what}; sessions {self.sessions()}")


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie the tmux server has yet to reap."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


@pytest.mark.parametrize("ending", ["phones quit", "session closed"])
def test_interactive_demo_inside_tmux_leaves_nothing_behind(tmp_path: Path, ending: str) -> None:
    server = Server()
    try:
        for decoy in ("pysnac-demo", "pysnac-demo-1"):  # a user's sessions with similar names
            server.tmux("new-session", "-d", "-s", decoy, "sleep 600")
        demo = (
            f"env -u LINES -u COLUMNS {sys.executable} {REPO / 'main.py'} demo --interactive "
            f"--out {tmp_path / 'out'}; echo $? > {tmp_path / 'status'}"
        )
        server.tmux("new-session", "-d", "-s", "outer", "-x", "200", "-y", "40", demo)
        server.tmux("set-option", "-t", "outer", "remain-on-exit", "on")
        name = server.wait(
            lambda: next(
                (s for s in server.sessions() if s.startswith("pysnac-demo-") and s[12:] != "1"),
                None,
            ),
            "the demo's session",
        )

        def two_panes() -> list[int]:
            listed = server.tmux("list-panes", "-s", "-t", f"={name}", "-F", "#{pane_pid}")
            return [int(pid) for pid in listed.split()] if len(listed.split()) == 2 else []

        pids = server.wait(two_panes, "both phones started")

        def phone_configs() -> list[Path]:
            """The --config of each pane's command (its shell, or the phone it became)."""
            lines = [
                Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                for pid in pids
            ]
            found = [Path(m) for text in lines for m in re.findall(r"(\S+config\.toml)", text)]
            return found if len(found) == 2 else []

        configs = server.wait(phone_configs, "both phones' command lines")
        keys_folder = configs[0].parent.parent
        assert (configs[0].parent / "identity.key").exists()
        for pane in ("0", "1"):
            server.wait(
                lambda p=pane: "Sel:" in server.tmux("capture-pane", "-p", "-t", f"={name}:0.{p}"),
                "a phone's home screen",
            )
        if ending == "phones quit":
            for pane in ("0", "1"):
                server.tmux("send-keys", "-t", f"={name}:0.{pane}", "q")
        else:
            server.tmux("kill-session", "-t", name)
        status = tmp_path / "status"
        server.wait(lambda: status.exists() and status.read_text().strip(), "the demo ending")
        assert status.read_text().strip() == "0", server.tmux("capture-pane", "-p", "-t", "outer")
        assert not any(alive(pid) for pid in pids)
        assert not keys_folder.exists()
        assert sorted(s for s in server.sessions() if s != "outer") == [
            "pysnac-demo",
            "pysnac-demo-1",
        ]
    finally:
        subprocess.run(["tmux", "-L", server.socket, "kill-server"], capture_output=True)
