"""One module per state of the phone: what its LCD screen shows and what each button does.

Each module exports `screen(ctx: ScreenContext) -> (line1, line2)` (pure, exactly 16
cells each), `BUTTONS: dict[Button, str]` (button -> trigger in the state table) and
`BACKLIGHT`. `STATE_MODULES` maps every state in the table to its module.
"""

from __future__ import annotations

from types import ModuleType

from pysnac.screen import Backlight, Button
from pysnac_fsm import table
from pysnac_fsm.screen_context import ScreenContext
from states import (
    confirm_contact,
    confirm_shutdown,
    contacts,
    dialing,
    hangup,
    idle,
    in_call,
    key_exchange,
    menu,
    off,
    recent_calls,
    repair_key,
    ringing,
    text_entry,
    this_device,
)

STATE_MODULES: dict[str, ModuleType] = {
    table.IDLE: idle,
    table.MENU: menu,
    table.CONTACTS: contacts,
    table.RECENT_CALLS: recent_calls,
    table.THIS_DEVICE: this_device,
    table.EDIT_DEVICE_NAME: text_entry,
    table.EDIT_CONTACT_NAME: text_entry,
    table.CONFIRM_CONTACT: confirm_contact,
    table.REPAIR_OLD_KEY: repair_key,
    table.REPAIR_NEW_KEY: repair_key,
    table.CONFIRM_SHUTDOWN: confirm_shutdown,
    table.DIALING: dialing,
    table.RINGING: ringing,
    table.KEY_EXCHANGE: key_exchange,
    table.IN_CALL: in_call,
    table.HANGUP: hangup,
    table.OFF: off,
}


def render(ctx: ScreenContext) -> tuple[str, str]:
    """The screen of the state in `ctx`."""
    return STATE_MODULES[ctx.state].screen(ctx)


def backlight(state: str) -> Backlight:
    return STATE_MODULES[state].BACKLIGHT


def trigger_for(state: str, button: Button) -> str | None:
    """The trigger `button` fires in `state`, or None when it does nothing there."""
    return STATE_MODULES[state].BUTTONS.get(button)
