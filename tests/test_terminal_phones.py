"""Two phones on terminal LCDs in a real terminal (tmux), driven as a person would: keys
in, screens captured. Alice calls bob (who has not pinned her), bob's phone rings (the
ring reaches his speaker: the wav driver's recording), bob answers, alice hangs up, alice
renames herself and bob's screen shows the new name on her next call, and alice calls bob
back from her recent calls. Quitting during a call asks first.

The tmux server is private to this test (`-L` socket named by pid), so no session of the
user's is ever seen or touched; the finally-block kills that server and so every phone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from demo.phones import make_phone_folder, write_config
from demo.run import ALICE_CLIP, BOB_CLIP
from tests.conftest import REPO
from tests.test_ringing import peak_frequencies

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

SCREEN_TIMEOUT_S = 20.0
POLL_S = 0.05  # how often the terminal is read while waiting for a screen
BORDER = "\u2503"  # the LCD widget's frame


class Terminal:
    """A private tmux server with one session per phone."""

    def __init__(self) -> None:
        self.socket = f"pysnac-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def open(self, name: str, command: list[str]) -> None:
        """A session per phone, sized once: the phone never sees its terminal resized."""
        # LINES/COLUMNS inherited from the test process would override the real size
        shell = "env -u LINES -u COLUMNS " + " ".join(f"'{part}'" for part in command)
        self.tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "20", shell)
        self.tmux("set-option", "-t", name, "remain-on-exit", "on")  # show why it ended

    def keys(self, name: str, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", f"{name}:0", key)

    def lcd(self, name: str) -> tuple[str, str]:
        """The two LCD lines the window shows now."""
        text = self.tmux("capture-pane", "-p", "-t", f"{name}:0")
        rows = [row.split(BORDER)[1] for row in text.splitlines() if row.count(BORDER) == 2]
        return (rows[0].strip(), rows[1].strip()) if len(rows) == 2 else ("", "")

    def text(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", f"{name}:0")

    def wait(
        self, name: str, test: Callable[[tuple[str, str]], bool], what: str
    ) -> tuple[str, str]:
        """Until the screen passes `test` (a person looking at it), or fail naming it."""
        deadline = time.monotonic() + SCREEN_TIMEOUT_S
        while time.monotonic() < deadline:
            lines = self.lcd(name)
            if test(lines):
                return lines
            time.sleep(POLL_S)
        raise AssertionError(f"{name} never showed {what}; terminal:\n{self.text(name)}")

    def running(self, name: str) -> bool:
        """Whether the phone's process is still alive (its pane not dead)."""
        return self.tmux("display-message", "-p", "-t", f"{name}:0", "#{pane_dead}").strip() == "0"

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def phones(tmp_path: Path):
    alice, bob = make_phone_folder(tmp_path, "alice"), make_phone_folder(tmp_path, "bob")
    write_config(alice, [bob], input_wav=ALICE_CLIP, output_wav=tmp_path / "alice_heard.wav")
    write_config(bob, [], input_wav=BOB_CLIP, output_wav=tmp_path / "bob_heard.wav")
    terminal = Terminal()
    try:
        for spec in (alice, bob):
            config = spec.folder / "config.toml"
            terminal.open(
                spec.name,
                [
                    sys.executable,
                    str(REPO / "main.py"),
                    "run",
                    "--lcd",
                    "terminal",
                    "--config",
                    str(config),
                ],
            )
        terminal.wait("alice", lambda s: s[0].endswith("bob") and "Sel:call" in s[1], "home")
        terminal.wait("bob", lambda s: s[0].startswith("No contact"), "home")
        yield terminal, tmp_path
    finally:
        terminal.close()


def call_first_contact(terminal: Terminal, name: str) -> None:
    terminal.keys(name, "Enter")
    lines = terminal.wait(
        name,
        lambda s: "Calling" in s[1] or "Ringing" in s[1] or s[0].startswith("bob"),
        "its contacts",
    )
    if lines[0].startswith("bob") and "Calling" not in lines[1] and "Ringing" not in lines[1]:
        terminal.keys(name, "Enter")  # the contacts list: Select calls the one shown
    terminal.wait(name, lambda s: "Calling" in s[1] or "Ringing" in s[1], "dialing")


