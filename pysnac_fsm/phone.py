"""The phone model: the object the `transitions` machine drives, holding the call context.

The machine built from `pysnac_fsm.table` attaches `state` and the trigger methods to a
`PhoneModel`; the callbacks the table names live by concern in small mixins: `Dial` (whom
Select calls), `Menus`, `TextEntry`, `Pairing`, `Calls` (asking the `CallService` to act)
and `CallEndings` (how a call ends and is recorded); `screen_snapshot` reads the model
for the screens. The model owns no thread, socket or clock: each event carries `now`
(monotonic seconds) in its keyword arguments, and anything that must happen later is a
timer in the table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pysnac.call_events import CallService, DirectoryStatus, Discovered, Failure, LinkStats
from pysnac.history import CallRecord
from pysnac.limits import VOLUME_DEFAULT
from pysnac_fsm.call_context import ActiveCall, event_data
from pysnac_fsm.call_endings import CallEndings
from pysnac_fsm.calls import Calls
from pysnac_fsm.dial import Dial
from pysnac_fsm.menus import Menus
from pysnac_fsm.pairing import Pairing
from pysnac_fsm.ports import HistoryLike, NewKeysLike, PhonebookLike
from pysnac_fsm.screen_context import ScreenContext
from pysnac_fsm.snapshot import screen_snapshot
from pysnac_fsm.text_entry import TextEntry

log = logging.getLogger(__name__)


class PhoneModel(Dial, Menus, TextEntry, Pairing, Calls, CallEndings):
    """State-machine callbacks and call context; `state` is set by the machine."""

    state: str

    def __init__(
        self,
        service: CallService,
        *,
        post: Callable[[str, Any], None],
        phonebook: PhonebookLike,
        history: HistoryLike,
        device_name: str,
        fingerprint: str,
        save_device_name: Callable[[str], None] | None = None,
        new_keys: NewKeysLike | None = None,
        volume: int = VOLUME_DEFAULT,
        save_volume: Callable[[int], None] | None = None,
    ) -> None:
        self.service = service
        self.new_keys = new_keys
        self._post = post
        self.phonebook = phonebook
        self.history = history
        self.device_name = device_name
        self.fingerprint = fingerprint
        self._save_device_name = save_device_name
        self._save_volume = save_volume
        self.notice = ""  # why the last edit did not stick ("Not saved", "Name is taken")
        self.directory: dict[str, bool] = {}
        self.audio_problem = ""
        self.menu_index = 0
        self.device_page = 0  # This device: key, then what the home screen's marks mean
        self.contact_index = 0
        self.recent: list[CallRecord] = []
        self.recent_index = 0
        self.edit_chars: list[str] = []
        self.edit_cursor = 0
        self.edit_target = ""
        self.discovered: Discovered | None = None
        self.repairing = False
        self.pinned_fingerprint = ""
        self.confirm_shown_at = float("-inf")
        self.call: ActiveCall | None = None
        self.last_call: ActiveCall | None = None  # kept for the hang-up screen and summary
        self.reason = ""
        self.duration_s = 0.0
        self.volume = volume
        self._saved_volume = volume  # what the config holds
        self.muted = False
        self.link = LinkStats()
        self.power_off_requested = False  # the runtime powers the machine off after stopping
        for record in history.records():  # newest first: home shows the last peer
            if self._select_peer(record.peer):
                break

    def context(self, now: float) -> ScreenContext:
        """What the screens may know, now."""
        return screen_snapshot(self, now)

    def on_machine_exception(self, event: Any) -> None:
        """A callback raised (a bug): log it; the phone carries on (never fatal)."""
        log.error(
            "state machine: %s in %s raised %r",
            event.event.name,
            self.state,
            event.error,
            exc_info=event.error,
        )

    def request_power_off(self, event: Any) -> None:
        """Select on "Shut down?": the user asked for the machine to power off, not only
        the phone to stop. The runtime reads `power_off_requested` once the phone has
        stopped and runs the configured command (nothing pure runs it)."""
        self.power_off_requested = True

    # --- status marks from the rendezvous and the power-on audio check ------------------
    def take_directory_status(self, event: Any) -> None:
        status = event_data(event)
        if isinstance(status, DirectoryStatus):
            self.directory[status.backend] = status.online

    def take_audio_status(self, event: Any) -> None:
        status = event_data(event)
        self.audio_problem = status.reason if isinstance(status, Failure) else ""
