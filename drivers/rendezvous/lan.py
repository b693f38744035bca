"""The `lan` rendezvous: mDNS/DNS-SD (RFC 6762, RFC 6763) through `zeroconf`.

The embedded default: no account, no internet. Each phone registers one service instance
`<key_id>._pysnac._udp.local.` whose TXT record carries the signed record (split into
`r0`, `r1`, ... strings, each under the 255-byte limit of RFC 6763 section 6.1), so the
instance name says which key to ask for and the record proves who wrote it. A browser
follows every `_pysnac._udp` instance on the link: newer records go to watchers, unpinned
keys are reported as PhoneFound. Registration (about 1.6 s of probing) and refreshes
run on one worker thread; nothing blocks `start`. zeroconf is imported only here.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable

from zeroconf import (
    InterfaceChoice,
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
        self._addresses: list[Address] = []
        self._info: ServiceInfo | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._zc = Zeroconf(interfaces=interfaces)  # type: ignore[arg-type]
        self._browser = ServiceBrowser(self._zc, SERVICE_TYPE, handlers=[self._on_state_change])

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- publishing ---------------------------------------------------------------------
    def start(self, identity: SigningIdentity, name: str, addresses: list[Address]) -> None:
        with self._lock:
            self._identity, self._name = identity, name
            self._addresses = expand_wildcards(addresses)
        self._worker = threading.Thread(target=self._publish_loop, name="rdv-lan", daemon=True)
        self._worker.start()

    def update(self, addresses: list[Address], name: str | None = None) -> None:
        with self._lock:
            self._addresses = expand_wildcards(addresses)
            self._name = self._name if name is None else name
        self._wake.set()

    def _service_info(self) -> ServiceInfo:
        with self._lock:
            identity, name, addresses = self._identity, self._name, list(self._addresses)
        assert identity is not None
        blob = sign_record(identity, name, addresses, self._now_ms(), self._lifetime_ms)
        ips = [h for h, _ in addresses if _is_ip(h)] or local_ipv4()
        kid = key_id(identity.signing_public)
        return ServiceInfo(
            SERVICE_TYPE,
            f"{kid}.{SERVICE_TYPE}",
            port=addresses[0][1],
            properties=_txt_properties(to_text(blob)),
            server=f"{kid}.local.",
            parsed_addresses=ips,
        )

    def _publish_loop(self) -> None:
        retry_s = RETRY_MIN_S
        refresh_s = self._lifetime_ms / 3000
        while not self._stopping.is_set():
            try:
                info = self._service_info()
                if self._info is None:
                    self._zc.register_service(info)
                else:
                    self._zc.update_service(info)
                self._info = info
                self._status.set(True)
                retry_s = RETRY_MIN_S
                wait_s = refresh_s
            except Exception as exc:  # name conflict, socket error, no address: retry
                if self._stopping.is_set():
                    return
                level = (
                    logging.WARNING
                    if isinstance(exc, NonUniqueNameException | OSError)
                    else logging.ERROR
                )
                log.log(level, "mDNS registration failed (%r); retry in %.0f s", exc, retry_s)
                self._status.set(False)
                wait_s, retry_s = retry_s, min(retry_s * 2, RETRY_MAX_S)
            self._wake.wait(wait_s)
            self._wake.clear()

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
        info = self._zc.get_service_info(SERVICE_TYPE, name, timeout=int(timeout_s * 1000))
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
        if self._worker is not None:
            self._worker.join(STOP_JOIN_S)
        self._browser.cancel()
        self._zc.close()  # sends goodbyes for our service (RFC 6762 section 10.1)
        self._status.set(False)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _lifetime_s(record: PeerRecord) -> float:
    """How long a record lives by its publisher's own clock (a duration: no clock skew)."""
    return (record.expires_ms - record.timestamp_ms) / 1000.0
