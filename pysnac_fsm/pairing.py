"""Pairing: a phone the rendezvous found is offered for trust on first use, and a pinned
contact whose name now publishes another key is offered for re-pairing. Select pins (or,
after a second Select, replaces the key: the re-pair pages show the pinned key's
fingerprint, then the new one's); refusing, or letting the offer time out, forgets a
refused new key. No pairing screen takes an answer until it has been shown OFFER_ARM_S
(`confirmation_armed`, on the event's `now`): a press meant for the screen it replaced
cannot answer it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pysnac.call_events import Discovered
from pysnac.channel.identity import fingerprint
from pysnac.contacts import Contact
from pysnac.errors import PysnacError
from pysnac_fsm.call_context import event_data, event_now
from pysnac_fsm.ports import NewKeysLike, PhonebookLike
from pysnac_fsm.table import OFFER_ARM_S

log = logging.getLogger(__name__)


class Pairing:
    """Callbacks of the pairing offer (a mixin of `PhoneModel`)."""

    phonebook: PhonebookLike
    new_keys: NewKeysLike | None
    discovered: Discovered | None
    repairing: bool  # the offer is a new key for a pinned contact (the re-pair pages)
    pinned_fingerprint: str  # re-pair: the fingerprint of the key it would replace
    confirm_shown_at: float  # when the pairing screen now shown appeared (`now`)

    if TYPE_CHECKING:

        def _selected_contact(self) -> Contact | None: ...  # `Dial`
        def _select_peer(self, name: str) -> bool: ...  # `Dial`

    def arm_confirmation(self, event: Any) -> None:
        """A pairing screen appeared: answers count from OFFER_ARM_S on."""
        self.confirm_shown_at = event_now(event)

    def confirmation_armed(self, event: Any) -> bool:
        return event_now(event) - self.confirm_shown_at >= OFFER_ARM_S

    def take_discovery(self, event: Any) -> None:
        self.discovered = event_data(event)
        self.repairing = False

    def pin_contact(self, event: Any) -> None:
        if self.discovered is None:
            return
        contact = self.discovered.contact
        try:
            if self.repairing:
                self.phonebook.replace_key(contact.name, contact.public_key)
                log.warning("%s re-paired with key %s", contact.name, self.discovered.fingerprint)
            else:
                self.phonebook.add(contact)
            self._select_peer(contact.name)  # the phone just paired is the one to call
        except (ValueError, PysnacError) as exc:
            log.warning("could not pin %s: %s", contact.name, exc)
        self._end_offer()

    def refuse_contact(self, event: Any) -> None:
        self._end_offer()

    def _end_offer(self) -> None:
        """The offer is answered (or timed out): a refused new key is forgotten too."""
        if self.repairing and self.discovered is not None and self.new_keys is not None:
            self.new_keys.forget_new_key(self.discovered.contact.name)
        self.discovered = None
        self.repairing = False
        self.pinned_fingerprint = ""

    def new_key_of_selected(self) -> tuple[bytes, str] | None:
        """The new key the rendezvous saw under the selected contact's name, if any."""
        contact = self._selected_contact() if self.new_keys is not None else None
        if contact is None or self.new_keys is None:
            return None
        return self.new_keys.new_key_for(contact.name)

    def selected_key_changed(self, event: Any) -> bool:
        """The selected contact's name now publishes another key (re-pair offered)."""
        return self.new_key_of_selected() is not None

    def offer_repair(self, event: Any) -> None:
        """Show the pinned key's fingerprint, then the new one's; a Select on each pins the
        new key in place of the old one."""
        contact = self._selected_contact()
        new_key = self.new_key_of_selected()
        if contact is None or new_key is None:  # guarded by selected_key_changed
            return
        key, new_print = new_key
        self.discovered = Discovered(Contact(contact.name, key, contact.address), new_print)
        self.repairing = True
        self.pinned_fingerprint = fingerprint(contact.public_key)
