"""A phone's footprint: two phone processes, started as the demo starts them, make a call
with WAV audio, and neither imports scipy or any other heavy package the phone does not
use. Every import, lazy ones included, is read from `python -X importtime` output
(PYTHONPROFILEIMPORTTIME) on the phone's stderr."""

from __future__ import annotations

import re
from pathlib import Path

from demo.phones import STDERR_NAME, PhoneProcess, connect, make_phone_folder, write_config
from demo.run import ALICE_CLIP, BOB_CLIP

START_S = 60.0
STEP_S = 10.0
# Packages that belong to the demo, tests, bench or other drivers, never to a phone in a call.
NOT_ON_THE_PHONES_PATH = {
    "scipy",
    "matplotlib",
    "pesq",
    "pandas",
    "textual",
    "pyrebase",
    "zeroconf",
    "Adafruit_CharLCD",
    "pytest",
    "hypothesis",
}
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$")


def imported_packages(stderr: str) -> set[str]:
    return {
        match.group(1).split(".")[0]
        for line in stderr.splitlines()
        if (match := IMPORT_LINE.match(line))
    }


def test_a_phone_in_a_call_imports_nothing_heavy(tmp_path: Path) -> None:
    specs = {name: make_phone_folder(tmp_path, name) for name in ("alice", "bob")}
    clips = {"alice": ALICE_CLIP, "bob": BOB_CLIP}
    for name, spec in specs.items():
        others = [other for other in specs.values() if other is not spec]
        write_config(
            spec, others, audio="wav", input_wav=clips[name], output_wav=tmp_path / f"{name}.wav"
        )
    env = {"PYTHONPROFILEIMPORTTIME": "1"}
    phones = {name: PhoneProcess(spec, extra_env=env) for name, spec in specs.items()}
    try:
        for phone in phones.values():
            phone.wait_ready(START_S)
        connect(phones["alice"], phones["bob"], STEP_S)
        mark = phones["alice"].mark
        phones["alice"].press("select")  # hang up: the call's media ran from answer to here
        phones["alice"].wait_state("idle", STEP_S, mark)
    finally:
        codes = [phone.quit() for phone in phones.values()]
    assert codes == [0, 0]
    for name, spec in specs.items():
        stderr = (spec.folder / STDERR_NAME).read_text(encoding="utf-8")
        packages = imported_packages(stderr)
        assert {"opuslib", "nacl", "numpy", "transitions"} <= packages, name  # it did run
        assert packages.isdisjoint(NOT_ON_THE_PHONES_PATH), (name, packages)
