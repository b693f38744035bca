"""A phone without STUN/TURN re-publishes its record when the host's addresses change
(a late network at boot, a new DHCP lease): `HostAddressWatcher.poll` is the decision,
tested with a scripted list of addresses; the directory owns the thread and stops it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pysnac.phonebook import Phonebook
from pysnac.runtime.directory import Directory
from pysnac.runtime.host_addresses import HostAddressWatcher

PUBLISHED = [("0.0.0.0", 47000), ("203.0.113.9", 47000)]  # a wildcard bind and a port forward


def test_a_new_address_is_published_once_and_the_wildcards_are_kept() -> None:
    hosts = [[], [("192.0.2.10", 47000)], [("192.0.2.10", 47000)], [("192.0.2.11", 47000)]]
    published: list[list[tuple[str, int]]] = []
    watcher = HostAddressWatcher(PUBLISHED, lambda: hosts[0], published.append)  # boot: none
    assert watcher.poll() is False and published == []  # nothing changed yet
    hosts.pop(0)  # the lease arrives
    assert watcher.poll() is True
    assert published == [PUBLISHED]  # the backends expand the wildcard anew
    hosts.pop(0)
    assert watcher.poll() is False and len(published) == 1  # same addresses: no re-publish
    hosts.pop(0)  # a new lease, another address
    assert watcher.poll() is True and len(published) == 2


def test_a_failing_look_at_the_interfaces_does_not_end_the_watch() -> None:
    calls: list[int] = []

    def hosts() -> list[tuple[str, int]]:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("getifaddrs failed")
        return [("192.0.2.10", 47000)]

    watcher = HostAddressWatcher(PUBLISHED, hosts, lambda addresses: None)
    with pytest.raises(OSError):
        watcher.poll()  # the thread's loop logs such a fault ...
    assert watcher.poll() is False  # ... and the next poll works from the last good list


def test_the_directory_stops_its_watcher_thread(tmp_path: Path) -> None:
    phonebook = Phonebook(tmp_path / "contacts.jsonl", [])
    directory = Directory([], lambda *args: None, phonebook)  # type: ignore[arg-type,return-value]
    before = {t.name for t in threading.enumerate()}
    directory.follow_host_addresses(PUBLISHED)
    assert "net-hosts" in {t.name for t in threading.enumerate()} - before
    directory.stop()
    assert "net-hosts" not in {t.name for t in threading.enumerate()}
