"""`main.py contacts list/add/remove`: pinning by hand, with one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pysnac.channel.identity import Identity, fingerprint
from pysnac.config import write_default_config
from pysnac.contacts import encode_public_key
from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook
from tests.conftest import REPO


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
        (("add", "carol", encode_public_key(bytes(32)), "--address", "nowhere"), "--address"),
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
    same_name = contacts(config, "add", "bob", other)
    assert same_name.returncode != 0 and "exists" in same_name.stderr


def test_missing_config_is_one_line(tmp_path: Path) -> None:
    result = contacts(tmp_path / "nope.toml", "list")
    assert result.returncode == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr
