"""`main.py demo --interactive`: the two phones on terminal LCDs side by side, in tmux.

The session is the demo's own (`pysnac-demo-PID`): no session of the user's is ever
killed or reused. Outside tmux the demo attaches to it; inside tmux it switches the
client to it (and back when it ends) instead of nesting. When the session ends (both
phones quit) or the user detaches, the session is killed, the phone processes are
waited for, and the temporary folder with their identity keys is deleted: nothing is
left behind. Without tmux or a terminal it prints the two commands to run by hand and
keeps that folder, saying where it is.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo.phones import REPO
from demo.run import ALICE_CLIP, DEFAULT_OUT, check_clip, prepare
from pysnac.errors import UsageError

SESSION_PREFIX = "pysnac-demo-"
SESSION_POLL_S = 0.5  # how often the demo looks whether its session still exists
PHONE_EXIT_S = 10.0  # phones stop cleanly on SIGHUP within this; then they are killed
TMUX_TIMEOUT_S = 10.0


def phone_commands(root: Path, out: Path, clip: Path) -> list[str]:
    alice, bob = prepare(root, out, clip)
    return [
        f"{shlex.quote(sys.executable)} {shlex.quote(str(REPO / 'main.py'))} "
        f"--config {shlex.quote(str(spec.folder / 'config.toml'))} run --lcd terminal"
        for spec in (alice, bob)
    ]


def run_interactive(clip: Path = ALICE_CLIP, out: Path = DEFAULT_OUT) -> int:
    """Two terminal LCDs side by side in tmux; without tmux or a terminal, say how."""
    check_clip(clip)
    tmux = shutil.which("tmux")
    if tmux is None or not sys.stdin.isatty():
        root = Path(tempfile.mkdtemp(prefix="pysnac-demo-"))
        why = "tmux is not installed" if tmux is None else "this is not a terminal"
        print(f"{why}: run these two commands in two terminals side by side:")
        for command in phone_commands(root, out, clip):
            print(f"  {command}")
        print("Arrows and Enter are the buttons; q quits. alice: Enter calls bob.")
        print(f"Their keys and configs are in {root}; delete it when you are done.")
        return 0
    session = TmuxSession(tmux, f"{SESSION_PREFIX}{os.getpid()}")
    for signum in (signal.SIGHUP, signal.SIGTERM):  # our terminal closed, or killed: clean up
        signal.signal(signum, lambda number, _frame: sys.exit(128 + number))
    with tempfile.TemporaryDirectory(prefix="pysnac-demo-") as folder:
        commands = phone_commands(Path(folder), out, clip)
        try:
            session.create(commands)
            session.show()
        except subprocess.CalledProcessError as exc:
            raise UsageError(f"tmux {exc.cmd[1]} failed: {exc.stderr.strip()}") from exc
        finally:
            session.end()
    print(f"recordings (if a call was made): {out}/alice_heard.wav, {out}/bob_heard.wav")
    return 0


class TmuxSession:
    """One tmux session the demo made, and the phone processes in its two panes."""

    def __init__(self, tmux: str, name: str) -> None:
        self.tmux, self.name = tmux, name
        self.pids: list[int] = []

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tmux, *args], capture_output=True, text=True, check=check, timeout=TMUX_TIMEOUT_S
        )

    def exists(self) -> bool:
        return self._run("has-session", "-t", f"={self.name}", check=False).returncode == 0

    def create(self, commands: list[str]) -> None:
        if self.exists():  # our pid's name: a stale session of ours, never the user's
            raise RuntimeError(f"tmux session {self.name} exists already")
        self._run("new-session", "-d", "-s", self.name, "-x", "160", "-y", "30", commands[0])
        self._run("split-window", "-h", "-t", f"={self.name}:", commands[1])
        self._run("set-option", "-t", self.name, "detach-on-destroy", "off")
        panes = self._run("list-panes", "-s", "-t", f"={self.name}", "-F", "#{pane_pid}").stdout
        self.pids = [int(pid) for pid in panes.split()]

    def show(self) -> None:
        """Until the session ends or the user leaves it."""
        if os.environ.get("TMUX"):  # inside tmux: switch to it, never nest
            switched = self._run("switch-client", "-t", f"={self.name}", check=False)
            if switched.returncode != 0:
                print(f"pysnac: attach with: tmux attach -t {self.name}", file=sys.stderr)
            while self.exists():
                time.sleep(SESSION_POLL_S)
        else:
            subprocess.run([self.tmux, "attach", "-t", f"={self.name}"])

    def end(self) -> None:
        """Kill the session (the phones get SIGHUP and stop), wait for them, kill stragglers."""
        if self.exists():
            self._run("kill-session", "-t", f"={self.name}", check=False)
        deadline = time.monotonic() + PHONE_EXIT_S
        while time.monotonic() < deadline and any(_alive(pid) for pid in self.pids):
            time.sleep(SESSION_POLL_S / 5)
        for pid in self.pids:
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)


def _alive(pid: int) -> bool:
    """Running (a zombie its parent, the tmux server, has not reaped yet is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
