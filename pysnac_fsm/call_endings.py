"""How a call ends: the reason and duration the hang-up screen shows, the request to the
`CallService` that ends it on the wire, and its line in the recent calls.

Every way out of a call state has a callback here, including `end_for_shutdown`: the
phone stopping is the table's `shut_down` trigger, so a call in progress is ended and
recorded ("Shut down") like any other, and leaving in_call stops media through its exit
hook.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pysnac.call_events import CallService, EventName, Failure
from pysnac.history import INCOMING, OUTGOING, CallRecord
from pysnac.limits import REASON_MAX_CHARS
from pysnac_fsm import table
from pysnac_fsm.call_context import ActiveCall, event_data, event_now
from pysnac_fsm.calls import PostTrigger, call_safely
from pysnac_fsm.ports import HistoryLike

log = logging.getLogger(__name__)

# Hang-up reasons (each fits one LCD line) when the event carries none.
DEFAULT_REASONS: dict[str, str] = {
    EventName.REMOTE_BUSY.value: "Busy",
    EventName.REMOTE_REJECTED.value: "Rejected",
    EventName.REMOTE_HUNG_UP.value: "Call ended",
    EventName.HANDSHAKE_FAILED.value: "Handshake failed",
    EventName.KEY_CHANGED.value: "KEY CHANGED",
    EventName.PEER_LOST.value: "Call lost",
    EventName.AUDIO_FAILED.value: "Audio failed",
    EventName.UNREACHABLE.value: "Unreachable",
    table.FAULT: "Error",
}
REASON_HUNG_UP = "Hung up"
REASON_NO_ANSWER = "No answer"
REASON_MISSED = "Missed call"
REASON_CANCELLED = "Cancelled"
REASON_REJECTED = "Rejected"
REASON_HANDSHAKE = "Handshake failed"
REASON_SHUT_DOWN = "Shut down"  # the phone stopped during the call


class CallEndings:
    """Callbacks that end a call and record it (a mixin of `PhoneModel`)."""

    state: str
    service: CallService
    _post: PostTrigger
    history: HistoryLike
    call: ActiveCall | None
    last_call: ActiveCall | None
    reason: str
    duration_s: float

    if TYPE_CHECKING:

        def _select_peer(self, name: str) -> bool: ...  # `Dial`
        def _keep_volume(self) -> None: ...  # `Calls`

    def _end(self, reason: str, now: float) -> None:
        self.reason = reason[:REASON_MAX_CHARS]
        call = self.call
        if call is not None and call.connected_at is not None:
            self.duration_s = max(0.0, now - call.connected_at)
        else:
            self.duration_s = 0.0

    def take_failure(self, event: Any) -> None:
        name = event.event.name
        failure = event_data(event)
        reason = DEFAULT_REASONS.get(name, "Call ended")
        if name == EventName.REMOTE_HUNG_UP.value and self.state == table.RINGING:
            reason = REASON_MISSED
        elif name != EventName.KEY_CHANGED.value and isinstance(failure, Failure):
            reason = failure.reason or reason
        if isinstance(failure, Failure) and failure.detail:
            log.warning("call ended (%s): %s", reason, failure.detail)
        self._end(reason, event_now(event))

    def cancel_outgoing(self, event: Any) -> None:
        call_safely(self._post, self.service.cancel_call)
        self._end(REASON_CANCELLED, event_now(event))
        self.record_call(event)

    def give_up_no_answer(self, event: Any) -> None:
        call_safely(self._post, self.service.cancel_call)
        self._end(REASON_NO_ANSWER, event_now(event))

    def reject_incoming(self, event: Any) -> None:
        call_safely(self._post, self.service.reject_call)
        self._end(REASON_REJECTED, event_now(event))
        self.record_call(event)

    def miss_incoming(self, event: Any) -> None:
        call_safely(self._post, self.service.reject_call)
        self._end(REASON_MISSED, event_now(event))

    def _abort_handshake(self) -> None:
        outgoing = self.call is None or self.call.outgoing
        end = self.service.cancel_call if outgoing else self.service.reject_call
        call_safely(self._post, end)

    def abort_key_exchange(self, event: Any) -> None:
        self._abort_handshake()
        self._end(REASON_CANCELLED, event_now(event))

    def handshake_timed_out(self, event: Any) -> None:
        self._abort_handshake()
        self._end(REASON_HANDSHAKE, event_now(event))

    def hang_up_local(self, event: Any) -> None:
        call_safely(self._post, self.service.hang_up)
        self._end(REASON_HUNG_UP, event_now(event))

    def end_for_shutdown(self, event: Any) -> None:
        """`shut_down` in any state: end the call in progress on the wire and record it
        (in_call's exit hook then stops media). Nothing to do outside a call."""
        self._keep_volume()
        ends = {
            table.DIALING: self.service.cancel_call,
            table.RINGING: self.service.reject_call,
            table.IN_CALL: self.service.hang_up,
        }
        if self.state == table.KEY_EXCHANGE:
            self._abort_handshake()
        elif self.state in ends:
            call_safely(self._post, ends[self.state])
        else:
            return
        self._end(REASON_SHUT_DOWN, event_now(event))
        self.record_call(event)

    def record_turned_away(self, event: Any) -> None:
        """Someone called and the call service answered for us (busy during a call, or no
        sound device): the recent calls show the attempt."""
        failure = event_data(event)
        if isinstance(failure, Failure):
            self.history.add(CallRecord(INCOMING, failure.peer or "?", 0.0, failure.reason))

    def record_call(self, event: Any) -> None:
        """Entering hangup (or ending before connect): one line in the recent calls."""
        call = self.call
        if call is None:
            return
        self.history.add(
            CallRecord(
                direction=OUTGOING if call.outgoing else INCOMING,
                peer=call.peer,
                duration_s=round(self.duration_s, 1),
                outcome=self.reason,
            )
        )
        self._select_peer(call.peer)  # the home screen now offers to call them back
        self.last_call = call
        self.call = None
