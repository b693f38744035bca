"""One phone's call endpoint: every datagram in, every call's answers out. Pure.

The endpoint owns the calls (`signalling.Call`) of one phone and routes each datagram to
one of them: INVITEs by call id, everything else by the receiver's session index (a
random 32-bit number each side picks per call, as WireGuard does). It answers BUSY when
a call is already active, and counts every packet it drops by reason in `counters`.
Exactly one call is "active": the one the state machine knows about; only its events
reach the machine, and finished calls linger to answer retransmissions.

A new INVITE passes, cheapest first (WireGuard whitepaper 5.4.4 and 5.1):
1. mac1 (keyed by our public key): a stranger who does not know whom it calls costs one
   keyed hash and gets at most a 13-byte WRONG_KEY hint (globally rate-limited);
2. under load (UNPROVEN_INVITES_PER_S exceeded) mac2, the cookie bound to its source
   address; without it the sender gets a 61-byte COOKIE reply and costs no DH;
3. a token bucket per source host for the Diffie-Hellman work;
4. the Noise IK read itself; the setup's session index must equal the header's;
5. the caller's invite stamp, newer than the last one from that key (`InviteStamps`,
   kept across restarts by the runtime), never compared with our clock.
A caller is matched to a contact by key only: a new key under a contact's name rings as
the stranger it is. Time comes in as `now` (monotonic seconds); `wall_offset_s` turns it
into wall-clock time for our own invite stamps (which only need to grow); `peer_lost_s`
is how long an established call rides out an outage before it ends.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pysnac.call import wire
from pysnac.call.limits import (
    CALL_ID_BYTES,
    COOKIE_USE_S,
    HANDSHAKE_SOURCE_BURST,
    HANDSHAKES_PER_SOURCE_PER_S,
    INVITE_CACHE_S,
    MAX_COOKIES_PER_CALL,
    MAX_RATE_LIMITED_SOURCES,
    PEER_LOST_S,
    SESSION_INDEX_BYTES,
    UNDER_LOAD_S,
    UNPROVEN_INVITE_BURST,
    UNPROVEN_INVITES_PER_S,
    WRONG_KEY_REPLIES_PER_S,
    WRONG_KEY_REPLY_BURST,
)
from pysnac.call.macs import CookieJar, InviteMacs
from pysnac.call.ratelimit import SourceLimiter, TokenBucket
from pysnac.call.signalling import Address, Call, Dropped, Phase, Role
from pysnac.call.wire import PacketType
from pysnac.call_events import CallEvent, EventName, Failure, IncomingCall
from pysnac.channel.call_handshake import PROTOCOL_VERSION, CallHandshake, CallSetup
from pysnac.channel.errors import ChannelError, HandshakeFailed
from pysnac.channel.identity import Identity, fingerprint
from pysnac.channel.invite_stamps import InviteStamps
from pysnac.channel.limits import SAS_NONCE_BYTES
from pysnac.contacts import Contact
from pysnac.lcd_text import LOOKALIKE_MARK, lcd_name, looks_like
from pysnac.limits import NAME_MAX_CHARS

log = logging.getLogger(__name__)


@dataclass
class Output:
    """What the endpoint asks its runtime to do: send, post to the machine, play."""

    datagrams: list[tuple[bytes, Address]] = field(default_factory=list)
    events: list[CallEvent] = field(default_factory=list)
    media: list[bytes] = field(default_factory=list)


def clean_name(name: str) -> str:
    """A caller-chosen name as the LCD can show it (`lcd_text.lcd_name`), short."""
    return lcd_name(name, NAME_MAX_CHARS)


class Endpoint:
    """Routes datagrams to calls; the state machine's requests come in as methods."""

    def __init__(
        self,
        identity: Identity,
        *,
        name: str,
        codec: dict[str, int],
        contacts: Callable[[], Iterable[Contact]],
        wall_offset_s: float = 0.0,
        random_bytes: Callable[[int], bytes] = os.urandom,
        stamps: InviteStamps | None = None,
        peer_lost_s: float = PEER_LOST_S,
    ) -> None:
        self.identity = identity
        self.peer_lost_s = peer_lost_s
        self.name = name
        self.codec = dict(codec)
        self.contacts = contacts
        self.wall_offset_s = wall_offset_s
        self.random_bytes = random_bytes
        self.counters: Counter[str] = Counter()
        self.active: Call | None = None
        self.audio_ok = True  # False: no working sound device; callers get NO_AUDIO
        self._calls: dict[int, Call] = {}  # by our session index
        self._invites: dict[bytes, tuple[bytes, Call]] = {}  # call id -> (INVITE, callee call)
        self._seen_call_ids: dict[bytes, float] = {}  # call id -> when to forget it
        self.stamps = stamps if stamps is not None else InviteStamps()
        self._macs = InviteMacs(identity.signing_public)
        self._cookies = CookieJar(self._macs, random_bytes)
        self._peer_macs: dict[bytes, InviteMacs] = {}  # callee key -> its derived mac keys
        self._unproven = TokenBucket(UNPROVEN_INVITES_PER_S, UNPROVEN_INVITE_BURST)
        self._under_load_until = float("-inf")
        self._wrong_key_replies = TokenBucket(WRONG_KEY_REPLIES_PER_S, WRONG_KEY_REPLY_BURST)
        self._handshakes = SourceLimiter(
            HANDSHAKES_PER_SOURCE_PER_S, HANDSHAKE_SOURCE_BURST, MAX_RATE_LIMITED_SOURCES
        )
        self._out = Output()

    # ---- the state machine's requests -------------------------------------------------

    def place_call(self, contact: Contact, now: float) -> None:
        if self.active is not None:
            self.hang_up(now)
        if contact.address is None:
            failure = Failure("No address", f"no address known for {contact.name}")
            self._out.events.append(CallEvent(EventName.UNREACHABLE, failure))
            return
        call_id = self.random_bytes(CALL_ID_BYTES)
        index = self._new_index()
        handshake = CallHandshake.initiator(
            self.identity, call_id, contact.public_key, sas_nonce=self.random_bytes(SAS_NONCE_BYTES)
        )
        noise = handshake.write_message(self._setup(now, index, stamp=True))
        body = wire.encode_invite_body(PROTOCOL_VERSION, call_id, index, noise)
        macs = self._macs_for(contact.public_key)
        invite = macs.seal(body, None)
        call = Call.outgoing(
            invite=invite,
            now=now,
            identity=self.identity,
            call_id=call_id,
            local_index=index,
            peer_addr=contact.address,
            peer_name=contact.name,
            peer_key=contact.public_key,
            handshake=handshake,
            peer_lost_s=self.peer_lost_s,
        )
        call.invite_body, call.invite_mac1 = body, invite[len(body) : len(body) + 16]
        self._calls[index] = call
        self.active = call
        self._collect(call)

    def answer_call(self, now: float) -> None:
        call = self.active
        if call is None or call.role is not Role.CALLEE or call.phase is not Phase.INCOMING:
            return
        if call.handshake is None:
            return
        noise = call.handshake.write_message(self._setup(now, call.local_index))
        call.answer(noise, now)
        self._collect(call)

    def reject_call(self, now: float) -> None:
        self._end_active(now, Call.reject)

    def cancel_call(self, now: float) -> None:
        self._end_active(now, Call.cancel)

    def hang_up(self, now: float) -> None:
        self._end_active(now, Call.hang_up)

    def send_media(self, payload: bytes, now: float) -> None:
        """Queue a MEDIA datagram for the active call in the output (nothing without one)."""
        sealed = self.seal_media(payload, now)
        if sealed is not None:
            self._out.datagrams.append(sealed)

    def seal_media(self, payload: bytes, now: float) -> tuple[bytes, Address] | None:
        """A sealed MEDIA datagram for the active call, or None when there is none."""
        call = self.active
        if call is None:
            return None
        datagram = call.seal_media(payload, now)
        return None if datagram is None else (datagram, call.peer_addr)

    # ---- the network ------------------------------------------------------------------

    def receive(self, datagram: bytes, addr: Address, now: float) -> None:
        """One datagram from `addr`. Never raises for bad input: it counts and drops."""
        parts = wire.invite_mac1_parts(datagram)
        if parts is not None and not self._macs.mac1_ok(*parts):  # strangers cost one hash
            self._send_wrong_key(datagram, addr, now)
            self._drop("bad_mac1", addr, "Invite")
            return
        try:
            packet = wire.parse(datagram)
        except wire.MalformedPacket as exc:
            self._drop("malformed", addr, str(exc))
            return
        try:
            if isinstance(packet, wire.Invite):
                self._on_invite(packet, addr, now)
                return
            call = self._calls.get(packet.receiver_index)
            if call is None and isinstance(packet, wire.Signal) and packet.receiver_index == 0:
                call = self._invites.get(packet.call_id, (b"", None))[1]  # an early CANCEL
            if call is None:
                raise Dropped("unknown_session")
            try:
                if isinstance(packet, wire.Signal):
                    call.on_signal(packet, now)
                elif isinstance(packet, wire.Accept):
                    call.on_accept(packet, now)
                elif isinstance(packet, wire.WrongKey):
                    call.on_wrong_key(packet, now)
                elif isinstance(packet, wire.CookieReply):
                    self._on_cookie(call, packet, now)
                else:
                    call.on_transport(packet, addr, now)
            finally:
                self._collect(call)
        except Dropped as exc:
            self._drop(exc.reason, addr, type(packet).__name__)

    def _on_invite(self, invite: wire.Invite, addr: Address, now: float) -> None:
        """An INVITE whose mac1 `receive` has checked."""
        known = self._invites.get(invite.call_id)
        if known is not None:
            if known[0] != invite.body:
                raise Dropped("replayed_invite")
            known[1].on_invite_repeat(now)  # the caller missed our answer (bounded)
            self._collect(known[1])
            return
        if invite.version != PROTOCOL_VERSION:
            raise Dropped("bad_version")
        if invite.call_id in self._seen_call_ids:
            raise Dropped("replayed_invite")
        proven = self._cookies.mac2_ok(invite.body, invite.mac1, invite.mac2, addr, now)
        if not proven and self._under_load(now):
            nonce, sealed = self._cookies.reply(invite.mac1, addr, now)
            self._out.datagrams.append(
                (wire.encode_cookie(invite.sender_index, nonce, sealed), addr)
            )
            raise Dropped("cookie_sent")
        if not self._handshakes.take(addr[0], now):
            raise Dropped("rate_limited")
        handshake = CallHandshake.responder(
            self.identity,
            invite.call_id,
            pattern="IK",
            sas_nonce=self.random_bytes(SAS_NONCE_BYTES),
        )
        try:
            setup = handshake.read_message(invite.noise, sender_index=invite.sender_index)
        except (ChannelError, ValueError) as exc:  # mac1 was right: forged, garbled or tampered
            log.info("invite from %s:%s not readable: %s", *addr, exc)
            raise Dropped("bad_handshake") from exc
        caller_key = handshake.peer_signing_public
        if setup is None or caller_key is None:
            raise Dropped("bad_handshake")
        contact = self._contact_by_key(caller_key)
        try:
            self.stamps.accept(caller_key, setup.stamp, contact=contact is not None)
        except HandshakeFailed as exc:
            raise Dropped("stale_invite") from exc
        self._seen_call_ids[invite.call_id] = now + INVITE_CACHE_S
        name = contact.name if contact else clean_name(setup.name)
        if contact is None and any(looks_like(c.name, name) for c in self.contacts()):
            name = (LOOKALIKE_MARK + name)[:NAME_MAX_CHARS]  # reads as a contact's
        busy = self.active is not None
        refusal = PacketType.BUSY if busy else None if self.audio_ok else PacketType.NO_AUDIO
        call = Call.incoming(
            remote_index=invite.sender_index,
            now=now,
            identity=self.identity,
            call_id=invite.call_id,
            local_index=self._new_index(),
            peer_addr=addr,
            peer_name=name,
            peer_key=caller_key,
            handshake=handshake,
            first_reply=refusal,
            peer_lost_s=self.peer_lost_s,
        )
        self._calls[call.local_index] = call
        self._invites[invite.call_id] = (invite.body, call)
        if refusal is not None:  # busy or no audio: the recent calls show the attempt
            why = "busy" if busy else "no_audio"
            self.counters[why] += 1
            turned_away = Failure(f"Missed ({why.replace('_', ' ')})", "", peer=name)
            self._out.events.append(CallEvent(EventName.CALLER_TURNED_AWAY, turned_away))
        else:
            # Matched by key only: a stranger who gives a contact's name rings as a stranger
            # (shown with "?" and its fingerprint), never as the contact.
            self.active = call
            data = IncomingCall(name, caller_key, contact is not None, fingerprint(caller_key))
            self._out.events.append(CallEvent(EventName.INCOMING_CALL, data))
        self._collect(call)

    def _under_load(self, now: float) -> bool:
        """True while unproven INVITEs arrive faster than UNPROVEN_INVITES_PER_S."""
        if not self._unproven.take(now):
            self._under_load_until = now + UNDER_LOAD_S
        return now < self._under_load_until

    def _send_wrong_key(self, datagram: bytes, addr: Address, now: float) -> None:
        """The unsigned "not my key" hint: 13 bytes, names no key, globally rate-limited."""
        if self._wrong_key_replies.take(now):
            reply = wire.encode_wrong_key(*wire.invite_reply_ids(datagram))
            self._out.datagrams.append((reply, addr))

    def _on_cookie(self, call: Call, packet: wire.CookieReply, now: float) -> None:
        """Caller: the callee is under load; resend our INVITE with its cookie's mac2."""
        if call.role is not Role.CALLER or call.invite_body is None:
            raise Dropped("unexpected")
        if call.cookies_used >= MAX_COOKIES_PER_CALL:
            raise Dropped("unexpected")  # a forger on the path gets a bounded echo, no more
        macs = self._macs_for(call.peer_key)
        cookie = macs.open_cookie(packet.nonce, packet.sealed_cookie, call.invite_mac1 or b"")
        if cookie is None:
            raise Dropped("bad_cookie")
        if now - call.started_at > COOKIE_USE_S:
            raise Dropped("unexpected")
        call.use_cookie(macs.seal(call.invite_body, cookie), now)

    # ---- time -------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        deadlines = [d for call in self._calls.values() if (d := call.next_deadline()) is not None]
        return min(deadlines) if deadlines else None

    def handle_timer(self, now: float) -> None:
        for index, call in list(self._calls.items()):
            call.handle_timer(now)
            self._collect(call)
            if call.expired(now):
                del self._calls[index]
                if self._invites.get(call.call_id, (b"", None))[1] is call:
                    del self._invites[call.call_id]
        for call_id, forget_at in list(self._seen_call_ids.items()):
            if now >= forget_at:
                del self._seen_call_ids[call_id]

    # ---- output -----------------------------------------------------------------------

    def take_output(self) -> Output:
        out, self._out = self._out, Output()
        return out

    @property
    def call_count(self) -> int:
        """Calls still held, lingering ones included (for leak tests)."""
        return len(self._calls)

    # ---- helpers ----------------------------------------------------------------------

    def _setup(self, now: float, index: int, *, stamp: bool = False) -> CallSetup:
        """Our CallSetup; an invite's carries a fresh stamp (an answer's needs none)."""
        value = self.stamps.next_stamp(now + self.wall_offset_s) if stamp else 0
        return CallSetup(self.name, self.identity.signing_public, value, self.codec, index)

    def _macs_for(self, public_key: bytes) -> InviteMacs:
        macs = self._peer_macs.get(public_key)
        if macs is None:
            if len(self._peer_macs) >= MAX_RATE_LIMITED_SOURCES:
                self._peer_macs.clear()
            macs = self._peer_macs[public_key] = InviteMacs(public_key)
        return macs

    def _end_active(self, now: float, how: Callable[[Call, float], None]) -> None:
        call = self.active
        if call is None:
            return
        self.active = None  # the machine has moved on; the call finishes quietly
        how(call, now)
        self._collect(call)

    def _collect(self, call: Call) -> None:
        for datagram in call.datagrams:
            self._out.datagrams.append((datagram, call.peer_addr))
        call.datagrams.clear()
        if call is self.active:
            self._out.events.extend(call.events)
            self._out.media.extend(call.media)
            if call.phase is Phase.CLOSED:
                self.active = None
        call.events.clear()
        call.media.clear()

    def _drop(self, reason: str, addr: Address, what: str) -> None:
        self.counters[reason] += 1
        log.debug("dropped %s from %s:%s: %s", what, addr[0], addr[1], reason)

    def _new_index(self) -> int:
        while True:
            index = int.from_bytes(self.random_bytes(SESSION_INDEX_BYTES), "little")
            if index != 0 and index not in self._calls:
                return index

    def _contact_by_key(self, key: bytes) -> Contact | None:
        return next((c for c in self.contacts() if c.public_key == key), None)
