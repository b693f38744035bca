"""Whole phones finding each other through the rendezvous, in one process.

Each phone is what `main.py run` builds: `build_phone` with the real UDP call service
(loopback, silent sound devices), the headless LCD and `config_rendezvous_opener`, so
the phone publishes itself and looks its contacts up in the configured backends:

- `static`: the config's addresses (no publishing);
- `firebase`: the real pyrebase4 client against the PROTOCOL TEST SERVER of
  tests/firebase_server.py (one account per phone, rules as docs/rendezvous.md);
- `lan`: real mDNS, but only inside a network namespace this module creates (loopback
  only) -- never on the host's network; skipped without root.

Contacts are pinned by key alone except with `static`. Buttons are pressed on the LCD
twin and the assertions read its screen; nothing sleeps (waits are on conditions).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.phones import PhoneSpec, free_udp_port, make_phone_folder, write_config
from demo.rendezvous import DemoDirectory, RendezvousChoice, demo_directory
from drivers.clock import Clock
from drivers.lcd.headless import HeadlessLcd
from drivers.rendezvous.record import RECORD_LIFETIME_MS
from pysnac.channel.identity import Identity, fingerprint
from pysnac.config import load_config
from pysnac.runtime.app import Phone, build_phone
from pysnac.runtime.directory import config_rendezvous_opener
from pysnac.runtime.factory import udp_call_service_factory
from pysnac.screen import GLYPH_CHECK, GLYPH_PHONE, Button
from pysnac_fsm import table
from states import idle
from tests.test_rendezvous_lan import inside

WAIT_S = 10.0  # generous: only a failing test waits this long
NETNS = f"pysnac-e2e-rdv-{os.getpid()}"


class Rig:
    """Phones from configs written by the demo's helpers, started and stopped here."""

    def __init__(self, root: Path, namespace: str | None = None) -> None:
        self.root = root
        self.namespace = namespace
        self.phones: dict[str, tuple[Phone, HeadlessLcd]] = {}
        self.specs: dict[str, PhoneSpec] = {}

    def spec(self, name: str, folder: str | None = None) -> PhoneSpec:
        spec = make_phone_folder(self.root / (folder or name), name)
        self.specs[folder or name] = spec
        return spec

    def start(self, key: str, peers: list[PhoneSpec], **options: object) -> Phone:
        spec = self.specs[key]
        write_config(spec, peers, audio="silence", **options)  # type: ignore[arg-type]
        config = load_config(spec.folder / "config.toml")
        lcd = HeadlessLcd()
        where = inside(self.namespace) if self.namespace else contextlib.nullcontext()
        with where:  # sockets and threads opened here stay in the namespace
            phone = build_phone(
                config,
                lcd=lcd,
                call_service_factory=udp_call_service_factory(config),
                rendezvous_opener=config_rendezvous_opener(config),
            )
            phone.start()
        self.phones[key] = (phone, lcd)
        return phone

    def stop(self, key: str) -> None:
        phone, _ = self.phones.pop(key)
        phone.stop()

    def lcd(self, key: str) -> HeadlessLcd:
        return self.phones[key][1]

    def phone(self, key: str) -> Phone:
        return self.phones[key][0]

    def wait_online(self, key: str) -> None:
        shown = self.lcd(key).wait_for(lambda lines: lines[1].endswith(GLYPH_CHECK), WAIT_S)
        assert shown, f"{key}'s directory never came online: {self.lcd(key).lines}"

    def dial(self, caller: str, callee: str) -> None:
        lcd = self.lcd(caller)
        assert lcd.wait_for(lambda lines: "Sel:call" in lines[1], WAIT_S)
        self.select_contact(caller, callee)  # the home screen is the dial
        lcd.press(Button.SELECT)
        assert self.phone(caller).wait_for_state(table.DIALING, WAIT_S)

    def select_contact(self, key: str, name: str) -> None:
        """Step to `name` on the home screen or in the contacts list."""
        lcd = self.lcd(key)
        for _ in range(len(self.phone(key).model.phonebook.contacts())):
            if lcd.wait_for(lambda lines: lines[0].lstrip(GLYPH_PHONE).startswith(name + " "), 0.5):
                return
            lcd.press(Button.DOWN)
        raise AssertionError(f"{name} is not in {key}'s contacts")

    def rings_and_connects(self, caller: str, callee: str) -> None:
        assert self.phone(callee).wait_for_state(table.RINGING, WAIT_S)
        self.lcd(callee).press(Button.SELECT)
        assert self.phone(caller).wait_for_state(table.IN_CALL, WAIT_S)
        assert self.phone(callee).wait_for_state(table.IN_CALL, WAIT_S)
        self.lcd(caller).press(Button.SELECT)  # hang up
        assert self.phone(caller).wait_for_state(table.HANGUP, WAIT_S)
        self.lcd(caller).press(Button.SELECT)  # dismiss the summary
        assert self.phone(caller).wait_for_state(table.IDLE, WAIT_S)

    def close(self) -> None:
        for key in list(self.phones):
            self.stop(key)


