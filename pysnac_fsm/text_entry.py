"""Text entry on five buttons, for the device's and a contact's name: Up/Down change the
character under the cursor (through `TEXT_ENTRY_ALPHABET`), Right/Left move the cursor,
Select saves a name that is neither blank nor taken."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pysnac.contacts import Contact
from pysnac.limits import NAME_MAX_CHARS, TEXT_ENTRY_ALPHABET
from pysnac_fsm import table
from pysnac_fsm.ports import PhonebookLike


class TextEntry:
    """Callbacks of the two name-editing states (a mixin of `PhoneModel`)."""

    state: str
    phonebook: PhonebookLike
    device_name: str
    _save_device_name: Callable[[str], None] | None
    edit_chars: list[str]
    edit_cursor: int
    edit_target: str

    if TYPE_CHECKING:

        def _selected_contact(self) -> Contact | None: ...  # `Dial`
        def _select_peer(self, name: str) -> bool: ...  # `Dial`

    def _begin_edit(self, text: str) -> None:
        self.edit_chars = list(text[:NAME_MAX_CHARS]) or [TEXT_ENTRY_ALPHABET[1]]
        self.edit_cursor = 0

    def begin_device_name_edit(self, event: Any) -> None:
        self._begin_edit(self.device_name)

    def begin_contact_name_edit(self, event: Any) -> None:
        contact = self._selected_contact()
        self.edit_target = contact.name if contact else ""
        self._begin_edit(self.edit_target)

    def _step_char(self, step: int) -> None:
        current = self.edit_chars[self.edit_cursor]
        index = TEXT_ENTRY_ALPHABET.find(current)
        index = 0 if index < 0 else (index + step) % len(TEXT_ENTRY_ALPHABET)
        self.edit_chars[self.edit_cursor] = TEXT_ENTRY_ALPHABET[index]

    def edit_char_next(self, event: Any) -> None:
        self._step_char(1)

    def edit_char_previous(self, event: Any) -> None:
        self._step_char(-1)

    def edit_cursor_right(self, event: Any) -> None:
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
        name = self.edit_text()
        if not name or len(name) > NAME_MAX_CHARS:
            return False
        if self.state == table.EDIT_CONTACT_NAME:
            taken = {c.name for c in self.phonebook.contacts()} - {self.edit_target}
            return name not in taken
        return True

    def save_device_name(self, event: Any) -> None:
        self.device_name = self.edit_text()
        if self._save_device_name is not None:
            self._save_device_name(self.device_name)

    def save_contact_name(self, event: Any) -> None:
        new_name = self.edit_text()
        if new_name != self.edit_target:
            self.phonebook.rename(self.edit_target, new_name)
            self._select_peer(new_name)  # it may sort elsewhere: keep it selected
