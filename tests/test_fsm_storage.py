"""What the phone keeps across restarts: the phonebook (contacts.jsonl over the config's
contacts) and the recent-calls history (history.json, last 10, atomic writes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pysnac.contacts import Contact, encode_public_key
from pysnac.errors import ConfigError
from pysnac.history import CallRecord, History
from pysnac.limits import HISTORY_MAX_CALLS
from pysnac.phonebook import LEGACY_FILE_NAME, PHONEBOOK_FILE_NAME, Phonebook, PhonebookError

BOB = Contact("bob", bytes(range(32)), ("127.0.0.1", 47001))
CAROL = Contact("carol", bytes(range(1, 33)))
DAVE = Contact("dave", bytes([4]) * 32, ("::1", 47002))


def test_phonebook_add_persists_and_refuses_duplicates(tmp_path: Path) -> None:
    path = tmp_path / PHONEBOOK_FILE_NAME
    book = Phonebook(path, [BOB])
    book.add(DAVE)
    assert [c.name for c in Phonebook(path, [BOB]).contacts()] == ["bob", "dave"]
    assert Phonebook(path, [BOB]).get("dave") == DAVE  # IPv6 address round-trips
    with pytest.raises(PhonebookError, match="named 'bob'"):
        book.add(Contact("bob", bytes([9]) * 32))
    with pytest.raises(PhonebookError, match="already pinned as 'dave'"):
        book.add(Contact("eve", DAVE.public_key))
    with pytest.raises(PhonebookError, match="longer than"):
        book.add(Contact("x" * 16, bytes([8]) * 32))
    assert book.find_by_key(BOB.public_key) == BOB
    assert book.find_by_key(bytes(32)) is None


def test_phonebook_remove_seed_and_own(tmp_path: Path) -> None:
    path = tmp_path / PHONEBOOK_FILE_NAME
    book = Phonebook(path, [BOB, CAROL])
    book.add(DAVE)
    book.remove("bob")
    book.remove("dave")
    assert [c.name for c in Phonebook(path, [BOB, CAROL]).contacts()] == ["carol"]
    with pytest.raises(PhonebookError, match="no contact"):
        book.remove("bob")
    book.add(BOB)  # re-pinning a removed key brings it back
    assert Phonebook(path, [BOB, CAROL]).get("bob") == BOB


def test_phonebook_rename_and_replace_key(tmp_path: Path) -> None:
    path = tmp_path / PHONEBOOK_FILE_NAME
    book = Phonebook(path, [BOB, CAROL])
    book.rename("bob", "robert")
    new_key = bytes([5]) * 32
    book.replace_key("carol", new_key)
    again = Phonebook(path, [BOB, CAROL])
    assert [c.name for c in again.contacts()] == ["carol", "robert"]
    assert again.get("robert").public_key == BOB.public_key
    assert again.get("robert").address == BOB.address
    assert again.get("carol").public_key == new_key
    assert again.find_by_key(CAROL.public_key) is None  # the old key is no longer trusted
    with pytest.raises(PhonebookError, match="exists"):
        again.rename("robert", "carol")


def test_phonebook_bad_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / PHONEBOOK_FILE_NAME
    path.write_text('{"name": "bob", "public_key": "AAAA"}\n{"name": "bob"\n')
    with pytest.raises(ConfigError, match=r"contacts\.jsonl: key 'line 1'"):
        Phonebook(path)
    removed = json.dumps({"removed_key": encode_public_key(BOB.public_key)})
    path.write_text(f'\n{removed}\n{{"name": "bob"\n')
    with pytest.raises(ConfigError, match=r"contacts\.jsonl: key 'line 3': not JSON"):
        Phonebook(path)


def test_legacy_toml_phonebook_is_migrated_once(tmp_path: Path) -> None:
    legacy = tmp_path / LEGACY_FILE_NAME
    removed = encode_public_key(CAROL.public_key)
    legacy.write_text(
        f'removed_keys = ["{removed}"]\n\n[[contacts]]\nname = "dave"\n'
        f'public_key = "{encode_public_key(DAVE.public_key)}"\naddress = "[::1]:47002"\n'
    )
    path = tmp_path / PHONEBOOK_FILE_NAME
    book = Phonebook(path, [BOB, CAROL])
    assert book.contacts() == [BOB, DAVE]  # carol stays removed, dave keeps his address
    assert path.stat().st_mode & 0o777 == 0o600
    assert not legacy.exists()
    assert (tmp_path / (LEGACY_FILE_NAME + ".migrated")).exists()
    first = path.read_text().splitlines()[0]
    assert json.loads(first) == {"removed_key": removed}
    assert Phonebook(path, [BOB, CAROL]).contacts() == [BOB, DAVE]


def test_malformed_legacy_phonebook_is_named_and_kept(tmp_path: Path) -> None:
    legacy = tmp_path / LEGACY_FILE_NAME
    legacy.write_text('[[contacts]]\nname = "bob"\npublic_key = "nope"\n')
    path = tmp_path / PHONEBOOK_FILE_NAME
    with pytest.raises(ConfigError, match=r"contacts\.toml: key 'contacts\[0\]'"):
        Phonebook(path)
    legacy.write_text("[[contacts]\n")
    with pytest.raises(ConfigError, match=r"contacts\.toml: cannot read"):
        Phonebook(path)
    assert legacy.read_text() == "[[contacts]\n" and not path.exists()  # nothing lost


def test_history_keeps_the_last_ten_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    history = History(path, wall_clock=lambda: 123.0)
    for index in range(HISTORY_MAX_CALLS + 3):
        history.add(CallRecord("out", f"p{index}", float(index), "Hung up"))
    records = History(path).records()
    assert len(records) == HISTORY_MAX_CALLS
    assert records[0].peer == "p12" and records[-1].peer == "p3"
    assert records[0].when == 123.0
    assert json.loads(path.read_text())[0]["peer"] == "p12"
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]  # no temp files left


def test_history_survives_a_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text('[{"direction": "sideways"}]')
    history = History(path)
    assert history.records() == []
    assert (tmp_path / "history.bad").exists()
    history.add(CallRecord("in", "bob", 3.0, "Call ended"))
    assert History(path).records()[0].peer == "bob"