def idle_indicator(lines: tuple[str, str]) -> str | None:
    """The directory indicator of the Idle screen (None on another screen)."""
    home = lines[1].startswith((idle.HINT, idle.HOW_TO_ADD))
    return lines[1][-1] if home else None


class Later:
    """The phone's clock moved on by `skip_s`: the user looks at a pairing screen for
    OFFER_ARM_S before answering, without the test sleeping."""

    def __init__(self, inner: Clock, skip_s: float) -> None:
        self.inner = inner
        self.skip_s = skip_s

    def now(self) -> float:
        return self.inner.now() + self.skip_s


def answer_when_armed(phone: Phone, lcd: HeadlessLcd, button: Button) -> None:
    """Press `button` on a pairing screen once it takes answers (shown OFFER_ARM_S)."""
    phone.loop.clock = Later(phone.loop.clock, table.OFFER_ARM_S)
    lcd.press(button)


def shows(lcd: HeadlessLcd, line1: str, line2: str) -> bool:
    """Wait until the screen is exactly these two lines (the LCD follows the state)."""
    return lcd.wait_for(lambda lines: lines == (line1, line2), WAIT_S) or print(lcd.lines)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    rig = Rig(tmp_path)
    yield rig
    rig.close()


@pytest.fixture
def firebase() -> Iterator[DemoDirectory]:
    with demo_directory(RendezvousChoice("firebase"), echo=lambda _line: None) as directory:
        yield directory


def test_static_addresses_through_the_directory(rig: Rig) -> None:
    alice, bob = rig.spec("alice"), rig.spec("bob")
    rig.start("alice", [bob])
    rig.start("bob", [alice])
    assert rig.phone("alice").directory is not None
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")
    # static alone has no reachability of its own: no indicator
    assert rig.lcd("alice").wait_for(lambda lines: idle_indicator(lines) == " ", WAIT_S)


def test_firebase_publish_find_call_and_follow_a_move(rig: Rig, firebase: DemoDirectory) -> None:
    alice, bob = rig.spec("alice"), rig.spec("bob")
    rig.start("alice", [bob], **firebase.config_options(alice))
    rig.start("bob", [alice], **firebase.config_options(bob))
    rig.wait_online("alice")
    rig.wait_online("bob")
    config_text = (alice.folder / "config.toml").read_text()
    assert "address" not in config_text  # pinned by key alone
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")
    # bob's phone restarts on another port: alice's watch follows the new record
    rig.stop("bob")
    moved = PhoneSpec("bob", free_udp_port(), bob.public_key, bob.folder)
    rig.specs["bob"] = moved
    rig.start("bob", [alice], **firebase.config_options(moved))
    directory = rig.phone("alice").directory
    contact = rig.phone("alice").model.phonebook.get("bob")
    assert directory is not None and contact is not None
    new_address = ("127.0.0.1", moved.port)
    assert directory.wait_for(lambda: directory.address_for(contact) == new_address, WAIT_S)
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")
    assert rendezvous_threads()  # publishing, streaming
    rig.close()
    assert rendezvous_threads() == []  # stopped and joined with the phones


def rendezvous_threads() -> list[str]:
    prefixes = ("rdv-", "directory-")
    return [t.name for t in threading.enumerate() if t.name.startswith(prefixes)]


