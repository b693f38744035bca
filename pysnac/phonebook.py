"""The phonebook: pinned contacts, the config's `[[contacts]]` plus those added on the device.

Contacts added, renamed or re-keyed on the device (pairing, the text-entry screen,
`main.py contacts add`) live in `contacts.jsonl` in the state folder, one JSON object a line
(`{"name", "public_key", "address"}` or `{"removed_key"}`): 20,000 of them load in a small
fraction of a second, where TOML parsing alone took over a second. The config's
`[[contacts]]` (TOML, written by hand) are the seed. A seed contact is shown unless the
file has an entry with its name or key (an edit overrides it) or lists its key as removed.
Names and keys are unique: a second phone with a known key is the same phone. An older
`contacts.toml` is migrated once: read, written as `contacts.jsonl`, then renamed
`contacts.toml.migrated`; if it is malformed nothing is written or renamed and the error
names the file and entry. Writes are atomic (temp file + rename), mode 0600. Thread-safe
(the state machine and the rendezvous both read it), and several instances over one file
agree: each read or change first reloads the file if it was replaced since (its inode,
size and mtime), so a contact pinned on the device or by `main.py contacts add` reaches
the call service at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import tomllib
from collections.abc import Iterable
from pathlib import Path

from pysnac.contacts import BadPublicKey, Contact, decode_public_key, encode_public_key
from pysnac.errors import ConfigError, PysnacError
from pysnac.history import atomic_write_text
from pysnac.lcd_text import lcd_name
from pysnac.limits import NAME_MAX_CHARS

PHONEBOOK_FILE_NAME = "contacts.jsonl"
LEGACY_FILE_NAME = "contacts.toml"  # the TOML phonebook, migrated once
MIGRATED_SUFFIX = ".migrated"  # the legacy file, renamed once its contacts are in the new one

log = logging.getLogger(__name__)


class PhonebookError(PysnacError, ValueError):
    """A duplicate or unknown contact, or a bad name."""


def check_name(name: str) -> str:
    """A contact or device name: 1..NAME_MAX_CHARS printable characters, no edge spaces.
    Returns it as the LCD shows it (`lcd_text.lcd_name`: "Zoë" is kept as "Zoe"), so every
    name stored is displayable by construction; callers keep the returned name."""
    if not name or name != name.strip():
        raise PhonebookError(f"name {name!r} is empty or has leading/trailing spaces")
    if len(name) > NAME_MAX_CHARS:
        raise PhonebookError(f"name {name!r} is longer than {NAME_MAX_CHARS} characters")
    if not name.isprintable():
        raise PhonebookError(f"name {name!r} has unprintable characters")
    return lcd_name(name)


def parse_address(text: str) -> tuple[str, int]:
    """`host:port` (IPv6 as `[::1]:47000`) -> (host, port); ValueError if malformed."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"address {text!r} is not host:port")
    return host, int(port_text)


