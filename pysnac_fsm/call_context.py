"""The call in progress as the model keeps it, and what an event's keyword arguments carry.

Every trigger is fired with `now` (monotonic seconds) and `data` (the event's payload);
`event_now` and `event_data` read them from the `EventData` `transitions` hands each
callback (`send_event=True`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pysnac.contacts import Contact


@dataclass
class ActiveCall:
    """The call in progress: who, which way, and when it connected (None: not yet)."""

    peer: str
    outgoing: bool
    contact: Contact | None = None
    known: bool = True
    fingerprint: str = ""
    sas: str = ""
    connected_at: float | None = None
    ringback: bool = False


def event_now(event: Any) -> float:
    return float(event.kwargs.get("now", 0.0))


def event_data(event: Any) -> Any:
    return event.kwargs.get("data")
