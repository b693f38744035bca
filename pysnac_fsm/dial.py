"""The dial: which contact Select calls from the home screen (and the menu's contacts list).

The selection is an index into the phonebook's contacts (sorted by name). It follows the
people the phone last dealt with: `_select_peer` moves it to whoever was last called or
heard from (each recorded call), to a contact just paired or renamed, and at power-on to
the newest peer in the recent calls that is still a contact. Up/Down step it in place.
"""

from __future__ import annotations

from typing import Any

from pysnac.contacts import Contact
from pysnac_fsm.call_context import ActiveCall
from pysnac_fsm.ports import PhonebookLike


class Dial:
    """Callbacks for choosing whom to call (a mixin of `PhoneModel`)."""

    phonebook: PhonebookLike
    contact_index: int
    call: ActiveCall | None
    reason: str

    def has_contacts(self, event: Any) -> bool:
        return bool(self.phonebook.contacts())

    def _step_contact(self, step: int) -> None:
        count = len(self.phonebook.contacts())
        self.contact_index = (self.contact_index + step) % count if count else 0

    def contacts_next(self, event: Any) -> None:
        self._step_contact(1)

    def contacts_previous(self, event: Any) -> None:
        self._step_contact(-1)

    def _select_peer(self, name: str) -> bool:
        """Show `name` on the home screen (the contact last called or heard from); False
        when it is not a contact."""
        names = [c.name for c in self.phonebook.contacts()]
        if name not in names:
            return False
        self.contact_index = names.index(name)
        return True

    def _selected_contact(self) -> Contact | None:
        contacts = self.phonebook.contacts()
        if not contacts:
            return None
        return contacts[min(self.contact_index, len(contacts) - 1)]

    def choose_contact(self, event: Any) -> None:
        contact = self._selected_contact()
        assert contact is not None  # guarded by has_contacts
        self.call = ActiveCall(peer=contact.name, outgoing=True, contact=contact)
        self.reason = ""
