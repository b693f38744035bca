"""Several rendezvous backends at once (LAN first, then Firebase, as configured).

Publishing goes to every backend. A lookup asks them all in parallel and, when all have
answered or `timeout_s` has passed, returns the freshest verified record (ties go to the
backend listed first); so a phone that moved and re-published is found at its new
address even when the config still has the old one (static answers are dated 0).
Watchers get each newer record once, whichever backend saw it first. A backend that
fails never stops the others: its own status goes offline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from drivers.rendezvous.base import (
    Address,
    OfferWatcher,
    PeerRecord,
    Rendezvous,
    SigningIdentity,
    WatchList,
)

log = logging.getLogger(__name__)


class MultiRendezvous:
    """The `Rendezvous` contract over `backends`, in order of preference."""

    def __init__(self, backends: list[Rendezvous]) -> None:
        if not backends:
            raise ValueError("MultiRendezvous needs at least one backend")
        self.backends = list(backends)
        self._pool = ThreadPoolExecutor(
            max_workers=2 * len(backends), thread_name_prefix="rdv-multi"
        )
        self._watchers = WatchList()

    def start(self, identity: SigningIdentity, name: str, addresses: list[Address]) -> None:
        for backend in self.backends:
            backend.start(identity, name, addresses)

    def update(self, addresses: list[Address], name: str | None = None) -> None:
        for backend in self.backends:
            backend.update(addresses, name)

    def lookup(self, public_key: bytes, timeout_s: float) -> PeerRecord | None:
        deadline = time.monotonic() + timeout_s
        futures: list[Future[PeerRecord | None]] = [
            self._pool.submit(backend.lookup, public_key, timeout_s) for backend in self.backends
        ]
        pending = set(futures)
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            _, pending = wait(pending, timeout=remaining, return_when=FIRST_COMPLETED)
        best: PeerRecord | None = None
        for future in futures:  # in preference order, so ties keep the earlier backend
            if not future.done():
                continue
            try:
                record = future.result()
            except Exception:  # a backend's bug must not hide the others' answers
                log.exception("rendezvous lookup failed in one backend")
                continue
            if record is not None and (best is None or record.timestamp_ms > best.timestamp_ms):
                best = record
        return best

    def watch(self, public_key: bytes, on_change: Callable[[PeerRecord], None]) -> None:
        first = public_key not in self._watchers.watched_keys()
        self._watchers.add(public_key, on_change)
        if first:
            for backend in self.backends:
                backend.watch(public_key, self._watchers.offer)

    def publish_offer(self, text: str) -> bool:
        published = False
        for backend in self.backends:
            published = backend.publish_offer(text) or published
        return published

    def watch_offers(self, on_offer: OfferWatcher) -> None:
        for backend in self.backends:
            backend.watch_offers(on_offer)

    def status(self) -> dict[str, bool]:
        merged: dict[str, bool] = {}
        for backend in self.backends:
            merged.update(backend.status())
        return merged

    def stop(self) -> None:
        for backend in self.backends:
            try:
                backend.stop()
            except Exception:  # stop the rest regardless
                log.exception("rendezvous backend failed to stop")
        self._pool.shutdown(wait=True, cancel_futures=True)  # lookups end by their timeout
