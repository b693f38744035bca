"""Text entry on five buttons, for the device's and a contact's name: Up/Down change the
character under the cursor (through `TEXT_ENTRY_ALPHABET`), Right/Left move the cursor,
Select saves a name that is neither blank nor taken (ignoring case); a refused or unsaved
name leaves its reason in `notice`, which the screens show."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pysnac.contacts import Contact
from pysnac.errors import PysnacError
from pysnac.limits import NAME_MAX_CHARS, TEXT_ENTRY_ALPHABET
from pysnac_fsm import table
from pysnac_fsm.ports import PhonebookLike

log = logging.getLogger(__name__)

# Why an edit did not stick, shown on the edit and This device screens (one LCD line).
NOTICE_NAME_BLANK = "Name is blank"
NOTICE_NAME_TAKEN = "Name is taken"
NOTICE_NOT_SAVED = "Not saved!"


class TextEntry:
    """Callbacks of the two name-editing states (a mixin of `PhoneModel`)."""

    state: str
    phonebook: PhonebookLike
    device_name: str
    _save_device_name: Callable[[str], None] | None
    edit_chars: list[str]
    edit_cursor: int
    edit_target: str
    notice: str

    if TYPE_CHECKING:

        def _selected_contact(self) -> Contact | None: ...  # `Dial`
        def _select_peer(self, name: str) -> bool: ...  # `Dial`

    def _begin_edit(self, text: str) -> None:
        self.notice = ""
        self.edit_chars = list(text[:NAME_MAX_CHARS]) or [TEXT_ENTRY_ALPHABET[1]]
        self.edit_cursor = 0

    def begin_device_name_edit(self, event: Any) -> None:
        self._begin_edit(self.device_name)

    def begin_contact_name_edit(self, event: Any) -> None:
        contact = self._selected_contact()
        self.edit_target = contact.name if contact else ""
        self._begin_edit(self.edit_target)

    def _step_char(self, step: int) -> None:
        self.notice = ""  # the user is fixing the refused name
        current = self.edit_chars[self.edit_cursor]
        index = TEXT_ENTRY_ALPHABET.find(current)
        index = 0 if index < 0 else (index + step) % len(TEXT_ENTRY_ALPHABET)
        self.edit_chars[self.edit_cursor] = TEXT_ENTRY_ALPHABET[index]

    def edit_char_next(self, event: Any) -> None:
        self._step_char(1)

    def edit_char_previous(self, event: Any) -> None:
        self._step_char(-1)

    def edit_cursor_right(self, event: Any) -> None:
        self.notice = ""
        if self.edit_cursor < NAME_MAX_CHARS - 1:
            self.edit_cursor += 1
            if self.edit_cursor == len(self.edit_chars):
                self.edit_chars.append(" ")

    def edit_cursor_left(self, event: Any) -> None:
        self.edit_cursor = max(0, self.edit_cursor - 1)

    def edit_at_first_char(self, event: Any) -> bool:
        return self.edit_cursor == 0

    def edit_text(self) -> str:
        return "".join(self.edit_chars).strip()

    def edit_name_valid(self, event: Any) -> bool:
        """The save guard; a refused name leaves its reason in `notice` for the screen."""
        name = self.edit_text()
        self.notice = ""
        if not name or len(name) > NAME_MAX_CHARS:
            self.notice = NOTICE_NAME_BLANK
        elif self.state == table.EDIT_CONTACT_NAME:
            taken = {c.name.casefold() for c in self.phonebook.contacts()}
            if name.casefold() in taken - {self.edit_target.casefold()}:
                self.notice = NOTICE_NAME_TAKEN
        return not self.notice

    def save_device_name(self, event: Any) -> None:
        """Keep the new name; a save that fails keeps the old one and says so (LCD, log)."""
        name = self.edit_text()
        if self._save_device_name is not None:
            try:
                self._save_device_name(name)
            except PysnacError as exc:
                log.error("device name not saved: %s", exc)
                self.notice = NOTICE_NOT_SAVED
                return
        self.device_name = name

    def save_contact_name(self, event: Any) -> None:
        new_name = self.edit_text()
        if new_name != self.edit_target:
            self.phonebook.rename(self.edit_target, new_name)
            self._select_peer(new_name)  # it may sort elsewhere: keep it selected
