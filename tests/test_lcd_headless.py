"""The headless twin's stdio mode (how `make demo` drives phone processes): screens out as
JSON lines, button names in, one per line; `quit` or end of input stops."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading

from drivers.lcd.headless import HeadlessLcd
from pysnac.screen import GLYPH_PHONE, Button
from tests.conftest import REPO


def test_stdio_mode_emits_screens_and_reads_buttons() -> None:
    out = io.StringIO()
    lcd = HeadlessLcd(
        stdio=True, stdin=io.StringIO("select\n\nUP\nbogus\nquit\nleft\n"), stdout=out
    )
    got: list[Button] = []
    lcd.attach(got.append)
    lcd.show((GLYPH_PHONE + "alice", "hi"))
    lcd.show((GLYPH_PHONE + "alice", "hi"))  # unchanged: not repeated
    stop = threading.Event()
    lcd.serve(stop)  # returns once `quit` is read
    assert stop.is_set()
    assert got == [Button.SELECT, Button.UP]  # nothing after quit
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[0] == {"type": "screen", "lines": ["\u260ealice          ", "hi              "]}
    assert records[1]["type"] == "error" and "bogus" in records[1]["message"]
    assert len(records) == 2
    assert lcd.screens == [("\x01alice          ", "hi              ")]


def test_end_of_input_stops() -> None:
    lcd = HeadlessLcd(stdio=True, stdin=io.StringIO("down\n"), stdout=io.StringIO())
    stop = threading.Event()
    lcd.serve(stop)
    assert stop.is_set()


def test_phone_process_over_stdio(tmp_path) -> None:
    """`main.py run --lcd stdio`: ready, screens and state changes as JSON lines."""
    config = tmp_path / "config.toml"
    key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    config.write_text(
        f'[device]\nname = "alice"\n[network]\nudp_port = 0\n[rendezvous]\nbackends = ["static"]\n'
        f'[[contacts]]\nname = "bob"\npublic_key = "{key}"\n'
    )
    process = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "--config", str(config), "run", "--lcd", "stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("select\n")  # the home screen is the dial: one press calls
    process.stdin.flush()
    lines = []
    for line in process.stdout:  # bounded by pytest's timeout if the phone hangs
        lines.append(line)
        if '"state": "hangup"' in line:
            break
    process.stdin.write("quit\n")
    process.stdin.close()
    # Read on with the same buffered reader: communicate() would skip what it buffered.
    lines.extend(process.stdout)
    assert process.wait(timeout=30) == 0, process.stderr.read()
    records = [json.loads(line) for line in lines]
    assert records[0]["type"] == "ready" and records[0]["device"] == "alice"
    states = [(r["from"], r["state"]) for r in records if r["type"] == "state"]
    # bob has no address (and there is no rendezvous here): the call fails as UNREACHABLE.
    assert states[:2] == [("idle", "dialing"), ("dialing", "hangup")]
    hangup = next(r for r in records if r["type"] == "state" and r["state"] == "hangup")
    assert hangup["peer"] == "bob" and hangup["reason"]
    screens = [r["lines"] for r in records if r["type"] == "screen"]
    # quit is the table's shut_down: the last screen says so, after the hang-up screen
    assert screens[-1][0].rstrip() == "Shutting down"
    assert screens[-2][0].rstrip() == hangup["reason"]
