"""One call's signalling state: pure, `now` in, datagrams, events and a deadline out.

Theory of operation (h11 style). A `Call` is either the caller's or the callee's side of
one call id. Its `phase` moves along a small table:

    caller: INVITING -> REMOTE_RINGING -> ESTABLISHED -> CLOSING -> CLOSED
    callee: INCOMING -> ACCEPTING -> ESTABLISHED -> CLOSING -> CLOSED

Every message a side must get through (INVITE, ACCEPT, CANCEL, REJECT, BYE) is repeated
with exponential backoff (RETRANSMIT_INITIAL_S doubling to RETRANSMIT_MAX_S) until the
answer that proves it arrived, or until its give-up time. The callee's ACCEPT is answered
by the caller's first transport packet (a CONFIRM sent at once, carrying the caller's SAS
nonce that opens the commitment in its INVITE): that is key confirmation, as in WireGuard,
and only then does the callee show the SAS and send anything encrypted. A repeated
INVITE gets the latest answer again, at most MAX_REPLY_REPEATS times, REPLY_REPEAT_MIN_S
apart. A finished call is CLOSED but lingers for LINGER_S to answer retransmissions (a
repeated BYE gets BYE_ACK).
An established call survives silence: after RECONNECTING_AFTER_S without an authenticated
packet it is in an outage (`silent_s` says how long, for the LCD), it keeps sending (media,
or keepalives when there is none), and it ends with PEER_LOST only after `peer_lost_s`.
A BYE is repeated for as long (the far end should see "Call ended", not "Call lost").
Methods append to `datagrams` (for the peer's address), `events` (for the state machine)
and `media` (decrypted media payloads); the endpoint drains them. A packet that fails
authentication raises `Dropped` before anything is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pysnac.call import wire
from pysnac.call.limits import (
    ACCEPT_GIVE_UP_S,
    CLOSE_GIVE_UP_S,
    INVITE_GIVE_UP_S,
    KEEPALIVE_S,
    LINGER_S,
    MAX_OUTAGES_KEPT,
    MAX_REPLY_REPEATS,
    PEER_LOST_S,
    RECONNECTING_AFTER_S,
    REPLY_REPEAT_MIN_S,
    RETRANSMIT_BACKOFF,
    RETRANSMIT_INITIAL_S,
    RETRANSMIT_MAX_S,
)
from pysnac.call.wire import Content, PacketType
from pysnac.call_events import CallEvent, Established, EventName, Failure
from pysnac.channel.call_handshake import CallHandshake
from pysnac.channel.errors import BadPacket, ChannelError, HandshakeFailed, ReplayedPacket
from pysnac.channel.identity import Identity, fingerprint, verify_signature
from pysnac.channel.transport import PacketOpener, PacketSealer

Address = tuple[str, int]


class Role(StrEnum):
    CALLER = "caller"
    CALLEE = "callee"


class Phase(StrEnum):
    INVITING = "inviting"  # caller: INVITE sent, nothing back yet
    REMOTE_RINGING = "remote_ringing"  # caller: the callee's phone rings
    INCOMING = "incoming"  # callee: our phone rings
    ACCEPTING = "accepting"  # callee: ACCEPT sent, waiting for key confirmation
    ESTABLISHED = "established"
    CLOSING = "closing"  # CANCEL, REJECT or BYE sent, waiting for its answer
    CLOSED = "closed"  # over; lingers to answer retransmissions


class Dropped(Exception):
    """A packet this call will not act on; `reason` names the counter to increment."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signal_signature_input(header: bytes) -> bytes:
    return wire.SIGNAL_CONTEXT + header


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """verify_signature as a bool, whether it raises or returns on a bad signature."""
    try:
        result = verify_signature(public_key, message, signature)
    except (ChannelError, ValueError):
        return False
    return result is not False


@dataclass
class _Repeat:
    """One message being retransmitted until answered."""

    datagram: bytes
    next_at: float
    interval_s: float
    give_up_at: float
    first_sent_at: float
    sends: int = 1


