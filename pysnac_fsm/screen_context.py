"""What a screen may know: a frozen snapshot of the phone model at one instant.

Screen functions are pure (`ScreenContext` -> two lines), so each state's screen is tested
on its own, and the whole display is a function of this snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

from pysnac.history import CallRecord


@dataclass(frozen=True)
class ScreenContext:
    state: str
    device_name: str = ""
    fingerprint: str = ""
    directory_online: bool | None = None  # None: no rendezvous backend has reported yet
    audio_problem: str = ""  # the power-on check's reason ("No pysnac_mic"), "" when fine
    menu_index: int = 0
    contact_names: tuple[str, ...] = ()
    contact_index: int = 0
    recent_calls: tuple[CallRecord, ...] = ()
    recent_index: int = 0
    edit_text: str = ""
    edit_cursor: int = 0
    device_page: int = 0  # This device: 0 key fingerprint, 1 directory mark, 2 sound
    notice: str = ""  # why the last edit did not stick (refused name, failed save)
    discovered_name: str = ""
    discovered_fingerprint: str = ""
    pinned_fingerprint: str = ""  # re-pair: the fingerprint of the pinned key to replace
    contact_new_key: bool = False  # the selected contact's name now publishes another key
    peer: str = ""
    peer_known: bool = True
    peer_fingerprint: str = ""
    outgoing: bool = True
    ringback: bool = False
    sas: str = ""
    call_s: float = 0.0  # seconds since the call connected
    volume: int = 0
    muted: bool = False
    link_bars: int = 0
    relayed: bool = False  # through the relay: "R" before the call time
    reconnecting_s: float | None = None  # in an outage: seconds without packets
    reason: str = ""
    duration_s: float = 0.0