def test_directory_offline_is_shown_and_static_still_calls(
    rig: Rig, firebase: DemoDirectory
) -> None:
    alice, bob = rig.spec("alice"), rig.spec("bob")
    options = firebase.config_options(alice)
    firebase.server.stop()  # the directory is unreachable from the start
    rig.start(
        "alice", [bob], backends=("firebase", "static"), firebase_config=options["firebase_config"]
    )
    rig.start("bob", [alice])
    assert rig.lcd("alice").wait_for(lambda lines: idle_indicator(lines) == "x", WAIT_S)
    assert rig.phone("alice").directory.status() == {"firebase": False, "static": True}  # type: ignore[union-attr]
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")
    assert rig.lcd("alice").wait_for(lambda lines: idle_indicator(lines) == "x", WAIT_S)


def test_a_broken_rendezvous_config_does_not_stop_the_phone(rig: Rig) -> None:
    alice, bob = rig.spec("alice"), rig.spec("bob")
    missing = alice.folder / "no-such-firebase.json"
    rig.start("alice", [bob], backends=("firebase", "static"), firebase_config=missing)
    rig.start("bob", [alice])
    assert rig.lcd("alice").wait_for(lambda lines: idle_indicator(lines) == "x", WAIT_S)
    directory = rig.phone("alice").directory
    assert directory is not None and "no-such-firebase.json" in directory.failed["firebase"]
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")


def test_a_contact_nobody_publishes_is_not_found(rig: Rig, firebase: DemoDirectory) -> None:
    alice, bob = rig.spec("alice"), rig.spec("bob")
    rig.start("alice", [bob], **firebase.config_options(alice))  # bob never starts
    rig.wait_online("alice")
    rig.dial("alice", "bob")
    assert rig.phone("alice").wait_for_state(table.HANGUP, WAIT_S)
    lcd = rig.lcd("alice")
    assert lcd.wait_for(lambda lines: lines[0].startswith("Not found"), WAIT_S), lcd.lines


# ---- lan: inside a private network namespace ----------------------------------------


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a network namespace (mDNS never on the host's net)")
    if shutil.which("ip") is None:
        pytest.skip("needs iproute2 (`ip netns`)")
    try:
        _ip("netns", "add", NETNS)
        _ip("-n", NETNS, "link", "set", "lo", "up")
        _ip("-n", NETNS, "link", "set", "lo", "multicast", "on")
    except subprocess.CalledProcessError as exc:
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
        pytest.skip(f"cannot create a network namespace: {exc.stderr.decode().strip()}")
    yield NETNS
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, timeout=10)


@pytest.fixture
def lan_rig(tmp_path: Path, netns: str) -> Iterator[Rig]:
    rig = Rig(tmp_path, namespace=netns)
    yield rig
    rig.close()  # before the namespace goes


LAN = {"backends": ("lan",)}