class Call:
    """One side of one call. Construct with `Call.outgoing` or `Call.incoming`."""

    def __init__(
        self,
        *,
        role: Role,
        identity: Identity,
        call_id: bytes,
        local_index: int,
        peer_addr: Address,
        peer_name: str,
        peer_key: bytes,
        handshake: CallHandshake | None,
        now: float,
        peer_lost_s: float = PEER_LOST_S,
    ) -> None:
        self.role = role
        self.peer_lost_s = peer_lost_s
        self.identity = identity
        self.call_id = call_id
        self.local_index = local_index
        self.remote_index: int | None = None
        self.peer_addr = peer_addr
        self.peer_name = peer_name
        self.peer_key = peer_key  # the peer's Ed25519 key: pinned (caller) or authenticated
        self.handshake = handshake
        self.phase = Phase.INVITING if role is Role.CALLER else Phase.INCOMING
        self.sas: str | None = None
        self.rtt_s: float | None = None  # from the handshake's round trip (Karn's rule)
        self.started_at = now
        self.established_at: float | None = None
        self.closed_at: float | None = None
        self.datagrams: list[bytes] = []
        self.events: list[CallEvent] = []
        self.media: list[bytes] = []
        self.last_reply: bytes | None = None  # callee: what a repeated INVITE gets
        self._reply_repeats = 0
        self._last_repeat_at = float("-inf")
        self.invite_body: bytes | None = None  # caller: the INVITE before its macs
        self.invite_mac1: bytes | None = None
        self.cookies_used = 0  # caller: cookies whose mac2 our INVITE carried
        self._repeat: _Repeat | None = None
        self._closing_reply: bytes | None = None  # answer to the peer's repeated close
        self._closing_with: PacketType | Content | None = None  # what CLOSING waits to be acked
        self._sealer: PacketSealer | None = None
        self._opener: PacketOpener | None = None
        self._accept: bytes | None = None  # caller: the ACCEPT we acted on
        self._sas_nonce = b""  # caller: revealed in every CONFIRM
        self._last_rx = now
        self._last_tx = now
        self.packets_sent = 0
        self.packets_received = 0
        self.outages: list[tuple[float, float]] = []  # (silent since, packets back at)

    # ---- construction ---------------------------------------------------------------

    @classmethod
    def outgoing(
        cls,
        *,
        invite: bytes,
        identity: Identity,
        call_id: bytes,
        local_index: int,
        peer_addr: Address,
        peer_name: str,
        peer_key: bytes,
        handshake: CallHandshake,
        now: float,
        peer_lost_s: float = PEER_LOST_S,
    ) -> Call:
        """Caller: `invite` (built around Noise IK message 1) goes out now and repeats."""
        call = cls(
            peer_lost_s=peer_lost_s,
            role=Role.CALLER,
            identity=identity,
            call_id=call_id,
            local_index=local_index,
            peer_addr=peer_addr,
            peer_name=peer_name,
            peer_key=peer_key,
            handshake=handshake,
            now=now,
        )
        call._send_repeated(invite, now, INVITE_GIVE_UP_S)
        return call

    @classmethod
    def incoming(
        cls,
        *,
        remote_index: int,
        identity: Identity,
        call_id: bytes,
        local_index: int,
        peer_addr: Address,
        peer_name: str,
        peer_key: bytes,
        handshake: CallHandshake,
        now: float,
        first_reply: PacketType | None = None,
        peer_lost_s: float = PEER_LOST_S,
    ) -> Call:
        """Callee, after the INVITE authenticated: RINGING, or a final BUSY/REJECT
        (`first_reply`) for a call we refuse."""
        call = cls(
            peer_lost_s=peer_lost_s,
            role=Role.CALLEE,
            identity=identity,
            call_id=call_id,
            local_index=local_index,
            peer_addr=peer_addr,
            peer_name=peer_name,
            peer_key=peer_key,
            handshake=handshake,
            now=now,
        )
        call.remote_index = remote_index
        call.last_reply = call._signal(first_reply or PacketType.RINGING)
        call._send(call.last_reply, now)
        if first_reply is not None:
            call._close(now)
        return call

    # ---- what the state machine asks -------------------------------------------------

    def answer(self, noise_message: bytes, now: float) -> None:
        """Callee: send ACCEPT (Noise IK message 2, already written by the endpoint)."""
        if self.phase is not Phase.INCOMING or self.remote_index is None:
            return
        accept = wire.encode_accept(
            self.call_id, self.local_index, self.remote_index, noise_message
        )
        self._install_keys()
        self.last_reply = accept
        self.phase = Phase.ACCEPTING
        self._send_repeated(accept, now, ACCEPT_GIVE_UP_S)

    def reject(self, now: float) -> None:
        """Callee: REJECT while ringing; repeated until the caller's CANCEL answers it."""
        if self.phase in (Phase.INCOMING, Phase.ACCEPTING):
            # In ACCEPTING the caller may not hold the keys yet, so a signed REJECT it can
            # always check, rather than a BYE it perhaps cannot open.
            self.last_reply = self._signal(PacketType.REJECT)
            self._close_repeating(self.last_reply, now, PacketType.REJECT)
        elif self.phase is Phase.ESTABLISHED:
            self.hang_up(now)

    def cancel(self, now: float) -> None:
        """Caller: give up before the call is established."""
        if self.phase in (Phase.INVITING, Phase.REMOTE_RINGING):
            # Before any answer the callee's index is unknown: the CANCEL names index 0 and
            # the callee finds the call by its call id.
            self._close_repeating(self._signal(PacketType.CANCEL), now, PacketType.CANCEL)
        elif self.phase is Phase.ESTABLISHED:
            self.hang_up(now)

    def hang_up(self, now: float) -> None:
        """Either side: BYE, repeated until BYE_ACK or the peer-lost time passes."""
        if self.phase is Phase.ESTABLISHED:
            bye = self._seal(Content.BYE)
            self._close_repeating(bye, now, Content.BYE, give_up_s=self.peer_lost_s)
        elif self.phase in (Phase.INVITING, Phase.REMOTE_RINGING):
            self.cancel(now)
        elif self.phase in (Phase.INCOMING, Phase.ACCEPTING):
            self.reject(now)

    def seal_media(self, payload: bytes, now: float) -> bytes | None:
        """A MEDIA transport datagram, or None when the call cannot carry media now."""
        if self.phase is not Phase.ESTABLISHED:
            return None
        self._last_tx = now
        self.packets_sent += 1
        return self._seal(Content.MEDIA, payload)

    # ---- what the network brings ------------------------------------------------------

    def on_signal(self, signal: wire.Signal, now: float) -> None:
        if signal.call_id != self.call_id:
            raise Dropped("unknown_call")
        if self.remote_index is not None and signal.sender_index != self.remote_index:
            raise Dropped("unknown_call")
        if not verify(self.peer_key, signal_signature_input(signal.signed), signal.signature):
            raise Dropped("bad_signature")
        if self.role is Role.CALLER:
            self._caller_signal(signal, now)
        else:
            self._callee_signal(signal, now)

    def _caller_signal(self, signal: wire.Signal, now: float) -> None:
        kind = signal.type
        if kind is PacketType.CANCEL:
            raise Dropped("unexpected")
        if self.phase is Phase.INVITING or self.phase is Phase.REMOTE_RINGING:
            self.remote_index = signal.sender_index
            if kind is PacketType.RINGING:
                if self.phase is Phase.INVITING:
                    self.phase = Phase.REMOTE_RINGING
                    self._answered(now)
                    self._post(EventName.REMOTE_RINGING)
            elif kind is PacketType.BUSY:
                self._post(EventName.REMOTE_BUSY)
                self._close(now)
            elif kind is PacketType.NO_AUDIO:  # "bob: no audio" on the caller's screen
                reason = f"{self.peer_name}: no audio"
                detail = f"{self.peer_name} has no working sound device"
                self._post(EventName.REMOTE_REJECTED, Failure(reason, detail, self.peer_name))
                self._close(now)
            elif kind is PacketType.REJECT:
                self._post(EventName.REMOTE_REJECTED)
                self._closing_reply = self._signal(PacketType.CANCEL)
                self._send(self._closing_reply, now)
                self._close(now)
        elif self.phase is Phase.ESTABLISHED and kind is PacketType.REJECT:
            # The callee hung up before our key confirmation reached it.
            self._post(EventName.REMOTE_HUNG_UP)
            self._closing_reply = self._signal(PacketType.CANCEL)
            self._send(self._closing_reply, now)
            self._close(now)
        elif self.phase is Phase.CLOSING and kind is PacketType.REJECT:
            self._close(now)  # the callee acknowledged our CANCEL (or our BYE crossed it)
        elif self.phase is Phase.CLOSED and kind is PacketType.REJECT and self._closing_reply:
            self._send(self._closing_reply, now)

    def _callee_signal(self, signal: wire.Signal, now: float) -> None:
        if signal.type is not PacketType.CANCEL:
            raise Dropped("unexpected")
        if self.phase in (Phase.INCOMING, Phase.ACCEPTING):
            self._post(EventName.REMOTE_HUNG_UP)
            self._closing_reply = self._signal(PacketType.REJECT)
            self.last_reply = self._closing_reply
            self._send(self._closing_reply, now)
            self._close(now)
        elif self.phase is Phase.CLOSING and self._closing_with is PacketType.REJECT:
            self._close(now)  # the caller acknowledged our REJECT
        elif self.phase is Phase.CLOSED and self._closing_reply:
            self._send(self._closing_reply, now)

    def on_accept(self, accept: wire.Accept, now: float) -> None:
        """Caller: the callee answered with Noise IK message 2."""
        if self.role is not Role.CALLER or accept.call_id != self.call_id:
            raise Dropped("unknown_call")
        if self._accept is not None:
            if accept.noise == self._accept and self.phase is Phase.ESTABLISHED:
                self._send(self._confirmation(), now)  # our confirmation was lost
                return
            raise Dropped("unexpected")
        if self.phase not in (Phase.INVITING, Phase.REMOTE_RINGING) or self.handshake is None:
            raise Dropped("unexpected")
        try:
            self.handshake.read_message(accept.noise, sender_index=accept.sender_index)
        except (ChannelError, ValueError) as exc:  # HandshakeFailed: not an authentic ACCEPT
            raise Dropped("bad_handshake") from exc
        self._accept = accept.noise
        self.remote_index = accept.sender_index
        self._install_keys()
        self._sas_nonce = self.handshake.sas_reveal
        self.sas = self.handshake.sas  # we committed first: both nonces are known now
        self._answered(now)
        self._established(now)
        self._post(EventName.REMOTE_ACCEPTED)
        self._post(EventName.CALL_ESTABLISHED, Established(self.sas or "", self.peer_name))
        self._send(self._confirmation(), now)  # key confirmation, opening our commitment

    def _confirmation(self) -> bytes:
        return self._seal(Content.CONFIRM, self._sas_nonce)

    def on_wrong_key(self, packet: wire.WrongKey, now: float) -> None:
        """Caller: whoever is at the address says our INVITE's mac1 is not for its key.
        Unsigned (it must not name or prove a key to a stranger), so it proves nothing: it
        only ends a call the pinned key has not spoken for, as dropping packets would."""
        if self.role is not Role.CALLER or packet.call_id != self.call_id:
            raise Dropped("unknown_call")
        if self.phase is not Phase.INVITING:
            raise Dropped("unexpected")  # the pinned key already spoke for this call
        where = f"{self.peer_addr[0]}:{self.peer_addr[1]}"
        detail = f"the phone at {where} does not hold key {fingerprint(self.peer_key)}"
        self._post(EventName.HANDSHAKE_FAILED, Failure("Wrong peer key", detail))
        self._close(now)

    def use_cookie(self, datagram: bytes, now: float) -> None:
        """Caller: the callee is under load and sent a cookie; resend the INVITE (now with
        mac2) at once and in its retransmissions (a later cookie, after the callee's secret
        changed, replaces it)."""
        if self.phase is not Phase.INVITING or self._repeat is None:
            raise Dropped("unexpected")
        self.cookies_used += 1
        self._repeat.datagram = datagram
        self._repeat.sends += 1  # Karn: the round trip is no longer measurable
        self._send(datagram, now)

    def on_transport(self, packet: wire.Transport, addr: Address, now: float) -> None:
        if self._opener is None:
            raise Dropped("unknown_session")
        try:
            _, _, plaintext = self._opener.open(packet.packet, wire.TRANSPORT_HEADER_BYTES)
        except ReplayedPacket as exc:
            raise Dropped("replayed") from exc
        except BadPacket as exc:
            raise Dropped("unauthenticated") from exc
        try:
            kind, body = wire.parse_content(plaintext)
        except wire.MalformedPacket as exc:
            raise Dropped("malformed") from exc
        if self.phase is Phase.ACCEPTING:
            if kind is not Content.CONFIRM:
                raise Dropped("unconfirmed")  # key confirmation comes first (or is repeated)
            self._confirmed(body, now)
        outage = now - self._last_rx >= RECONNECTING_AFTER_S
        if outage and self.phase is Phase.ESTABLISHED and len(self.outages) < MAX_OUTAGES_KEPT:
            self.outages.append((self._last_rx, now))
        self._last_rx = max(self._last_rx, now)
        self.packets_received += 1
        self.peer_addr = addr  # authenticated: follow the peer if its address changed
        if kind is Content.MEDIA:
            if self.phase is Phase.ESTABLISHED:
                self.media.append(body)
        elif kind is Content.BYE:
            self._send(self._seal(Content.BYE_ACK), now)
            if self.phase is Phase.ESTABLISHED:
                self._post(EventName.REMOTE_HUNG_UP)
                self._close(now)
        elif kind is Content.BYE_ACK and self.phase is Phase.CLOSING:
            self._close(now)

    def _confirmed(self, nonce: bytes, now: float) -> None:
        """Callee: the caller's CONFIRM must open the SAS commitment of its INVITE."""
        assert self.handshake is not None
        try:
            self.handshake.open_commitment(nonce)
        except HandshakeFailed as exc:  # the authenticated caller cheated: no SAS, no call
            failure = Failure("Handshake failed", "the caller's SAS nonce broke its commitment")
            self._post(EventName.HANDSHAKE_FAILED, failure)
            self._close(now)
            raise Dropped("bad_commitment") from exc
        self.sas = self.handshake.sas
        self._answered(now)
        self._established(now)
        self._post(EventName.CALL_ESTABLISHED, Established(self.sas or "", self.peer_name))

    def on_invite_repeat(self, now: float) -> None:
        """Callee: the caller repeated its INVITE; repeat our latest answer (bounded)."""
        if self.last_reply is None:
            return
        if self._reply_repeats >= MAX_REPLY_REPEATS:
            raise Dropped("repeat_limit")
        if now - self._last_repeat_at < REPLY_REPEAT_MIN_S:
            raise Dropped("repeat_limit")
        self._reply_repeats += 1
        self._last_repeat_at = now
        self._send(self.last_reply, now)

    # ---- time ------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        if self.phase is Phase.CLOSED:
            return (self.closed_at or 0.0) + LINGER_S
        deadlines = []
        if self._repeat is not None:
            deadlines.append(min(self._repeat.next_at, self._repeat.give_up_at))
        if self.phase is Phase.ESTABLISHED:
            deadlines.append(self._last_tx + KEEPALIVE_S)
            deadlines.append(self._last_rx + self.peer_lost_s)
        return min(deadlines) if deadlines else None

    def silent_s(self, now: float) -> float | None:
        """How long an established call has heard nothing, once that is an outage
        (RECONNECTING_AFTER_S); None while packets flow or outside an established call."""
        if self.phase is not Phase.ESTABLISHED:
            return None
        silent = now - self._last_rx
        return silent if silent >= RECONNECTING_AFTER_S else None

    def expired(self, now: float) -> bool:
        """True once a closed call has lingered long enough to be forgotten."""
        return self.phase is Phase.CLOSED and now >= (self.closed_at or 0.0) + LINGER_S

    def handle_timer(self, now: float) -> None:
        repeat = self._repeat
        if repeat is not None and now >= repeat.give_up_at:
            self._repeat = None
            self._give_up(now)
        elif repeat is not None and now >= repeat.next_at:
            self.datagrams.append(repeat.datagram)
            self._last_tx = now
            repeat.interval_s = min(repeat.interval_s * RETRANSMIT_BACKOFF, RETRANSMIT_MAX_S)
            repeat.next_at = now + repeat.interval_s
            repeat.sends += 1
        if self.phase is Phase.ESTABLISHED:
            if now >= self._last_rx + self.peer_lost_s:
                self._post(EventName.PEER_LOST)
                self._close(now)
            elif now >= self._last_tx + KEEPALIVE_S:
                self._send(self._seal(Content.KEEPALIVE), now)

    def _give_up(self, now: float) -> None:
        if self.phase is Phase.INVITING:
            where = f"{self.peer_addr[0]}:{self.peer_addr[1]}"
            self._post(EventName.UNREACHABLE, Failure("No reply", f"no answer from {where}"))
        elif self.phase is Phase.ACCEPTING:
            failure = Failure("Handshake failed", "the caller never confirmed the keys")
            self._post(EventName.HANDSHAKE_FAILED, failure)
        self._close(now)

    # ---- helpers ---------------------------------------------------------------------

    def _signal(self, kind: PacketType) -> bytes:
        header = wire.signal_header(kind, self.call_id, self.local_index, self.remote_index or 0)
        return wire.encode_signal(header, self.identity.sign(signal_signature_input(header)))

    def _install_keys(self) -> None:
        assert self.handshake is not None
        keys = self.handshake.session_keys()
        self._sealer = PacketSealer(keys.send_key)
        self._opener = PacketOpener(keys.recv_key)

    def _seal(self, kind: Content, body: bytes = b"") -> bytes:
        assert self._sealer is not None and self.remote_index is not None
        header = wire.transport_header(self.remote_index)
        return self._sealer.seal(header, wire.encode_content(kind, body))

    def _answered(self, now: float) -> None:
        """The repeated message got its answer: stop repeating; measure the round trip
        when it went out only once (Karn's rule, RFC 6298 section 3)."""
        repeat, self._repeat = self._repeat, None
        if repeat is not None and repeat.sends == 1 and self.rtt_s is None:
            self.rtt_s = now - repeat.first_sent_at

    def _established(self, now: float) -> None:
        self.phase = Phase.ESTABLISHED
        self.established_at = now
        self._last_rx = now
        self._last_tx = now
        self.handshake = None  # ephemeral secrets live no longer than needed

    def _send(self, datagram: bytes, now: float) -> None:
        self.datagrams.append(datagram)
        self._last_tx = now

    def _send_repeated(self, datagram: bytes, now: float, give_up_s: float) -> None:
        self._send(datagram, now)
        self._repeat = _Repeat(
            datagram, now + RETRANSMIT_INITIAL_S, RETRANSMIT_INITIAL_S, now + give_up_s, now
        )

    def _close_repeating(
        self,
        datagram: bytes,
        now: float,
        closing_with: PacketType | Content,
        give_up_s: float = CLOSE_GIVE_UP_S,
    ) -> None:
        self.phase = Phase.CLOSING
        self._closing_with = closing_with
        self._send_repeated(datagram, now, give_up_s)

    def _close(self, now: float) -> None:
        self.phase = Phase.CLOSED
        self.closed_at = now
        self._repeat = None
        self.handshake = None

    def _post(self, name: EventName, data: Established | Failure | None = None) -> None:
        self.events.append(CallEvent(name, data))
