"""Re-publishes this phone's record when its host addresses change, for phones without
STUN/TURN (with them, `reachability` does this and more).

A phone bound to a wildcard (0.0.0.0 or ::) publishes the host's addresses as they were
when the record went out. A late network at boot, a DHCP lease that moves, a Wi-Fi join:
each changes them. The `net-hosts` thread lists them every HOST_POLL_S (one getifaddrs,
tens of microseconds) and, when the list differs, hands the directory the same published
addresses again, which each backend expands anew. Only the Firebase backend needs it: the
LAN backend polls the network itself (it must reopen zeroconf too), and static publishes
nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Address = tuple[str, int]
HOST_POLL_S = 2.0  # a new address is published within this (zeroconf itself takes 1.6 s)
JOIN_S = 2.0


class HostAddressWatcher:
    """`poll()` compares the host's addresses with the last seen and re-publishes on a
    change (the whole decision, tested without a thread); `start()` runs it every
    HOST_POLL_S on the `net-hosts` thread until `close()`."""

    def __init__(
        self,
        addresses: list[Address],
        hosts: Callable[[], list[Address]],
        publish: Callable[[list[Address]], None],
    ) -> None:
        self._addresses = list(addresses)  # what we publish (wildcards kept)
        self._hosts = hosts  # what the wildcards stand for now
        self._publish = publish
        self._seen = hosts()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> bool:
        """Re-publish if the host's addresses changed since the last poll; True if so."""
        now = self._hosts()
        if now == self._seen:
            return False
        log.info("host addresses changed (%d now): re-publishing", len(now))
        self._seen = now
        self._publish(list(self._addresses))
        return True

    def start(self) -> HostAddressWatcher:
        self._thread = threading.Thread(target=self._run, name="net-hosts", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(JOIN_S)

    def _run(self) -> None:
        while not self._stop.wait(HOST_POLL_S):
            try:
                self.poll()
            except Exception:  # a failed look at the interfaces: try again next time
                log.exception("listing the host's addresses failed")
