"""`main.py contacts list/add/remove`: pinning by hand, with one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nacl.bindings
import pytest

from pysnac.channel.identity import Identity, fingerprint
from pysnac.config import write_default_config
from pysnac.contacts import encode_public_key
from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook
from tests.conftest import REPO

VALID_KEY = Identity.generate().signing_public
IDENTITY_POINT = bytes([1]) + bytes(31)  # y = 1: the neutral element, order 1
ORDER_TWO_POINT = bytes([0xEC]) + bytes([0xFF]) * 30 + bytes([0x7F])  # y = -1: order 2


def contacts(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--config", str(config), "contacts", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    write_default_config(path)
    return path


def test_add_list_remove(config: Path) -> None:
    key = Identity.generate().signing_public
    text = encode_public_key(key)
    added = contacts(config, "add", "bob", text, "--address", "192.0.2.5:47000")
    assert added.returncode == 0, added.stderr
    assert fingerprint(key) in added.stdout
    book = Phonebook(config.parent / PHONEBOOK_FILE_NAME)
    assert [(c.name, c.public_key, c.address) for c in book.contacts()] == [
        ("bob", key, ("192.0.2.5", 47000))
    ]
    listed = contacts(config, "list")
    assert listed.returncode == 0
    assert "bob" in listed.stdout and text in listed.stdout and "192.0.2.5:47000" in listed.stdout
    removed = contacts(config, "remove", "bob")
    assert removed.returncode == 0
    assert Phonebook(config.parent / PHONEBOOK_FILE_NAME).contacts() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "carol", "not-a-key"), "PUBLIC_KEY"),
        (("add", "carol", encode_public_key(VALID_KEY), "--address", "nowhere"), "--address"),
        (("remove", "nobody"), "no contact named 'nobody'"),
    ],
)
def test_bad_input_is_one_line_without_traceback(config: Path, args: tuple, message: str) -> None:
    result = contacts(config, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_key_or_name_is_pinned_once(config: Path) -> None:
    text = encode_public_key(Identity.generate().signing_public)
    assert contacts(config, "add", "bob", text).returncode == 0
    again = contacts(config, "add", "bobby", text)
    assert again.returncode != 0 and "already pinned as 'bob'" in again.stderr
    other = encode_public_key(Identity.generate().signing_public)
    same_name = contacts(config, "add", "BOB", other)
    assert same_name.returncode == 2
    assert (
        same_name.stderr.strip() == "pysnac: NAME: 'bob' is already a contact (names ignore case)"
    )


def test_missing_config_is_one_line(tmp_path: Path) -> None:
    result = contacts(tmp_path / "nope.toml", "list")
    assert result.returncode == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        bytes(32),  # all zeros
        IDENTITY_POINT,
        ORDER_TWO_POINT,
        nacl.bindings.crypto_core_ed25519_add(VALID_KEY, ORDER_TWO_POINT),  # torsion added
    ],
    ids=["zeros", "identity", "order-2", "torsioned"],
)
def test_keys_no_phone_can_hold_are_refused(config: Path, key: bytes) -> None:
    result = contacts(config, "add", "mallory", encode_public_key(key))
    assert result.returncode == 2
    assert result.stderr.startswith("pysnac: PUBLIC_KEY: ") and "low order" in result.stderr
    assert Phonebook(config.parent / PHONEBOOK_FILE_NAME).contacts() == []


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("[::1]:47000", "is IPv6 but this phone's socket is IPv4"),
        ("192.0.2.5:0", "is not host:port"),
        ("192.0.2.5:70000", "is not host:port"),
        ("bad_host!:47000", "neither an IP address nor a host name"),
    ],
)
def test_addresses_the_phone_cannot_use_are_refused(
    config: Path, address: str, problem: str
) -> None:
    result = contacts(config, "add", "dave", encode_public_key(VALID_KEY), "--address", address)
    assert result.returncode == 2
    assert result.stderr.startswith("pysnac: --address: ") and problem in result.stderr
    assert Phonebook(config.parent / PHONEBOOK_FILE_NAME).contacts() == []


def test_host_names_and_ipv6_on_an_ipv6_phone_are_kept(config: Path) -> None:
    ok = contacts(
        config, "add", "erin", encode_public_key(VALID_KEY), "--address", "erin.local:47000"
    )
    assert ok.returncode == 0, ok.stderr
    six = config.parent / "six.toml"
    six.write_text('[network]\nbind = "::"\n')
    other = encode_public_key(Identity.generate().signing_public)
    result = contacts(six, "add", "frank", other, "--address", "[::1]:47001")
    assert result.returncode == 0, result.stderr


def test_list_has_a_header(config: Path) -> None:
    assert contacts(config, "add", "bob", encode_public_key(VALID_KEY)).returncode == 0
    header, row = contacts(config, "list").stdout.splitlines()
    assert header.split() == ["name", "fingerprint", "public", "key", "address"]
    assert row.split()[0] == "bob"