def open_menu_item(terminal: Terminal, name: str, item: str) -> None:
    terminal.keys(name, "Right")
    terminal.wait(name, lambda s: s[0].startswith("Menu"), "the menu")
    for _ in range(8):
        if item in terminal.lcd(name)[1]:
            break
        terminal.keys(name, "Down")
        time.sleep(POLL_S)  # the screen follows the key asynchronously
        terminal.wait(name, lambda s: s[0].startswith("Menu"), "the menu")
    terminal.wait(name, lambda s: item in s[1], item)
    terminal.keys(name, "Enter")


def ring_recording(folder: Path) -> np.ndarray:
    with wave.open(str(folder / "bob_heard-tones.wav")) as recording:
        return np.frombuffer(recording.readframes(recording.getnframes()), "<i2").astype(float)


def test_two_terminal_phones_call_ring_rename_and_call_back(phones) -> None:
    terminal, folder = phones
    # Alice calls bob; bob rings, with alice's name marked as not pinned, and hears it.
    call_first_contact(terminal, "alice")
    ringing = terminal.wait("bob", lambda s: "alice" in s[0], "alice calling")
    assert "?" in ringing[0]  # bob has not pinned alice
    tones = folder / "bob_heard-tones.wav"
    deadline = time.monotonic() + SCREEN_TIMEOUT_S
    while time.monotonic() < deadline and (not tones.exists() or tones.stat().st_size < 48000):
        time.sleep(POLL_S)  # half a second of ring reached bob's speaker
    terminal.keys("bob", "Enter")  # answer: the ring stops and its recording is closed
    terminal.wait("bob", lambda s: "alice" in s[0] and ":" in s[0], "the call")
    terminal.wait("alice", lambda s: "bob" in s[0] and ":" in s[0], "the call")
    ring = ring_recording(folder)
    assert len(ring) >= 24000
    assert peak_frequencies(ring[:19200], 2) == pytest.approx([400.0, 450.0], abs=5)
    # Quitting during the call asks first; any other key stays.
    terminal.keys("alice", "q")
    deadline = time.monotonic() + SCREEN_TIMEOUT_S
    while "In a call" not in terminal.text("alice") and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert "In a call" in terminal.text("alice")
    terminal.keys("alice", "Down")  # volume down: stays, and the question goes
    # Alice hangs up; bob sees the call end.
    terminal.keys("alice", "Enter")
    terminal.wait("bob", lambda s: "ended" in s[0].lower() or "Hung" in s[0], "the call ended")
    assert terminal.running("alice")
    # Alice renames herself (This device > rename: first letter up one, save).
    terminal.wait("alice", lambda s: "Sel:call" in s[1], "home")
    open_menu_item(terminal, "alice", "This device")
    terminal.wait("alice", lambda s: s[0].startswith("alice"), "This device")
    terminal.keys("alice", "Right")
    terminal.wait("alice", lambda s: s[1].startswith("^"), "the name editor")
    terminal.keys("alice", "Up")
    terminal.wait("alice", lambda s: s[0].startswith("blice"), "the edited name")
    terminal.keys("alice", "Enter")
    saved = terminal.wait(
        "alice", lambda s: s[0].startswith("blice") and "^" not in s[1], "This device again"
    )
    assert "Not saved" not in saved[1]
    assert 'name = "blice"' in (folder / "alice" / "config.toml").read_text()
    # Back home, alice calls back from her recent calls; bob sees the new name.
    terminal.keys("alice", "Left", "Left")
    terminal.wait("alice", lambda s: "Sel:call" in s[1], "home")
    open_menu_item(terminal, "alice", "Recent calls")
    recent = terminal.wait("alice", lambda s: s[0].startswith(">bob"), "the call to bob")
    assert time.strftime("%d %b") in recent[1]  # today's date and the time
    terminal.keys("alice", "Enter")  # Select calls back
    terminal.wait("alice", lambda s: "Calling" in s[1] or "Ringing" in s[1], "calling back")
    terminal.wait("bob", lambda s: "blice" in s[0], "the renamed caller")
    terminal.keys("bob", "Left")  # reject
    terminal.wait("alice", lambda s: "Rejected" in s[0], "the rejection")
    # Not in a call: q quits at once, and the phone process ends.
    terminal.keys("bob", "q")
    deadline = time.monotonic() + SCREEN_TIMEOUT_S
    while terminal.running("bob") and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert not terminal.running("bob")
