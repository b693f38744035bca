"""Limits of the appliance's user interface, each with its unit in the name.

Per-state timeouts live with the state table in `pysnac_fsm.table`; these are the
limits shared by the model, the screens, the config and the drivers.
"""

from __future__ import annotations

NAME_MAX_CHARS = 15  # device and contact names: fit one LCD line with a marker
NAME_MAX_UTF8_BYTES = 4 * NAME_MAX_CHARS  # the same name on the wire: <= 4 bytes a character
PUBLIC_KEY_BYTES = 32  # Ed25519 and X25519 public keys alike
REASON_MAX_CHARS = 16  # a hang-up reason is one LCD line
HISTORY_MAX_CALLS = 10  # recent calls kept across restarts
VOLUME_MIN = 0
VOLUME_MAX = 10
VOLUME_DEFAULT = 7
MENU_ITEMS = ("Contacts", "Recent calls", "This device", "Shut down")
# The text-entry alphabet, in the order Up steps through it (space first: erase a char).
TEXT_ENTRY_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789-_.ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BUTTON_POLL_HZ = 30  # plate buttons: one I2C read (port A, all five) per poll
BUTTON_DEBOUNCE_S = 0.04  # a level must hold this long to count as a press or release
