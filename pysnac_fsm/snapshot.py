"""The screen snapshot: a `ScreenContext` read from the model at one instant, so every
screen function stays a pure function of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pysnac_fsm.screen_context import ScreenContext

if TYPE_CHECKING:
    from pysnac_fsm.phone import PhoneModel


def screen_snapshot(model: PhoneModel, now: float) -> ScreenContext:
    call = model.call or model.last_call  # the hang-up screen shows the call just ended
    online = None if not model.directory else all(model.directory.values())
    live = model.call
    call_s = now - live.connected_at if live and live.connected_at is not None else 0.0
    discovered = model.discovered
    return ScreenContext(
        state=model.state,
        device_name=model.device_name,
        fingerprint=model.fingerprint,
        directory_online=online,
        audio_problem=model.audio_problem,
        menu_index=model.menu_index,
        contact_names=tuple(c.name for c in model.phonebook.contacts()),
        contact_index=model.contact_index,
        recent_calls=tuple(model.recent),
        recent_index=model.recent_index,
        edit_text="".join(model.edit_chars),
        edit_cursor=model.edit_cursor,
        notice=model.notice,
        device_page=model.device_page,
        discovered_name=discovered.contact.name if discovered else "",
        discovered_fingerprint=discovered.fingerprint if discovered else "",
        pinned_fingerprint=model.pinned_fingerprint,
        contact_new_key=model.new_key_of_selected() is not None,
        peer=call.peer if call else "",
        peer_known=call.known if call else True,
        peer_fingerprint=call.fingerprint if call else "",
        outgoing=call.outgoing if call else True,
        ringback=call.ringback if call else False,
        sas=call.sas if call else "",
        call_s=max(0.0, call_s),
        volume=model.volume,
        muted=model.muted,
        link_bars=model.link.quality_bars,
        relayed=model.link.relayed,
        reconnecting_s=model.link.reconnecting_s,
        reason=model.reason,
        duration_s=model.duration_s,
    )
