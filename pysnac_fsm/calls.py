"""The model's side of a call: asking the `CallService` to place, answer and carry a call,
and keeping what the call screens show (who, SAS, volume, mute, link).

Every request goes through `call_safely`: a service method that raises does not kill the
phone; the error is logged and a `fault` event ends the call with the error's reason.
How a call ends (and its line in the recent calls) is `pysnac_fsm.call_endings`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pysnac.call_events import (
    CallService,
    Discovered,
    Established,
    Failure,
    IncomingCall,
    LinkStats,
)
from pysnac.errors import PysnacError
from pysnac.limits import REASON_MAX_CHARS, VOLUME_MAX, VOLUME_MIN
from pysnac.tones import Tone
from pysnac_fsm import table
from pysnac_fsm.call_context import ActiveCall, event_data, event_now

log = logging.getLogger(__name__)

PostTrigger = Callable[[str, Any], None]


def call_safely(post: PostTrigger, method: Callable[..., object], *args: Any) -> bool:
    """Call a `CallService` method; on error log it and post `fault` (ends the call)."""
    try:
        method(*args)
    except Exception as exc:
        name = method.__name__  # a bound CallService method: `place_call`, ...
        reason = exc.reason if isinstance(exc, PysnacError) else f"{name} failed"
        log.error("call service %s raised: %s", name, exc, exc_info=True)
        post(table.FAULT, Failure(reason=reason[:REASON_MAX_CHARS], detail=str(exc)))
        return False
    return True


class Calls:
    """Callbacks that start and carry a call (a mixin of `PhoneModel`)."""

    service: CallService
    _post: PostTrigger
    discovered: Discovered | None
    repairing: bool
    call: ActiveCall | None
    reason: str
    volume: int
    _saved_volume: int
    _save_volume: Callable[[int], None] | None
    muted: bool
    link: LinkStats

    def forget_call(self, event: Any) -> None:
        self.call = None

    def place_call(self, event: Any) -> None:
        if self.call is not None and self.call.contact is not None:
            call_safely(self._post, self.service.place_call, self.call.contact)

    def start_ringback(self, event: Any) -> None:
        if self.call is not None:
            if not self.call.ringback:  # RINGING may be repeated: one tone
                self._tone(Tone.RINGBACK)
            self.call.ringback = True

    def start_ring(self, event: Any) -> None:
        self._tone(Tone.RING)

    def stop_tone(self, event: Any) -> None:
        self._tone(None)

    def _tone(self, tone: Tone | None) -> None:
        """Start or stop a call-progress tone; a fault is logged, never ends the call (a
        phone without a speaker still rings on its screen and still answers)."""
        try:
            if tone is None:
                self.service.stop_tone()
            else:
                self.service.start_tone(tone, self.volume)
        except Exception as exc:
            log.error("%s tone failed: %s", tone or "stopping the", exc)

    def take_incoming(self, event: Any) -> None:
        incoming = event_data(event)
        if not isinstance(incoming, IncomingCall):
            incoming = IncomingCall(peer_name="?", public_key=b"", known=False, fingerprint="")
        self.discovered = None  # a pending pairing offer is dropped when the phone rings
        self.repairing = False
        self.call = ActiveCall(
            peer=incoming.peer_name,
            outgoing=False,
            known=incoming.known,
            fingerprint=incoming.fingerprint,
        )
        self.reason = ""

    def take_refused_caller(self, event: Any) -> None:
        """A pinned contact called with another key (refused by the call service): the
        hang-up screen and the recent calls name who it claimed to be."""
        failure = event_data(event)
        peer = failure.peer if isinstance(failure, Failure) and failure.peer else "?"
        self.discovered = None
        self.repairing = False
        self.call = ActiveCall(peer=peer, outgoing=False)

    def answer_call(self, event: Any) -> None:
        call_safely(self._post, self.service.answer_call)

    def take_established(self, event: Any) -> None:
        established = event_data(event)
        if self.call is None:
            self.call = ActiveCall(peer="?", outgoing=True)
        if isinstance(established, Established):
            self.call.sas = established.sas
            if established.peer_name:
                self.call.peer = established.peer_name
        self.call.connected_at = event_now(event)
        self.link = LinkStats()

    def start_media(self, event: Any) -> None:
        self.muted = False
        call_safely(self._post, self.service.start_media)
        call_safely(self._post, self.service.set_volume, self.volume)

    def stop_media(self, event: Any) -> None:
        # Leaving in_call must not fail: a failure here is logged, the call still ends.
        try:
            self.link = self.service.link_stats()
        except Exception:
            log.exception("link_stats failed")
        try:
            self.service.stop_media()
        except Exception:
            log.exception("stop_media failed")
        self._keep_volume()

    def raise_volume(self, event: Any) -> None:
        self.volume = min(VOLUME_MAX, self.volume + 1)
        call_safely(self._post, self.service.set_volume, self.volume)

    def lower_volume(self, event: Any) -> None:
        self.volume = max(VOLUME_MIN, self.volume - 1)
        call_safely(self._post, self.service.set_volume, self.volume)

    def _keep_volume(self) -> None:
        """Save a changed level for the next start, once per call (leaving in_call or at
        shutdown), not on every press: a config write (fsync) on an SD card is slow. A
        failed save is one log line."""
        if self._save_volume is None or self.volume == self._saved_volume:
            return
        self._saved_volume = self.volume
        try:
            self._save_volume(self.volume)
        except PysnacError as exc:
            log.error("volume not saved: %s", exc)

    def flip_mute(self, event: Any) -> None:
        self.muted = not self.muted
        call_safely(self._post, self.service.set_muted, self.muted)

    def refresh_link(self, event: Any) -> None:
        try:
            self.link = self.service.link_stats()
        except Exception:
            log.exception("link_stats failed")