def format_address(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Phonebook:
    """Pinned contacts over `contacts.jsonl`, seeded by the config's contacts."""

    def __init__(self, path: Path, seed: Iterable[Contact] = ()) -> None:
        self.path = path
        self._seed = list(seed)
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._own, self._removed = self._load()
        self._cache: list[Contact] | None = None  # the merged, sorted list until a change

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_ino, info.st_size, info.st_mtime_ns)

    def _refresh(self) -> None:
        """Reload if another instance (or process) replaced the file. Under the lock."""
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        try:
            self._own, self._removed = self._load()
        except ConfigError as exc:  # a hand edit gone wrong: keep what we had, say why
            log.warning("phonebook not reloaded: %s", exc)
        self._stamp = stamp
        self._cache = None

    def _load(self) -> tuple[list[Contact], set[bytes]]:
        if not self.path.exists():
            return self._migrate()
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(self.path, None, f"cannot read: {exc}") from exc
        own: list[Contact] = []
        removed: set[bytes] = set()
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"line {number}"
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise ConfigError(self.path, where, f"not JSON: {exc}") from exc
            if not isinstance(item, dict):
                raise ConfigError(self.path, where, "not a JSON object")
            if "removed_key" in item:
                try:
                    removed.add(decode_public_key(str(item["removed_key"])))
                except BadPublicKey as exc:
                    raise ConfigError(self.path, where, str(exc)) from exc
            else:
                own.append(_contact(item, self.path, where))
        return own, removed

    def _migrate(self) -> tuple[list[Contact], set[bytes]]:
        """Read a legacy `contacts.toml` beside the file, write it as JSON lines, rename it."""
        legacy = self.path.with_name(LEGACY_FILE_NAME)
        if self.path.name == LEGACY_FILE_NAME or not legacy.exists():
            return [], set()
        own, removed = _load_toml(legacy)
        self._own, self._removed = own, removed
        self._save()
        with contextlib.suppress(FileNotFoundError):  # another instance migrated it first
            os.replace(legacy, legacy.with_name(LEGACY_FILE_NAME + MIGRATED_SUFFIX))
        log.info("phonebook %s migrated to %s", legacy, self.path)
        return own, removed

    def _merged(self) -> list[Contact]:
        """Seeds and own contacts, sorted; computed once per change (every INVITE and
        record asks, and a phonebook may hold 20,000 contacts)."""
        self._refresh()
        if self._cache is None:
            self._cache = self._merge()
        return list(self._cache)

    def _merge(self) -> list[Contact]:
        names = {c.name for c in self._own}
        keys = {c.public_key for c in self._own} | self._removed
        seeds = [c for c in self._seed if c.name not in names and c.public_key not in keys]
        return sorted(seeds + self._own, key=lambda c: (c.name.casefold(), c.name))

    def contacts(self) -> list[Contact]:
        with self._lock:
            return self._merged()

    def get(self, name: str) -> Contact | None:
        return next((c for c in self.contacts() if c.name == name), None)

    def find_by_key(self, public_key: bytes) -> Contact | None:
        return next((c for c in self.contacts() if c.public_key == public_key), None)

    def add(self, contact: Contact) -> None:
        contact = Contact(check_name(contact.name), contact.public_key, contact.address)
        encode_public_key(contact.public_key)  # validates the length
        with self._lock:
            for other in self._merged():
                if other.name == contact.name:
                    raise PhonebookError(f"a contact named {contact.name!r} exists")
                if other.public_key == contact.public_key:
                    raise PhonebookError(f"that key is already pinned as {other.name!r}")
            self._own.append(contact)
            self._removed.discard(contact.public_key)
            self._save()

    def remove(self, name: str) -> None:
        with self._lock:
            contact = self._find(name)
            self._own = [c for c in self._own if c.name != name]
            self._removed.add(contact.public_key)
            self._save()

    def rename(self, name: str, new_name: str) -> None:
        new_name = check_name(new_name)
        with self._lock:
            contact = self._find(name)
            if new_name != name and any(c.name == new_name for c in self._merged()):
                raise PhonebookError(f"a contact named {new_name!r} exists")
            self._replace(contact, Contact(new_name, contact.public_key, contact.address))

    def replace_key(self, name: str, public_key: bytes) -> None:
        """Re-pair `name` with a new key (after KEY CHANGED, once checked out of band)."""
        encode_public_key(public_key)
        with self._lock:
            contact = self._find(name)
            if any(c.public_key == public_key and c.name != name for c in self._merged()):
                raise PhonebookError("that key is already pinned to another contact")
            self._removed.add(contact.public_key)
            self._removed.discard(public_key)
            self._replace(contact, Contact(name, public_key, contact.address))

    def _find(self, name: str) -> Contact:
        for contact in self._merged():
            if contact.name == name:
                return contact
        raise PhonebookError(f"no contact named {name!r}")

    def _replace(self, old: Contact, new: Contact) -> None:
        if old in self._own:
            self._own[self._own.index(old)] = new
        else:
            self._own.append(new)  # overrides the seed entry (same name or key)
        self._save()

    def _save(self) -> None:
        self._cache = None
        lines = [_dumps({"removed_key": encode_public_key(k)}) for k in sorted(self._removed)]
        for contact in self._own:
            item = {"name": contact.name, "public_key": encode_public_key(contact.public_key)}
            if contact.address is not None:
                item["address"] = format_address(contact.address)
            lines.append(_dumps(item))
        atomic_write_text(self.path, "".join(line + "\n" for line in lines))
        self._stamp = self._file_stamp()


def _dumps(item: dict[str, str]) -> str:
    return json.dumps(item, ensure_ascii=False)


def _contact(item: dict, path: Path, where: str) -> Contact:
    """One stored contact; a ConfigError naming `path` and `where` if it is not valid."""
    try:
        address = item.get("address")
        return Contact(
            name=check_name(str(item["name"])),
            public_key=decode_public_key(str(item["public_key"])),
            address=parse_address(str(address)) if address else None,
        )
    except (KeyError, ValueError, BadPublicKey, PhonebookError) as exc:
        raise ConfigError(path, where, str(exc)) from exc


def _load_toml(path: Path) -> tuple[list[Contact], set[bytes]]:
    """The legacy TOML phonebook (`[[contacts]]` and `removed_keys`)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read: {exc}") from exc
    contacts = data.get("contacts", [])
    if not isinstance(contacts, list) or not all(isinstance(i, dict) for i in contacts):
        raise ConfigError(path, "contacts", "not a list of tables")
    own = [_contact(item, path, f"contacts[{i}]") for i, item in enumerate(contacts)]
    try:
        removed = {decode_public_key(str(text)) for text in data.get("removed_keys", [])}
    except (BadPublicKey, TypeError) as exc:
        raise ConfigError(path, "removed_keys", str(exc)) from exc
    return own, removed
