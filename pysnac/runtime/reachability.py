"""Keeps this phone's published candidates true while it runs.

Every STUN_EVERY_S the `net-reach` thread lists the host's addresses (a late network at
boot, a DHCP renewal, a Wi-Fi join all show up here), asks the STUN server from the call
socket itself for its server-reflexive address (RFC 8489 binding; the mapping a peer
would see), and adds the configured public address (a port forward). When the list
changes it is re-published through the directory. The binding request is also the NAT
keepalive of the call socket: home routers forget an idle UDP mapping after 30 s or more
(RFC 4787 section 4.3), so STUN_EVERY_S stays under that. While a call runs it looks every
IN_CALL_EVERY_S, and a moved address also calls `on_change` (the call restarts its ICE).

Relayed candidates are not published: a TURN allocation only accepts packets from peers
it has a permission for (RFC 8656 section 9), which nobody can know before a call, so the
relay is allocated per call and its address travels in the sealed call offer instead.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable

from drivers.net.base import DatagramTransport, NetworkError, TransportClosed

log = logging.getLogger(__name__)

Address = tuple[str, int]
STUN_EVERY_S = 25.0
STUN_ANSWER_S = 2.0  # a binding answer later than this is a lost one
IN_CALL_EVERY_S = 0.5  # during a call (PEER_LOST_S is 3 s: a restart must fit in it)
NO_NETWORK_RETRY_S = 2.0  # no address or no STUN answer yet (booting, Wi-Fi joining)
JOIN_S = 2.0
STUN_COOKIE = b"\x21\x12\xa4\x42"  # RFC 8489 section 5


def binding_request(transaction: bytes) -> bytes:
    """A STUN binding request with no attributes (20 bytes)."""
    return b"\x00\x01\x00\x00" + STUN_COOKIE + transaction


def is_stun(data: bytes) -> bool:
    """A STUN message (RFC 8489 section 5: top bits 0, the cookie, length fits). No call
    packet looks like one: their types are 0x01-0x10 followed by random ids, so the
    cookie and a matching transaction id are a 2^-128 coincidence."""
    return (
        len(data) >= 20
        and data[0] < 0x40
        and data[4:8] == STUN_COOKIE
        and int.from_bytes(data[2:4], "big") == len(data) - 20
    )


def mapped_address(data: bytes) -> Address | None:
    """XOR-MAPPED-ADDRESS of a binding success response, or None."""
    from aioice import stun  # the ICE dependency already parses STUN

    try:
        message = stun.parse_message(data)
    except ValueError:
        return None
    if message.message_class != stun.Class.RESPONSE:
        return None
    found = message.attributes.get("XOR-MAPPED-ADDRESS")
    return (str(found[0]), int(found[1])) if found else None


class Reachability:
    """`start()`; `close()`. Hand `on_datagram` every STUN datagram the socket gets."""

    def __init__(
        self,
        transport: DatagramTransport,
        stun_server: Address | None,
        hosts: Callable[[], list[Address]],
        public: Address | None,
        publish: Callable[[list[Address]], None],
        every_s: float = STUN_EVERY_S,
        in_call: Callable[[], bool] = lambda: False,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        """`in_call()`: look every IN_CALL_EVERY_S instead; `on_change()` after a re-publish
        that moved an address (not the first one)."""
        self._transport = transport
        self._stun_server = stun_server
        self._hosts = hosts
        self._public = public
        self._publish = publish
        self._every_s = every_s
        self._in_call = in_call
        self._on_change = on_change
        self._closed = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._waiting: dict[bytes, list[Address]] = {}
        self._answered = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._run, name="net-reach", daemon=True)
        self.published: list[Address] = []
        self.bytes_sent = self.bytes_received = 0  # STUN, for the idle-traffic bench

    def start(self) -> Reachability:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        with self._answered:
            self._answered.notify_all()
        if self._thread.is_alive():
            self._thread.join(JOIN_S)

    def check_now(self) -> None:
        """Re-gather at once (a test, or a hint that the network changed)."""
        self._wake.set()

    def on_datagram(self, data: bytes) -> bool:
        """A STUN answer to one of our requests (True: consumed)."""
        transaction = data[8:20]
        with self._answered:
            if transaction not in self._waiting:
                return False
            self.bytes_received += len(data)
            found = mapped_address(data)
            if found is not None:
                self._waiting[transaction].append(found)
            self._answered.notify_all()
        return True

    def _run(self) -> None:
        while not self._closed.is_set():
            complete = False
            try:
                complete = self._refresh()
            except Exception:  # the phone stays up; next round tries again
                log.exception("refreshing this phone's addresses failed")
            wait_s = self._every_s if complete else min(self._every_s, NO_NETWORK_RETRY_S)
            if self._in_call():  # a moved address must be noticed within the call's patience
                wait_s = min(wait_s, IN_CALL_EVERY_S)
            self._wake.wait(wait_s)
            self._wake.clear()

    def _refresh(self) -> bool:
        """Gather and publish if changed; False while something is missing (no address,
        no STUN answer): then the next round comes sooner."""
        hosts = list(self._hosts())
        reflexive = self._reflexive()
        addresses = hosts + ([reflexive] if reflexive is not None else [])
        if self._public is not None:
            addresses.append(self._public)
        addresses = list(dict.fromkeys(addresses))
        if addresses and addresses != self.published:
            log.info("this phone is reachable at %s", addresses)
            moved = bool(self.published)
            self.published = addresses
            self._publish(addresses)
            if moved:
                self._on_change()
        return bool(hosts) and (reflexive is not None or self._stun_server is None)

    def _reflexive(self) -> Address | None:
        if self._stun_server is None:
            return None
        transaction = secrets.token_bytes(12)
        request = binding_request(transaction)
        with self._answered:
            self._waiting[transaction] = []
        try:
            self._transport.send(request, self._stun_server)
            self.bytes_sent += len(request)
        except (NetworkError, TransportClosed) as exc:
            log.info("STUN request not sent: %s", exc)
            with self._answered:
                self._waiting.pop(transaction, None)
            return None
        with self._answered:
            self._answered.wait_for(
                lambda: bool(self._waiting[transaction]) or self._closed.is_set(), STUN_ANSWER_S
            )
            found = self._waiting.pop(transaction)
        return found[0] if found else None