def test_lan_tofu_then_key_changed_and_re_pair_on_the_device(lan_rig: Rig) -> None:
    rig = lan_rig
    alice, bob, carol = rig.spec("alice"), rig.spec("bob"), rig.spec("carol")
    rig.start("alice", [bob], **LAN)
    rig.start("bob", [alice], **LAN)
    rig.wait_online("alice")
    rig.wait_online("bob")
    # 1. bob is pinned by key alone: found on the LAN and called
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")
    # 2. carol is not pinned: alice's LCD offers her with her fingerprint (TOFU)
    rig.start("carol", [alice], **LAN)
    lcd = rig.lcd("alice")
    assert rig.phone("alice").wait_for_state(table.CONFIRM_CONTACT, WAIT_S)
    assert shows(lcd, "Add carol      ?", fingerprint(carol.public_key).ljust(16))
    answer_when_armed(rig.phone("alice"), lcd, Button.SELECT)
    assert rig.phone("alice").wait_for_state(table.IDLE, WAIT_S)
    pinned = rig.phone("alice").model.phonebook.get("carol")
    assert pinned is not None and pinned.public_key == carol.public_key
    assert pinned.address is None  # the rendezvous finds her, no fixed address
    rig.dial("alice", "carol")
    rig.rings_and_connects("alice", "carol")
    # 3. bob comes back with a new key once his old record has run out (a goodbye is not
    # authenticated: until then the pinned key is alive and a new "bob" is a stranger):
    # not offered, calls refused with KEY CHANGED
    rig.stop("bob")
    directory = rig.phone("alice").directory
    assert directory is not None
    later_s = RECORD_LIFETIME_MS / 1000 + 1  # alice's clock moves past the old record's life
    directory._clock = lambda: time.monotonic() + later_s
    new_bob = rig.spec("bob", folder="bob-new")
    assert new_bob.public_key != bob.public_key
    rig.start("bob-new", [alice], **LAN)
    found = directory.wait_for(lambda: directory.new_key_for("bob") is not None, WAIT_S)
    assert found, "alice never saw bob's new key"
    assert rig.phone("alice").state == table.IDLE  # no pairing offer for a known name
    rig.dial("alice", "bob")
    assert rig.phone("alice").wait_for_state(table.HANGUP, WAIT_S)
    assert lcd.wait_for(lambda lines: lines[0].startswith("KEY CHANGED"), WAIT_S), lcd.lines
    assert rig.phone("bob-new").state not in table.CALL_STATES  # never rang
    lcd.press(Button.SELECT)
    # 4. re-pair on the device: Contacts flags bob, Right shows the old fingerprint, then
    # the new one; a Select on each replaces the key
    assert rig.phone("alice").wait_for_state(table.IDLE, WAIT_S)
    lcd.press(Button.RIGHT)  # menu, then its first item: Contacts
    lcd.press(Button.SELECT)
    rig.select_contact("alice", "bob")
    assert lcd.wait_for(lambda lines: lines[1] == "New key >re-pair", WAIT_S), lcd.lines
    lcd.press(Button.RIGHT)
    assert rig.phone("alice").wait_for_state(table.REPAIR_OLD_KEY, WAIT_S)
    assert shows(lcd, "Old key bob  1/2", fingerprint(bob.public_key).ljust(16))
    answer_when_armed(rig.phone("alice"), lcd, Button.SELECT)
    assert rig.phone("alice").wait_for_state(table.REPAIR_NEW_KEY, WAIT_S)
    assert shows(lcd, "New key bob  2/2", fingerprint(new_bob.public_key).ljust(16))
    answer_when_armed(rig.phone("alice"), lcd, Button.SELECT)
    assert rig.phone("alice").wait_for_state(table.IDLE, WAIT_S)
    repaired = rig.phone("alice").model.phonebook.get("bob")
    assert repaired is not None and repaired.public_key == new_bob.public_key
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob-new")


def test_lan_refusing_a_new_key_keeps_the_old_one(lan_rig: Rig) -> None:
    rig = lan_rig
    alice = rig.spec("alice")
    old_bob_key = Identity.generate().signing_public
    impostor = rig.spec("bob")
    old = PhoneSpec("bob", 1, old_bob_key, impostor.folder)
    rig.start("alice", [old], **LAN)
    rig.start("bob", [alice], **LAN)
    directory = rig.phone("alice").directory
    assert directory is not None
    lcd = rig.lcd("alice")
    assert directory.wait_for(lambda: directory.new_key_for("bob") is not None, WAIT_S)
    lcd.press(Button.RIGHT)  # menu, then its first item: Contacts
    lcd.press(Button.SELECT)
    assert lcd.wait_for(lambda lines: lines[1] == "New key >re-pair", WAIT_S)
    lcd.press(Button.RIGHT)
    assert rig.phone("alice").wait_for_state(table.REPAIR_OLD_KEY, WAIT_S)
    lcd.press(Button.LEFT)  # refuse: the impostor's key is forgotten, bob stays pinned
    assert rig.phone("alice").wait_for_state(table.IDLE, WAIT_S)
    kept = rig.phone("alice").model.phonebook.get("bob")
    assert kept is not None and kept.public_key == old_bob_key
    assert directory.new_key_for("bob") is None
    lcd.press(Button.RIGHT)  # menu -> Contacts: bob is no longer flagged
    lcd.press(Button.SELECT)
    assert lcd.wait_for(lambda lines: lines[1] == "Sel:call >rename", WAIT_S)
