"""Take-over by name must fail at every step: a stranger who publishes a record under a
pinned contact's name (or a look-alike of it) is a stranger. And discovery offers cannot
be used to flood the screen or steal a button. The attacker is the product's own record
vocabulary (PhoneFound, PeerRecord) fed through the directory on a stepped clock (and, for
the buttons, into a stepped phone wired as the app wires it)."""

from __future__ import annotations

from pathlib import Path

from drivers.rendezvous.base import PeerRecord, PhoneFound
from drivers.rendezvous.record import RECORD_LIFETIME_MS
from pysnac.call_events import CallEvent, Discovered, EventName
from pysnac.channel.identity import Identity, fingerprint
from pysnac.contacts import Contact
from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook
from pysnac.runtime.directory import (
    MAX_QUEUED_OFFERS,
    OFFER_AGAIN_S,
    OFFER_MIN_INTERVAL_S,
    Directory,
)
from pysnac.runtime.directory_calls import DirectoryCallService
from pysnac.screen import Button
from pysnac_fsm import table
from tests.fake_call_service import BOB, CAROL, FakeCallService, SyncPhone
from tests.test_directory import ScriptedRendezvous

MALLORY = Identity(bytes([66]) * 32).signing_public


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(self, folder: Path) -> None:
        self.clock = Clock()
        self.stamp_ms = 86_400_000  # a day off from anything
        self.events: list[CallEvent] = []
        self.phonebook = Phonebook(folder / PHONEBOOK_FILE_NAME, (BOB, CAROL))
        self.backend: ScriptedRendezvous | None = None
        self.directory = Directory(["lan"], self._open, self.phonebook, clock=self.clock)
        self.inner = FakeCallService(self.events.append)
        self.service = DirectoryCallService(self.inner, self.directory, self.events.append, 0.1)
        self.directory.start(self.events.append, object(), "alice", [("0.0.0.0", 1)])  # type: ignore[arg-type]

    def _open(self, kind: str, report, _pb) -> ScriptedRendezvous:
        self.backend = ScriptedRendezvous(kind, report)
        return self.backend

    def found(self, name: str, key: bytes = MALLORY) -> None:
        assert self.backend is not None
        self.backend.report(PhoneFound(Contact(name, key, ("10.6.6.6", 6666)), fingerprint(key)))

    def bob_is_alive(self) -> None:
        assert self.backend is not None
        self.stamp_ms += 1  # bob's own clock: the directory never compares it with ours
        lifetime = self.stamp_ms + RECORD_LIFETIME_MS
        bob = PeerRecord("bob", BOB.public_key, [("10.9.9.9", 5000)], self.stamp_ms, lifetime)
        self.backend.watchers[BOB.public_key](bob)

    def offers(self) -> list[Discovered]:
        return [e.data for e in self.events if e.name is EventName.CONTACT_DISCOVERED]  # type: ignore[misc]

    def named(self, name: str) -> list[CallEvent]:
        return [e for e in self.events if e.name is EventName(name)]


