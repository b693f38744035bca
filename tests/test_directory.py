"""The directory (pysnac/runtime/directory.py) and the call service that looks contacts up
(pysnac/runtime/directory_calls.py), without a network: a scripted rendezvous twin that
keeps the `Rendezvous` contract (its lookups wait on a gate the test opens), the
recording `FakeCallService`, and the synchronous phone harness for the screens.
The same behaviour over the real backends is in test_e2e_rendezvous.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.rendezvous.base import PeerRecord, PhoneFound, Report
from pysnac.call_events import CallEvent, DirectoryStatus, Discovered, EventName
from pysnac.channel.identity import fingerprint
from pysnac.contacts import Contact
from pysnac.errors import ConfigError
from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook
from pysnac.runtime.directory import Directory
from pysnac.runtime.directory_calls import DirectoryCallService
from pysnac.screen import Button
from pysnac_fsm import table
from tests.fake_call_service import BOB, CAROL, FakeCallService, SyncPhone

WAIT_S = 5.0
NEW_BOB_KEY = bytes([7]) * 32
DAVE = Contact("dave", bytes([4]) * 32, ("10.0.0.4", 47000))


class ScriptedRendezvous:
    """The Rendezvous contract with answers set by the test; `lookup` blocks on `gate`."""

    def __init__(self, name: str, report: Report) -> None:
        self.name = name
        self.report = report
        self.answers: dict[bytes, PeerRecord] = {}
        self.gate = threading.Event()
        self.gate.set()
        self.looked_up = threading.Event()
        self.watchers: dict[bytes, Callable[[PeerRecord], None]] = {}
        self.published: list[tuple[str, list[tuple[str, int]]]] = []
        self.stopped = False

    def start(self, identity: object, name: str, addresses: list[tuple[str, int]]) -> None:
        self.published.append((name, addresses))

    def update(self, addresses: list[tuple[str, int]], name: str | None = None) -> None:
        self.published.append((name or self.published[-1][0], addresses))

    def lookup(self, public_key: bytes, timeout_s: float) -> PeerRecord | None:
        self.looked_up.set()
        self.gate.wait(timeout_s)
        return self.answers.get(public_key)

    def watch(self, public_key: bytes, on_change: Callable[[PeerRecord], None]) -> None:
        self.watchers[public_key] = on_change

    def status(self) -> dict[str, bool]:
        return {self.name: False}

    def stop(self) -> None:
        self.stopped = True


def record(contact: Contact, port: int, timestamp_ms: int = 1000) -> PeerRecord:
    return PeerRecord(contact.name, contact.public_key, [("10.9.9.9", port)], timestamp_ms, 2**62)


class Rig:
    def __init__(self, folder: Path, kinds: tuple[str, ...] = ("lan",)) -> None:
        self.events: list[CallEvent] = []
        self.posted = threading.Condition()
        self.phonebook = Phonebook(folder / PHONEBOOK_FILE_NAME, (BOB, CAROL))
        self.backends: dict[str, ScriptedRendezvous] = {}
        self.directory = Directory(kinds, self._open, self.phonebook)
        self.inner = FakeCallService(self.post)
        self.service = DirectoryCallService(self.inner, self.directory, self.post, 1.0)
        self.directory.start(self.post, object(), "alice", [("0.0.0.0", 47000)])  # type: ignore[arg-type]

    def _open(self, kind: str, report: Report, _pb: object) -> object:
        if kind == "firebase":
            raise ConfigError("firebase.json", None, "no such file")
        self.backends[kind] = ScriptedRendezvous(kind, report)
        return self.backends[kind]

    def post(self, event: CallEvent) -> None:
        with self.posted:
            self.events.append(event)
            self.posted.notify_all()

    def wait_event(self, name: EventName) -> CallEvent:
        with self.posted:
            assert self.posted.wait_for(lambda: any(e.name is name for e in self.events), WAIT_S)
            return next(e for e in self.events if e.name is name)

    def placed(self) -> list[Contact]:
        return [args[0] for name, args in self.inner.calls if name == "place_call"]


def test_start_publishes_shows_status_and_watches_every_pinned_contact(tmp_path: Path) -> None:
    rig = Rig(tmp_path, ("lan", "static", "firebase"))
    assert rig.backends["lan"].published == [("alice", [("0.0.0.0", 47000)])]
    statuses = [e.data for e in rig.events if e.name is EventName.DIRECTORY_STATUS]
    # firebase could not even be set up; static has no reachability to show
    assert statuses == [DirectoryStatus("firebase", False), DirectoryStatus("lan", False)]
    assert "no such file" in rig.directory.failed["firebase"]
    assert set(rig.backends["lan"].watchers) == {BOB.public_key, CAROL.public_key}
    rig.directory.stop()
    assert rig.backends["lan"].stopped and rig.backends["static"].stopped


def test_a_watched_newer_record_is_called_at_once(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.backends["lan"].watchers[BOB.public_key](record(BOB, 5000, timestamp_ms=2000))
    rig.backends["lan"].watchers[BOB.public_key](record(BOB, 4000, timestamp_ms=1000))  # older
    rig.service.place_call(BOB)
    assert rig.placed() == [Contact("bob", BOB.public_key, ("10.9.9.9", 5000))]
    assert not rig.backends["lan"].looked_up.is_set()


def test_a_contact_without_address_is_looked_up_then_called(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.backends["lan"].answers[CAROL.public_key] = record(CAROL, 6000)
    rig.service.place_call(CAROL)
    rig.service.close()  # joins the lookup worker
    assert rig.placed() == [Contact("carol", CAROL.public_key, ("10.9.9.9", 6000))]


def test_nobody_knows_the_contact_unreachable(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.service.place_call(CAROL)
    event = rig.wait_event(EventName.UNREACHABLE)
    assert event.data.reason == "Not found"  # type: ignore[union-attr]
    assert rig.placed() == []


def test_cancel_while_looking_up_wins(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    lan = rig.backends["lan"]
    lan.answers[CAROL.public_key] = record(CAROL, 6000)
    lan.gate.clear()
    rig.service.place_call(CAROL)
    assert lan.looked_up.wait(WAIT_S)
    rig.service.cancel_call()
    lan.gate.set()  # the answer comes after the user gave up
    rig.service.close()
    assert rig.placed() == [] and rig.inner.names() == ["cancel_call"]
    assert rig.events == [e for e in rig.events if e.name is EventName.DIRECTORY_STATUS]


def test_discoveries_tofu_offer_without_address_and_key_changes_kept(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    report = rig.backends["lan"].report
    report(PhoneFound(DAVE, "DDDD"))
    report(PhoneFound(BOB, "BBBB"))  # pinned: dropped
    new_bob = Contact("Bob", NEW_BOB_KEY, ("10.0.0.2", 47000))
    report(PhoneFound(new_bob, "NNNN"))
    offers = [e.data for e in rig.events if e.name is EventName.CONTACT_DISCOVERED]
    assert offers == [Discovered(Contact("dave", DAVE.public_key, None), "DDDD")]
    assert rig.directory.new_key_for("bob") == (NEW_BOB_KEY, "NNNN")
    rig.service.place_call(BOB)  # refused at once, the old key is never called
    assert rig.wait_event(EventName.KEY_CHANGED).data.reason == "KEY CHANGED"  # type: ignore[union-attr]
    assert rig.placed() == []


def test_two_phonebooks_over_one_file_agree(tmp_path: Path) -> None:
    path = tmp_path / PHONEBOOK_FILE_NAME
    model_side, call_side = Phonebook(path, (BOB,)), Phonebook(path, (BOB,))
    model_side.add(DAVE)
    assert call_side.find_by_key(DAVE.public_key) == DAVE
    call_side.replace_key("bob", NEW_BOB_KEY)
    assert model_side.get("bob") == Contact("bob", NEW_BOB_KEY, BOB.address)
    assert model_side.get("dave") == DAVE  # the second writer kept the first one's change


@pytest.fixture
def phone(tmp_path: Path) -> SyncPhone:
    return SyncPhone(tmp_path)


def attach(phone: SyncPhone, folder: Path) -> Directory:
    """A directory over the phone's phonebook whose rendezvous saw bob with a new key."""
    backends: list[ScriptedRendezvous] = []

    def opener(kind: str, report: Report, _pb: object) -> ScriptedRendezvous:
        backends.append(ScriptedRendezvous(kind, report))
        return backends[-1]

    directory = Directory(["lan"], opener, phone.phonebook)
    directory.start(phone.loop.post, object(), "alice", [("0.0.0.0", 1)])  # type: ignore[arg-type]
    new_bob = Contact("bob", NEW_BOB_KEY, None)
    backends[0].report(PhoneFound(new_bob, "NNNN-NNNN"))
    phone.model.new_keys = directory
    phone.drain()
    return directory


