"""What the model needs from the stores beside it: the phonebook, the recent calls, and
the keys the rendezvous saw under pinned names. Each is a small `Protocol`, so tests hand
in the real stores over a temporary folder, and the model imports no runtime code."""

from __future__ import annotations

from typing import Protocol

from pysnac.contacts import Contact
from pysnac.history import CallRecord


class PhonebookLike(Protocol):
    def contacts(self) -> list[Contact]: ...
    def add(self, contact: Contact) -> None: ...
    def rename(self, name: str, new_name: str) -> None: ...
    def replace_key(self, name: str, public_key: bytes) -> None: ...


class NewKeysLike(Protocol):
    """Keys the rendezvous saw published under a pinned contact's name (`Directory`)."""

    def new_key_for(self, name: str) -> tuple[bytes, str] | None: ...
    def forget_new_key(self, name: str) -> None: ...


class HistoryLike(Protocol):
    def records(self) -> list[CallRecord]: ...
    def add(self, record: CallRecord) -> None: ...
