"""The `lan` rendezvous: mDNS/DNS-SD (RFC 6762, RFC 6763) through `zeroconf`.

The embedded default: no account, no internet. Each phone registers one service instance
`<key_id>._pysnac._udp.local.` whose TXT record carries the signed record (split into
`r0`, `r1`, ... strings, each under the 255-byte limit of RFC 6763 section 6.1), so the
instance name says which key to ask for and the record proves who wrote it. A browser
follows every `_pysnac._udp` instance on the link: newer records go to watchers, unpinned
keys are reported as PhoneFound. Registration (about 1.6 s of probing) and refreshes
run on one worker thread; nothing blocks `start`. zeroconf is imported only here.

The backend follows the network: a phone booted before Wi-Fi/DHCP gave it an address, or
whose address a DHCP renewal changed, must not need a restart. zeroconf binds its
multicast sockets to the addresses it finds when it opens, so the worker lists the
interface addresses every NETWORK_POLL_S (getifaddrs: one netlink dump, tens of
microseconds -- cheaper and simpler than a netlink listener, and a boot or DHCP change
within a few seconds is soon enough) and, when they changed, reopens zeroconf on the new
ones and re-publishes with the new addresses (a 0.0.0.0 host is expanded again each time).
The worker starts in the constructor so that it, and every zeroconf it opens, lives in
the network namespace the backend was created in.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable

from zeroconf import (
    InterfaceChoice,
    IPVersion,
    NonUniqueNameException,
    ServiceBrowser,
    ServiceInfo,
    ServiceStateChange,
    Zeroconf,
)

from drivers.rendezvous.base import (
    Address,
    OfferWatcher,
    PeerRecord,
    PhoneFound,
    RecordError,
    RejectCounter,
    Report,
    SigningIdentity,
    StatusReporter,
    WatchList,
    WrongKeyRecord,
    expand_wildcards,
    local_ipv4,
    local_ipv6,
)
from drivers.rendezvous.record import RECORD_LIFETIME_MS, key_id, sign_record, to_text, verify_text
from pysnac.contacts import Contact

NAME = "lan"
SERVICE_TYPE = "_pysnac._udp.local."
TXT_CHUNK_CHARS = 240  # one TXT string holds 255 bytes, less "rNN="
RESOLVE_TIMEOUT_MS = 3000  # for a service the browser saw appear
RETRY_MIN_S = 1.0  # registration retry back-off, doubling up to RETRY_MAX_S
RETRY_MAX_S = 60.0
STOP_JOIN_S = 5.0
NETWORK_POLL_S = 2.0  # interface addresses listed this often (a late network, DHCP)

log = logging.getLogger(__name__)


def _txt_properties(text: str) -> dict[str, str]:
    chunks = [text[i : i + TXT_CHUNK_CHARS] for i in range(0, len(text), TXT_CHUNK_CHARS)]
    return {"v": "1", **{f"r{i}": chunk for i, chunk in enumerate(chunks)}}


def _record_text(properties: dict[bytes, bytes | None]) -> str | None:
    parts = []
    for i in range(len(properties)):
        chunk = properties.get(f"r{i}".encode())
        if chunk is None:
            break
        parts.append(chunk.decode("ascii", "replace"))
    return "".join(parts) or None


def _fingerprint(public_key: bytes) -> str:
    from pysnac.channel.identity import fingerprint

    return fingerprint(public_key)


class LanRendezvous:
    """mDNS/DNS-SD backend. Opens its sockets (in the caller's network namespace) at once."""

    def __init__(
        self,
        report: Report | None = None,
        is_known: Callable[[bytes], bool] | None = None,
        clock: Callable[[], float] = time.time,
        interfaces: object = InterfaceChoice.All,
        lifetime_ms: int = RECORD_LIFETIME_MS,
    ) -> None:
        self._report = report
        self._is_known = is_known
        self._clock = clock
        self._lifetime_ms = lifetime_ms
        self.rejected = RejectCounter()
        self._status = StatusReporter(NAME, report)
        self._watchers = WatchList()
        self._lock = threading.Lock()
        self._seen: dict[bytes, PeerRecord] = {}
        self._seen_at: dict[bytes, float] = {}  # monotonic arrival of the newest record
        self._announced: set[bytes] = set()
        self._identity: SigningIdentity | None = None
        self._name = ""
        self._info_stale = False  # update() asked for a re-publish
        self._given: list[Address] = []  # as configured: 0.0.0.0 is expanded at each publish
        self._info: ServiceInfo | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._interfaces = interfaces
        self._network = network_addresses()
        self._zc: Zeroconf | None = None
        self._browser: ServiceBrowser | None = None
        self._open()
        self._worker = threading.Thread(target=self._run, name="rdv-lan", daemon=True)
        self._worker.start()

    def _open(self) -> None:
        """(Re)open zeroconf on the interfaces as they are now; the old one says goodbye."""
        with self._lock:
            old_zc, old_browser = self._zc, self._browser
            self._zc = self._browser = None
            self._info = None
        if old_browser is not None:
            old_browser.cancel()
        if old_zc is not None:
            old_zc.close()
        zc = Zeroconf(interfaces=self._interfaces, ip_version=IPVersion.All)  # type: ignore[arg-type]
        browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[self._on_state_change])
        with self._lock:
            self._zc, self._browser = zc, browser

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- publishing ---------------------------------------------------------------------
    def start(self, identity: SigningIdentity, name: str, addresses: list[Address]) -> None:
        with self._lock:
            self._identity, self._name = identity, name
            self._given = list(addresses)
            self._info_stale = True
        self._wake.set()

    def update(self, addresses: list[Address], name: str | None = None) -> None:
        with self._lock:
            self._given = list(addresses)
            self._name = self._name if name is None else name
            self._info_stale = True
        self._wake.set()

    def _service_info(self) -> ServiceInfo | None:
        """What to register now; None while this host has no address to offer."""
        with self._lock:
            identity, name, given = self._identity, self._name, list(self._given)
        assert identity is not None
        addresses = expand_wildcards(given)
        if not addresses:
            return None
        blob = sign_record(identity, name, addresses, self._now_ms(), self._lifetime_ms)
        ips = [h for h, _ in addresses if _is_ip(h)] or local_ipv4() + local_ipv6()
        kid = key_id(identity.signing_public)
        return ServiceInfo(
            SERVICE_TYPE,
            f"{kid}.{SERVICE_TYPE}",
            port=addresses[0][1],
            properties=_txt_properties(to_text(blob)),
            server=f"{kid}.local.",
            parsed_addresses=ips,
        )

    def _run(self) -> None:
        """Follow the network; publish when started, changed, due, or after a failure."""
        retry_s = RETRY_MIN_S
        refresh_s = self._lifetime_ms / 3000
        due = 0.0  # monotonic time of the next publish
        while not self._stopping.is_set():
            now = time.monotonic()
            network = network_addresses()
            if network != self._network or self._zc is None:
                log.info("network addresses now %s: mDNS reopened", list(network) or "none")
                self._network = network
                try:
                    self._open()
                except OSError as exc:  # an interface vanished mid-way: next poll
                    log.warning("mDNS could not open (%s); retry in %.0f s", exc, NETWORK_POLL_S)
                due = now
            stale = self._take_stale()
            if self._identity is not None and (now >= due or stale):
                due, retry_s = self._publish_once(now, refresh_s, retry_s)
            self._wake.wait(max(0.0, min(NETWORK_POLL_S, due - time.monotonic())))
            self._wake.clear()

    def _take_stale(self) -> bool:
        with self._lock:
            stale, self._info_stale = self._info_stale, False
        return stale

    def _publish_once(self, now: float, refresh_s: float, retry_s: float) -> tuple[float, float]:
        """One register/update; (next due time, next retry back-off)."""
        try:
            zc = self._zc
            info = self._service_info()
            if info is None or zc is None:  # no network yet: the next change publishes
                self._status.set(False)
                return now + refresh_s, RETRY_MIN_S
            if self._info is None:
                zc.register_service(info)
            else:
                zc.update_service(info)
            self._info = info
            self._status.set(True)
            return now + refresh_s, RETRY_MIN_S
        except Exception as exc:  # name conflict, socket error: retry
            if self._stopping.is_set():
                return now, retry_s
            level = (
                logging.WARNING
                if isinstance(exc, NonUniqueNameException | OSError)
                else logging.ERROR
            )
            log.log(level, "mDNS registration failed (%r); retry in %.0f s", exc, retry_s)
            self._status.set(False)
            return now + retry_s, min(retry_s * 2, RETRY_MAX_S)

    # -- finding ------------------------------------------------------------------------
    def _accept(self, info: ServiceInfo | None, source: str) -> PeerRecord | None:
        """Verify a resolved instance's record; count and drop it if bad."""
        if info is None:
            return None
        text = _record_text(info.properties or {})
        try:
            record = verify_text(text, None)  # live when announced: no clock comparison
            if f"{key_id(record.public_key)}.{SERVICE_TYPE}".lower() != info.name.lower():
                raise WrongKeyRecord(info.name)
        except RecordError as exc:
            self.rejected.add(exc.reason, source)
            return None
        with self._lock:
            old = self._seen.get(record.public_key)
            if old is None or record.timestamp_ms >= old.timestamp_ms:
                self._seen[record.public_key] = record
                self._seen_at[record.public_key] = time.monotonic()
        return record

    def _on_state_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            return  # the record expires by itself; a goodbye is not authenticated
        info = zeroconf.get_service_info(service_type, name, timeout=RESOLVE_TIMEOUT_MS)
        record = self._accept(info, name)
        if record is None:
            return
        identity = self._identity
        if identity is not None and record.public_key == identity.signing_public:
            return
        self._watchers.offer(record)
        self._maybe_announce(record)

    def _maybe_announce(self, record: PeerRecord) -> None:
        if self._report is None or self._is_known is None or self._is_known(record.public_key):
            return
        with self._lock:
            if record.public_key in self._announced:
                return
            self._announced.add(record.public_key)
        contact = Contact(record.name, record.public_key, record.addresses[0])
        self._report(PhoneFound(contact=contact, fingerprint=_fingerprint(record.public_key)))

    def lookup(self, public_key: bytes, timeout_s: float) -> PeerRecord | None:
        with self._lock:
            cached = self._seen.get(public_key)
            arrived = self._seen_at.get(public_key, float("-inf"))
        if cached is not None and time.monotonic() - arrived < _lifetime_s(cached):
            return cached
        name = f"{key_id(public_key)}.{SERVICE_TYPE}"
        zc = self._zc
        if zc is None:
            return None
        info = zc.get_service_info(SERVICE_TYPE, name, timeout=int(timeout_s * 1000))
        return self._accept(info, name)

    def watch(self, public_key: bytes, on_change: Callable[[PeerRecord], None]) -> None:
        self._watchers.add(public_key, on_change)
        with self._lock:
            cached = self._seen.get(public_key)
        if cached is not None:
            self._watchers.offer(cached)

    def publish_offer(self, text: str) -> bool:
        return False  # no place a peer behind a NAT could read it from: peers call directly

    def watch_offers(self, on_offer: OfferWatcher) -> None:
        pass

    def status(self) -> dict[str, bool]:
        return {NAME: self._status.online}

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self._worker.join(STOP_JOIN_S)
        with self._lock:
            zc, browser = self._zc, self._browser
        if browser is not None:
            browser.cancel()
        if zc is not None:
            zc.close()  # sends goodbyes for our service (RFC 6762 section 10.1)
        self._status.set(False)


def network_addresses() -> tuple[str, ...]:
    """The interface addresses zeroconf binds to and records offer (IPv4, and global or
    unique local IPv6), sorted."""
    return tuple(sorted(local_ipv4() + local_ipv6()))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _lifetime_s(record: PeerRecord) -> float:
    """How long a record lives by its publisher's own clock (a duration: no clock skew)."""
    return (record.expires_ms - record.timestamp_ms) / 1000.0