def test_re_pair_on_the_device(phone: SyncPhone, tmp_path: Path) -> None:
    """Both fingerprints, each on its own labelled page, and two deliberate Selects."""
    directory = attach(phone, tmp_path)
    assert phone.state == table.IDLE  # a new key for a known name is not a pairing offer
    phone.press(Button.RIGHT, Button.SELECT)  # menu -> Contacts
    assert phone.lines == ("bob          1/2", "New key >re-pair")
    phone.press(Button.DOWN)
    assert phone.lines[1] == "Sel:call >rename"  # carol's key did not change
    phone.press(Button.UP, Button.RIGHT)
    assert phone.state == table.REPAIR_OLD_KEY
    assert phone.lines == ("Old key bob  1/2", fingerprint(BOB.public_key).ljust(16))
    phone.press(Button.SELECT, Button.SELECT)  # a double press before it is armed: nothing
    assert phone.state == table.REPAIR_OLD_KEY
    phone.advance(table.OFFER_ARM_S)
    phone.press(Button.SELECT)  # the first confirmation
    assert phone.state == table.REPAIR_NEW_KEY
    assert phone.lines == ("New key bob  2/2", "NNNN-NNNN       ")
    phone.press(Button.SELECT)  # at once: not a second confirmation
    assert phone.state == table.REPAIR_NEW_KEY
    assert phone.phonebook.get("bob") == BOB
    phone.advance(table.OFFER_ARM_S)
    phone.press(Button.SELECT)  # the second confirmation replaces the key
    assert phone.state == table.IDLE
    bob = phone.phonebook.get("bob")
    assert bob is not None and bob.public_key == NEW_BOB_KEY and bob.address == BOB.address
    assert directory.new_key_for("bob") is None
    phone.press(Button.RIGHT, Button.SELECT, Button.RIGHT)  # Right renames again
    assert phone.state == table.EDIT_CONTACT_NAME


