"""Rendezvous: how two phones find each other's address.

`open_rendezvous(["lan", "firebase"], ...)` builds the backends named, in that order of
preference, behind the one `Rendezvous` contract (base.py). Each backend's library is
imported only when it is chosen (zeroconf for lan, pyrebase4 for firebase). Records are
signed by the device identity (record.py); trust is the phonebook's job, not ours.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from drivers.rendezvous.base import (
    BackendStatus,
    PeerRecord,
    PhoneFound,
    Rendezvous,
    RendezvousError,
    Report,
)
from pysnac.contacts import Contact

BACKEND_KINDS = ("lan", "static", "firebase")

__all__ = [
    "BACKEND_KINDS",
    "BackendStatus",
    "PeerRecord",
    "PhoneFound",
    "Rendezvous",
    "RendezvousError",
    "Report",
    "open_rendezvous",
]


def open_rendezvous(
    kinds: list[str],
    *,
    report: Report | None = None,
    contacts: Callable[[], Iterable[Contact]] | Iterable[Contact] = (),
    is_known: Callable[[bytes], bool] | None = None,
    firebase_config: str | os.PathLike[str] | None = None,
    firebase_url: str | None = None,
    clock: Callable[[], float] = time.time,
    lan_interfaces: object = None,
) -> Rendezvous:
    """The backends `kinds` names, one `Rendezvous` (a MultiRendezvous if several).

    `contacts` feeds the static backend (pass `phonebook.contacts` to follow edits);
    `is_known(key)` tells the LAN backend which phones are pinned, so it reports
    PhoneFound only for the others; `report` receives those and every BackendStatus.
    `firebase_config` is the project JSON file (mode 0600), `firebase_url` overrides its
    databaseURL. Raises RendezvousError/ConfigError with one clear line on bad input.
    """
    unknown = [k for k in kinds if k not in BACKEND_KINDS]
    if unknown or not kinds:
        raise RendezvousError(
            f"unknown rendezvous backend {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(BACKEND_KINDS)}"
        )
    backends: list[Rendezvous] = []
    try:
        for kind in dict.fromkeys(kinds):  # keeps order, drops repeats
            backends.append(
                _open_one(
                    kind,
                    report,
                    contacts,
                    is_known,
                    firebase_config,
                    firebase_url,
                    clock,
                    lan_interfaces,
                )
            )
    except BaseException:
        for backend in backends:
            backend.stop()
        raise
    if len(backends) == 1:
        return backends[0]
    from drivers.rendezvous.multi import MultiRendezvous

    return MultiRendezvous(backends)


def _open_one(
    kind: str,
    report: Report | None,
    contacts: Callable[[], Iterable[Contact]] | Iterable[Contact],
    is_known: Callable[[bytes], bool] | None,
    firebase_config: str | os.PathLike[str] | None,
    firebase_url: str | None,
    clock: Callable[[], float],
    lan_interfaces: object,
) -> Rendezvous:
    if kind == "static":
        from drivers.rendezvous.static import StaticRendezvous

        return StaticRendezvous(contacts)
    if kind == "lan":
        from drivers.rendezvous.lan import LanRendezvous

        if lan_interfaces is None:
            return LanRendezvous(report=report, is_known=is_known, clock=clock)
        return LanRendezvous(
            report=report, is_known=is_known, clock=clock, interfaces=lan_interfaces
        )
    from drivers.rendezvous.firebase import FirebaseRendezvous
    from drivers.rendezvous.firebase_auth import load_firebase_config

    if firebase_config is None:
        raise RendezvousError(
            "the firebase rendezvous needs --firebase-config FILE (your project's JSON)"
        )
    config = load_firebase_config(firebase_config, database_url=firebase_url)
    return FirebaseRendezvous(config, report=report, clock=clock)
