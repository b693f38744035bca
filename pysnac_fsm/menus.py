"""The menu and the recent-calls list: moving through them and which item opens what."""

from __future__ import annotations

from typing import Any

from pysnac.history import CallRecord
from pysnac.limits import MENU_ITEMS
from pysnac_fsm.ports import HistoryLike


class Menus:
    """Callbacks of the menu states (a mixin of `PhoneModel`)."""

    history: HistoryLike
    menu_index: int
    recent: list[CallRecord]
    recent_index: int

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
