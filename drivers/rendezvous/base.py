"""The rendezvous contract: where a phone can be reached and which key it claims.

A rendezvous backend publishes this device's signed `PeerRecord` and finds a contact's.
It never decides trust: a record whose key differs from the pinned one is returned as
it is, and the caller's Noise handshake against the pinned key refuses it, so a hostile
directory can at worst deny service. Backends report a `BackendStatus` when they go on or
offline and a `PhoneFound` when they see an unpinned phone, through the `report` callable
the runtime hands them (the runtime turns reports into the state machine's events; a
driver knows nothing of the machine). Bad records are dropped and counted, not raised.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pysnac.contacts import Contact
from pysnac.errors import PysnacError

log = logging.getLogger(__name__)

Address = tuple[str, int]
MAX_ADDRESSES = 8  # per record


@dataclass(frozen=True)
class BackendStatus:
    """A backend went online (reachable, record published) or offline."""

    backend: str
    online: bool


@dataclass(frozen=True)
class PhoneFound:
    """A phone whose key is not pinned announced itself (the LAN backend)."""

    contact: Contact
    fingerprint: str


Report = Callable[[BackendStatus | PhoneFound], None]


class RendezvousError(PysnacError):
    """A rendezvous backend cannot be set up (bad config, missing file, unknown kind)."""


class RecordError(ValueError):
    """A record that fails verification; `reason` names the counter it is counted under."""

    reason = "malformed"


class MalformedRecord(RecordError):
    reason = "malformed"


class UnsignedRecord(RecordError):
    reason = "unsigned"


class BadRecordSignature(RecordError):
    reason = "bad_signature"


class ExpiredRecord(RecordError):
    reason = "expired"


class FutureRecord(RecordError):
    reason = "future"


class ReplayedRecord(RecordError):
    """Older (by its signed timestamp) than a record of the same key already accepted."""

    reason = "replayed"


class WrongKeyRecord(RecordError):
    """A record found under one key's name that carries another key (a misfiled record)."""

    reason = "wrong_key"


@dataclass(frozen=True)
class PeerRecord:
    """A verified claim: the phone holding `public_key` is reachable at `addresses` until
    `expires_ms` (Unix milliseconds). `timestamp_ms` orders records: newest wins."""

    name: str
    public_key: bytes
    addresses: list[Address]
    timestamp_ms: int
    expires_ms: int


# A sealed call offer (pysnac/call/offer.py) as text: the backends carry it, never read it.
OfferWatcher = Callable[[bytes, str], None]  # (the publishing phone's key, the offer text)
MAX_OFFER_CHARS = 4096


class SigningIdentity(Protocol):
    """What a backend needs of `pysnac.channel.identity.Identity`."""

    signing_public: bytes

    def sign(self, message: bytes) -> bytes: ...


class Rendezvous(Protocol):
    """One contract over every backend (lan, static, firebase, several at once)."""

    def start(self, identity: SigningIdentity, name: str, addresses: list[Address]) -> None:
        """Publish our record and keep refreshing it before it expires."""

    def update(self, addresses: list[Address], name: str | None = None) -> None:
        """Republish with new addresses (after `start`), e.g. when the network changed,
        and with a new device name when `name` is given (the user renamed the phone)."""

    def lookup(self, public_key: bytes, timeout_s: float) -> PeerRecord | None:
        """A verified, unexpired record for `public_key`, or None within `timeout_s`."""

    def watch(self, public_key: bytes, on_change: Callable[[PeerRecord], None]) -> None:
        """Call `on_change` (on a backend thread) with each newer record for the key."""

    def status(self) -> dict[str, bool]:
        """Backend name -> online."""

    def publish_offer(self, text: str) -> bool:
        """Leave a sealed call offer where our contacts' watches see it; False when this
        backend cannot carry offers (lan, static) or the write failed."""

    def watch_offers(self, on_offer: OfferWatcher) -> None:
        """Call `on_offer(key, text)` for each new offer a watched key publishes."""

    def stop(self) -> None:
        """Withdraw our record where possible; join threads, close sockets and streams."""


class RejectCounter:
    """Thread-safe counts of dropped records by reason (`RecordError.reason`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, reason: str, source: str = "") -> None:
        with self._lock:
            self._counts[reason] += 1
        log.info("rendezvous record dropped (%s) from %s", reason, source or "?")

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


class StatusReporter:
    """Tracks one backend's online flag and reports a BackendStatus only on a change."""

    def __init__(self, backend: str, report: Report | None, online: bool = False) -> None:
        self.backend = backend
        self._report = report
        self._online = online
        self._lock = threading.Lock()

    @property
    def online(self) -> bool:
        with self._lock:
            return self._online

    def set(self, online: bool) -> None:
        with self._lock:
            changed = online != self._online
            self._online = online
        if changed:
            log.info("rendezvous %s is %s", self.backend, "online" if online else "offline")
            if self._report is not None:
                self._report(BackendStatus(backend=self.backend, online=online))


class WatchList:
    """Watchers per key, delivering only records newer than the last one delivered
    (so a replayed older record never rolls an address back)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watchers: dict[bytes, list[Callable[[PeerRecord], None]]] = {}
        self._newest_ms: dict[bytes, int] = {}

    def add(self, public_key: bytes, on_change: Callable[[PeerRecord], None]) -> None:
        with self._lock:
            self._watchers.setdefault(public_key, []).append(on_change)

    def watched_keys(self) -> list[bytes]:
        with self._lock:
            return list(self._watchers)

    def offer(self, record: PeerRecord) -> bool:
        """Deliver `record` to its key's watchers if it is the newest seen; True if so."""
        with self._lock:
            callbacks = list(self._watchers.get(record.public_key, ()))
            if not callbacks or record.timestamp_ms <= self._newest_ms.get(record.public_key, -1):
                return False
            self._newest_ms[record.public_key] = record.timestamp_ms
        for callback in callbacks:
            try:
                callback(record)
            except Exception:  # a watcher's bug must not kill the backend thread
                log.exception("rendezvous watcher failed")
        return True


def local_ipv4() -> list[str]:
    """This host's non-loopback IPv4 addresses (what 0.0.0.0 means to a peer)."""
    import ifaddr  # zeroconf's dependency; small

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_loopback:
                found.append(ip.ip)
    return found


def local_ipv6() -> list[str]:
    """This host's IPv6 addresses a peer beyond the link can use: global and unique local
    ones (not loopback, not link-local: those need an interface the peer cannot name)."""
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, tuple):
                address = ipaddress.ip_address(ip.ip[0])
                if not (address.is_loopback or address.is_link_local):
                    found.append(str(address))
    return found


def expand_wildcards(addresses: list[Address]) -> list[Address]:
    """Replace a wildcard host by the local addresses of its family, keeping the port:
    0.0.0.0 by each local IPv4 address, :: by each global or unique local IPv6 one (the
    call socket bound to :: sends to IPv6 peers only, so no IPv4 address is offered for
    it, nor IPv6 for 0.0.0.0). At most MAX_ADDRESSES, without repeats."""
    out: list[Address] = []
    for host, port in addresses:
        if host == "0.0.0.0":
            out.extend((ip, port) for ip in local_ipv4())
        elif host == "::":
            out.extend((ip, port) for ip in local_ipv6())
        else:
            out.append((host, port))
    return list(dict.fromkeys(out))[:MAX_ADDRESSES]
