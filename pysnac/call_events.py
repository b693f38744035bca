"""The vocabulary between the phone's state machine and the call service.

The state machine calls `CallService` methods from its state entry/exit hooks (on the
state-machine thread; each returns quickly). The call service, its network and audio
workers report back only by posting `CallEvent`s to the machine's queue. Neither side
touches the other's state. This module is the whole contract; both sides and their
simulated twins are tested against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from pysnac.contacts import Contact


class EventName(StrEnum):
    """Triggers the call service posts. Each is a trigger name in the state table."""

    INCOMING_CALL = "incoming_call"  # data: IncomingCall
    REMOTE_RINGING = "remote_ringing"  # the callee's phone rings (caller side)
    REMOTE_ACCEPTED = "remote_accepted"  # the callee answered; key exchange starts
    CALL_ESTABLISHED = "call_established"  # handshake done both ways; data: Established
    REMOTE_REJECTED = "remote_rejected"
    REMOTE_BUSY = "remote_busy"
    REMOTE_HUNG_UP = "remote_hung_up"  # bye, or the caller cancelled while ringing
    HANDSHAKE_FAILED = "handshake_failed"  # data: Failure
    KEY_CHANGED = "key_changed"  # a pinned contact answered with another key; data: Failure
    PEER_LOST = "peer_lost"  # no media or keepalive for the peer-lost time (PEER_LOST_S)
    AUDIO_FAILED = "audio_failed"  # data: Failure (names the device)
    UNREACHABLE = "unreachable"  # no address for the contact / network error; data: Failure
    # A caller answered busy (during a call) or "no audio" (no sound device); data: Failure
    # whose reason is the recent-calls outcome and whose peer is the caller.
    CALLER_TURNED_AWAY = "caller_turned_away"
    # Posted by the rendezvous, not the call service:
    CONTACT_DISCOVERED = "contact_discovered"  # an unknown phone found nearby; data: Discovered
    DIRECTORY_STATUS = "directory_status"  # the rendezvous went on/offline; data: DirectoryStatus
    # Posted by the app's power-on check of the sound device:
    AUDIO_STATUS = "audio_status"  # data: Failure (reason names the device), or None when fine


@dataclass(frozen=True)
class IncomingCall:
    """Who is calling: authenticated by the handshake before the phone rings."""

    peer_name: str  # the pinned contact's name, or the name the caller gave if unknown
    public_key: bytes  # the caller's authenticated Ed25519 identity key
    known: bool  # True when public_key is pinned in our contacts
    fingerprint: str  # short human fingerprint of public_key


@dataclass(frozen=True)
class Established:
    """A call whose keys are agreed: `sas` is the 4-character short authentication string."""

    sas: str
    peer_name: str


@dataclass(frozen=True)
class Failure:
    """Why something failed: `reason` fits one 16-character LCD line."""

    reason: str
    detail: str = ""
    peer: str = ""  # who, when the failure concerns a call from someone (a refused caller)


@dataclass(frozen=True)
class Discovered:
    """A phone the rendezvous found whose key is not pinned: the user may accept it (TOFU)."""

    contact: Contact
    fingerprint: str


@dataclass(frozen=True)
class DirectoryStatus:
    """Whether a rendezvous backend is reachable, for the Idle screen's indicator."""

    backend: str
    online: bool


@dataclass(frozen=True)
class CallEvent:
    name: EventName
    data: IncomingCall | Established | Failure | Discovered | DirectoryStatus | None = None


@dataclass
class LinkStats:
    """What the InCall screen and the hang-up summary show."""

    quality_bars: int = 0  # 0..4: the link score of the worse direction (media/link_score)
    loss_percent: float = 0.0
    rtt_ms: float | None = None
    frames_sent: int = 0
    frames_received: int = 0
    frames_concealed: int = 0
    input_overflows: int = 0
    output_underruns: int = 0
    relayed: bool = False  # the media goes through a TURN relay (no direct path)
    extra: dict[str, float] = field(default_factory=dict)
    reconnecting_s: float | None = None  # seconds without packets in an outage; None: flowing


PATH_DIRECT = "direct"  # which path carried a call's media (LinkStats.relayed, the call log)
PATH_RELAY = "relay"

PostEvent = Callable[[CallEvent], None]


class CallService(Protocol):
    """What the state machine and the runtime ask of the network and audio side: the whole
    contract (the model and `pysnac.runtime` call nothing else). Never blocks long, except
    `wait_ready` and `close`, which only the runtime calls, never the machine's thread."""

    # ---- lifecycle (the runtime: `Phone.start`, `Phone.stop`, start-up steps) ----------

    def start(self) -> object:
        """Start the service's threads (socket, timers, media preload). Called once."""

    def close(self) -> None:
        """Stop media and every thread, release the socket. Idempotent."""

    def wait_ready(self, timeout_s: float) -> bool:
        """Until a call needs no slow loading any more (the media stack is imported);
        False on timeout. Start-up steps wait on it rather than import alongside it."""

    @property
    def local_address(self) -> tuple[str, int] | None:
        """The (host, port) the service receives on (published to peers); None: none."""

    # ---- calls (the state machine's hooks) ---------------------------------------------

    def place_call(self, contact: Contact) -> None:
        """Send an invite; answers arrive later as events."""

    def cancel_call(self) -> None:
        """The caller gave up before an answer (Select in Dialing, or no-answer timeout)."""

    def answer_call(self) -> None:
        """The callee pressed Select while ringing: complete the handshake."""

    def reject_call(self) -> None:
        """The callee pressed Left while ringing, or the ring timed out."""

    def hang_up(self) -> None:
        """End an established call (sends bye)."""

    def start_media(self) -> None:
        """Start capture/encode/send and receive/decode/playout (entering InCall)."""

    def stop_media(self) -> None:
        """Stop and join every media worker (leaving InCall)."""

    def set_volume(self, level: int) -> None:
        """Playout volume 0..10."""

    def start_tone(self, tone: str, level: int) -> None:
        """Play a `pysnac.tones.Tone` (the ring entering Ringing, the ring-back when the
        callee rings) at volume 0..10 until `stop_tone`; no sound device is no tone."""

    def stop_tone(self) -> None:
        """Stop the tone and release the sound device (leaving Ringing or Dialing)."""

    def set_muted(self, muted: bool) -> None:
        """Send silence instead of the microphone."""

    def link_stats(self) -> LinkStats:
        """A snapshot for the screen; cheap and thread-safe."""
