"""The menu, the recent-calls list (Select calls back) and the This device pages: moving
through them and which item opens what."""

from __future__ import annotations

from typing import Any

from pysnac.contacts import Contact
from pysnac.history import CallRecord
from pysnac.limits import MENU_ITEMS
from pysnac_fsm.call_context import ActiveCall
from pysnac_fsm.ports import HistoryLike, PhonebookLike

THIS_DEVICE_PAGES = 3  # the key fingerprint, the directory mark, the sound device


class Menus:
    """Callbacks of the menu states (a mixin of `PhoneModel`)."""

    history: HistoryLike
    phonebook: PhonebookLike
    menu_index: int
    device_page: int
    recent: list[CallRecord]
    recent_index: int
    call: ActiveCall | None
    reason: str

    def menu_next(self, event: Any) -> None:
        self.menu_index = (self.menu_index + 1) % len(MENU_ITEMS)

    def menu_previous(self, event: Any) -> None:
        self.menu_index = (self.menu_index - 1) % len(MENU_ITEMS)

    def menu_at_contacts(self, event: Any) -> bool:
        return self.menu_index == 0

    def menu_at_recent_calls(self, event: Any) -> bool:
        return self.menu_index == 1

    def menu_at_this_device(self, event: Any) -> bool:
        return self.menu_index == 2

    def menu_at_shut_down(self, event: Any) -> bool:
        return self.menu_index == 3

    def load_recent_calls(self, event: Any) -> None:
        self.recent = self.history.records()
        self.recent_index = 0

    def recent_next(self, event: Any) -> None:
        if self.recent:
            self.recent_index = (self.recent_index + 1) % len(self.recent)

    def recent_previous(self, event: Any) -> None:
        if self.recent:
            self.recent_index = (self.recent_index - 1) % len(self.recent)

    def _recent_contact(self) -> Contact | None:
        """The pinned contact of the selected recent call (by name, ignoring case)."""
        if not self.recent:
            return None
        wanted = self.recent[min(self.recent_index, len(self.recent) - 1)].peer.casefold()
        return next((c for c in self.phonebook.contacts() if c.name.casefold() == wanted), None)

    def recent_is_contact(self, event: Any) -> bool:
        return self._recent_contact() is not None

    def choose_recent(self, event: Any) -> None:
        """Select on a recent call: call that contact back."""
        contact = self._recent_contact()
        assert contact is not None  # guarded by recent_is_contact
        self.call = ActiveCall(peer=contact.name, outgoing=True, contact=contact)
        self.reason = ""

    def device_page_next(self, event: Any) -> None:
        self.device_page = (self.device_page + 1) % THIS_DEVICE_PAGES

    def device_page_previous(self, event: Any) -> None:
        self.device_page = (self.device_page - 1) % THIS_DEVICE_PAGES