@pytest.mark.parametrize("page", [table.REPAIR_OLD_KEY, table.REPAIR_NEW_KEY])
@pytest.mark.parametrize("button", [Button.LEFT, Button.RIGHT, Button.UP, Button.DOWN])
def test_any_other_key_cancels_a_re_pair(
    phone: SyncPhone, tmp_path: Path, page: str, button: Button
) -> None:
    directory = attach(phone, tmp_path)
    phone.press(Button.RIGHT, Button.SELECT, Button.RIGHT)
    if page == table.REPAIR_NEW_KEY:
        phone.advance(table.OFFER_ARM_S)
        phone.press(Button.SELECT)
    assert phone.state == page
    phone.press(button)  # cancelling needs no arming: it is always safe
    assert phone.state == table.IDLE
    assert phone.phonebook.get("bob") == BOB
    assert directory.new_key_for("bob") is None  # the refused key is forgotten


def test_refusing_or_ignoring_the_new_key_forgets_it(phone: SyncPhone, tmp_path: Path) -> None:
    directory = attach(phone, tmp_path)
    phone.press(Button.RIGHT, Button.SELECT, Button.RIGHT)
    assert phone.state == table.REPAIR_OLD_KEY
    phone.advance(table.CONFIRM_CONTACT_S)  # nobody answered: refused
    assert phone.state == table.IDLE
    assert phone.phonebook.get("bob") == BOB
    assert directory.new_key_for("bob") is None