def test_a_stranger_under_a_live_contacts_name_is_a_stranger_at_every_step(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.bob_is_alive()
    rig.found("bob")
    # 1. not a key change: nothing flags bob, nothing refuses calls to him
    assert rig.directory.new_key_for("bob") is None
    assert rig.named("key_changed") == []
    # 2. offered as the stranger she is: marked name, her own fingerprint
    assert rig.offers() == [Discovered(Contact("?bob", MALLORY, None), fingerprint(MALLORY))]
    # 3. a call to bob goes to bob's key at bob's address
    rig.service.place_call(BOB)
    placed = [args[0] for name, args in rig.inner.calls if name == "place_call"]
    assert placed == [Contact("bob", BOB.public_key, ("10.9.9.9", 5000))]
    # 4. accepting the offer pins a separate contact; bob's key is untouched
    rig.phonebook.add(rig.offers()[0].contact)
    assert rig.phonebook.get("bob") == BOB
    assert rig.phonebook.find_by_key(MALLORY).name == "?bob"
    rig.directory.stop()


def test_look_alike_names_are_marked_too(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.bob_is_alive()
    for n, name in enumerate(("B0B", "ｂｏｂ", "bo\u0301b", "b\x01ob\n")):
        rig.clock.now += OFFER_MIN_INTERVAL_S
        rig.found(name, key=bytes([80 + n]) * 32)
    names = [offer.contact.name for offer in rig.offers()]
    assert names == ["?B0B", "?bob", "?bob", "?bob"]
    assert rig.directory.new_key_for("bob") is None
    rig.directory.stop()


def test_only_when_the_pinned_key_is_silent_is_a_new_key_a_key_change(tmp_path) -> None:
    rig = Rig(tmp_path)
    rig.bob_is_alive()
    rig.clock.now += RECORD_LIFETIME_MS / 1000 + 1  # bob's record ran out (a reinstall)
    rig.found("bob")
    assert rig.offers() == []  # never offered: re-pairing is the user's deliberate act
    assert rig.directory.new_key_for("bob") == (MALLORY, fingerprint(MALLORY))
    rig.bob_is_alive()  # bob's own key speaks again: no key change while it is alive
    assert rig.directory.new_key_for("bob") is None
    rig.directory.stop()


def test_offers_wait_for_idle_and_a_flood_cannot_keep_the_screen_busy(tmp_path) -> None:
    rig = Rig(tmp_path)
    idle = [False]
    rig.directory.ready_for_offer = lambda: idle[0]
    for n in range(100):  # a LAN flooding offers
        rig.found(f"spam{n}", key=n.to_bytes(32, "little"))
    assert rig.offers() == []  # not on the home screen: nothing pops over
    idle[0] = True
    rig.directory.offer_next()  # the phone came home
    assert [o.contact.name for o in rig.offers()] == ["spam0"]
    rig.directory.offer_next()
    assert len(rig.offers()) == 1  # at most one per OFFER_MIN_INTERVAL_S
    for _ in range(MAX_QUEUED_OFFERS + 2):
        rig.clock.now += OFFER_MIN_INTERVAL_S
        rig.directory.offer_next()
    assert len(rig.offers()) == MAX_QUEUED_OFFERS  # the rest of the flood was never queued
    # A refused offer comes back later, not at once.
    rig.events.clear()
    rig.found("spam0", key=(0).to_bytes(32, "little"))
    assert rig.offers() == []
    rig.clock.now += OFFER_AGAIN_S
    rig.found("spam0", key=(0).to_bytes(32, "little"))
    assert [o.contact.name for o in rig.offers()] == ["spam0"]
    rig.directory.stop()


def phone_with_directory(folder: Path) -> tuple[SyncPhone, ScriptedRendezvous]:
    """A phone wired as the app wires it: offers are posted only while it is Idle."""
    phone = SyncPhone(folder)
    backends: list[ScriptedRendezvous] = []

    def opener(kind: str, report, _pb) -> ScriptedRendezvous:
        backends.append(ScriptedRendezvous(kind, report))
        return backends[-1]

    directory = Directory(["lan"], opener, phone.phonebook, clock=phone.clock.now)
    directory.ready_for_offer = lambda: phone.state == table.IDLE
    directory.start(phone.loop.post, object(), "alice", [("0.0.0.0", 1)])  # type: ignore[arg-type]
    phone.model.new_keys = directory
    phone.drain()
    return phone, backends[0]


def test_an_offer_cannot_take_the_select_meant_to_call(tmp_path) -> None:
    """Mallory's record lands as the user presses Select on the home screen to call bob,
    in either order: she is never pinned by that press."""
    mallory = PhoneFound(Contact("mallory", MALLORY, ("10.6.6.6", 6666)), fingerprint(MALLORY))
    # The offer reached the machine first: the press lands on the offer, which ignores it.
    phone, backend = phone_with_directory(tmp_path / "first")
    backend.report(mallory)
    phone.lcd.press(Button.SELECT)  # queued behind the offer
    phone.drain()
    assert phone.state == table.CONFIRM_CONTACT
    assert phone.lines == ("Add mallory    ?", fingerprint(MALLORY).ljust(16))
    assert phone.phonebook.find_by_key(MALLORY) is None
    phone.advance(table.OFFER_ARM_S)  # a press once it has been shown a second is an answer
    phone.press(Button.LEFT)
    assert phone.state == table.IDLE and phone.phonebook.find_by_key(MALLORY) is None
    # The press reached the machine first: it calls bob; the offer is dropped, not shown.
    phone, backend = phone_with_directory(tmp_path / "second")
    phone.lcd.press(Button.SELECT)
    backend.report(mallory)  # still Idle when posted: the press is not handled yet
    phone.drain()
    assert phone.state == table.DIALING
    assert phone.service.names() == ["place_call"]
    assert phone.phonebook.find_by_key(MALLORY) is None
