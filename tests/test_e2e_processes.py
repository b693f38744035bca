"""End to end with real phone processes: `main.py run --lcd stdio` on loopback UDP.

The phones are driven exactly as a person would drive them (button names on stdin) and
checked by what their LCDs show (JSON lines on stdout). One set of phones serves the
module (starting a phone costs a second or two); each test starts and ends with every
phone on its home screen. `make demo` itself runs as the first test.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.phones import DemoError, PhoneProcess, make_phone_folder, write_config
from demo.run import run_demo
from pysnac.call.limits import PEER_LOST_MIN_S

PEER_LOST_S = PEER_LOST_MIN_S  # a crashed peer is noticed in seconds, not the default 30

START_S = 60.0
STEP_S = 10.0


def test_make_demo_call(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_demo(out=tmp_path, talk_s=3.0, echo=lines.append)
    assert result.sas_match
    assert any("Ringing" in line for line in lines) and any("Code " in line for line in lines)
    to_bob, to_alice = result.directions
    assert to_bob.frames_received >= 140 and to_alice.frames_received >= 140
    assert to_bob.pesq >= 3.5 and not math.isnan(to_alice.pesq)
    assert result.ring_ms < 1000.0
    assert (tmp_path / "bob_heard.wav").stat().st_size > 100_000
    # Both phones' threads are paced by their devices: at least one wake-up per 20 ms frame
    # (capture alone), and nowhere near a busy loop's thousands (the hobby design's).
    for name in ("alice", "bob"):
        assert 0.0 < result.cpu_percent[name] < 50.0, result.cpu_percent
        assert 50.0 <= result.wakeups_per_s[name] <= 1000.0, result.wakeups_per_s


class Phones:
    def __init__(self, root: Path) -> None:
        self.specs = {name: make_phone_folder(root, name) for name in ("alice", "bob", "carol")}
        self.specs["dave"] = make_phone_folder(root, "dave")
        mallory = make_phone_folder(root / "elsewhere", "mallory").public_key
        for name, spec in self.specs.items():
            peers = [other for other in self.specs.values() if other is not spec]
            pinned = {"dave": mallory} if name == "alice" else None
            write_config(spec, peers, audio="silence", pinned_keys=pinned, peer_lost_s=PEER_LOST_S)
        self.running: dict[str, PhoneProcess] = {}
        for name in self.specs:
            self.start(name)
        for phone in self.running.values():
            phone.wait_ready(START_S)

    def start(self, name: str) -> PhoneProcess:
        phone = PhoneProcess(self.specs[name])
        self.running[name] = phone
        return phone

    def __getitem__(self, name: str) -> PhoneProcess:
        return self.running[name]

    def dial(self, caller: str, callee: str) -> int:
        """Call `callee` from `caller`'s home screen (the dial); returns the callee's mark."""
        phone = self[caller]
        changes = [i for i, (_, r) in enumerate(phone.records) if r.get("type") == "state"]
        _, _, home = phone.wait_for(  # the first screen drawn since the last state change
            lambda r: r.get("type") == "screen", STEP_S, changes[-1] if changes else 0
        )
        shown = home["lines"]
        for _ in range(len(self.specs)):  # step to callee in place
            if shown[0].startswith("\u260e" + callee + " "):
                break
            start = phone.mark
            phone.press("down")
            _, _, record = phone.wait_for(lambda r: r.get("type") == "screen", STEP_S, start)
            shown = record["lines"]
        mark = self[callee].mark
        start = phone.mark
        phone.press("select")
        phone.wait_state("dialing", STEP_S, start)
        return mark

    def answer(self, caller: str, callee: str) -> None:
        caller_mark = self[caller].mark
        mark = self.dial(caller, callee)
        self[callee].wait_state("ringing", STEP_S, mark)
        self[callee].press("select")
        self[caller].wait_state("in_call", STEP_S, caller_mark)
        self[callee].wait_state("in_call", STEP_S, mark)

    def hung_up(self, name: str, start: int, reason: str, timeout: float = STEP_S) -> None:
        """`name` shows the hang-up screen with `reason`, then goes home."""
        phone = self[name]
        try:
            index, _, _ = phone.wait_for(
                lambda r: r.get("type") == "screen" and r["lines"][0].startswith(reason),
                timeout,
                start,
                what=f"{reason!r}",
            )
        except DemoError as exc:
            seen = [r for _, r in phone.records[max(0, start - 4) :]]
            raise AssertionError(f"{exc}; records since: {seen}; {phone.stderr_tail()}") from exc
        phone.press("select")
        phone.wait_state("idle", STEP_S, index)

    def close(self) -> None:
        for phone in self.running.values():
            phone.quit()


@pytest.fixture(scope="module")
def phones(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phones]:
    phones = Phones(tmp_path_factory.mktemp("phones"))
    yield phones
    phones.close()


def marks(phones: Phones, *names: str) -> dict[str, int]:
    return {name: phones[name].mark for name in names}


def test_callee_hangs_up(phones: Phones) -> None:
    phones.answer("alice", "bob")
    start = marks(phones, "alice", "bob")
    phones["bob"].press("select")
    phones.hung_up("bob", start["bob"], "Hung up")
    phones.hung_up("alice", start["alice"], "Call ended")


def test_callee_rejects(phones: Phones) -> None:
    start = marks(phones, "alice", "bob")
    mark = phones.dial("alice", "bob")
    phones["bob"].wait_state("ringing", STEP_S, mark)
    phones["bob"].press("left")
    phones.hung_up("alice", start["alice"], "Rejected")
    phones["bob"].wait_state("idle", STEP_S, start["bob"])  # the callee goes straight home


def test_busy(phones: Phones) -> None:
    phones.answer("alice", "bob")
    start = marks(phones, "alice", "bob", "carol")
    phones.dial("carol", "bob")
    phones.hung_up("carol", start["carol"], "Busy")
    assert phones["bob"].states()[-1] == "in_call"
    phones["alice"].press("select")
    phones.hung_up("alice", start["alice"], "Hung up")
    phones.hung_up("bob", start["bob"], "Call ended")


def test_man_in_the_middle_is_refused(phones: Phones) -> None:
    """alice pinned another key for dave than the one dave's phone holds."""
    start = marks(phones, "alice", "dave")
    phones.dial("alice", "dave")
    phones.hung_up("alice", start["alice"], "Wrong peer key")
    assert "ringing" not in phones["dave"].states()


def test_peer_crash_then_the_survivor_recovers(phones: Phones) -> None:
    phones.answer("alice", "bob")
    start = marks(phones, "alice")
    phones["bob"].kill()
    phones.hung_up("alice", start["alice"], "Call lost", timeout=PEER_LOST_S + STEP_S)
    bob = phones.start("bob")  # the crashed phone comes back with the same key and port
    bob.wait_ready(START_S)
    phones.answer("alice", "bob")
    start = marks(phones, "alice", "bob")
    phones["alice"].press("select")
    phones.hung_up("alice", start["alice"], "Hung up")
    phones.hung_up("bob", start["bob"], "Call ended")
