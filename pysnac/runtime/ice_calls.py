"""Call offers through the directory, so both phones start punching at once.

Caller (`connect`, on the directory's lookup worker thread): gather this side's ICE
candidates, seal an offer to the contact's pinned key (pysnac/call/offer.py), leave it in
our directory node, wait for the sealed answer that echoes our random token, then run
the checks; the call's INVITE then goes to the address of the ICE session that
connected. Callee (`on_offer`, from a directory stream thread): an offer from a pinned
contact that opens, verifies, is fresh and is not a replay starts a worker that gathers,
leaves the answer in our node and runs the checks from this side; the INVITE then
arrives over that session and rings as usual. Anything else is dropped and counted by
reason (`rejected`). Offers never decide trust: the Noise IK handshake against the pinned
key still runs end to end over whatever path ICE found.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from pysnac.call.offer import (
    KIND_ANSWER,
    KIND_OFFER,
    TOKEN_BYTES,
    CallOffer,
    OfferError,
    from_text,
    open_offer,
    seal_offer,
    to_text,
)
from pysnac.channel.identity import Identity
from pysnac.runtime.ice import ICE_CONNECT_S, RELAY_GRACE_S, IceAgent, IceError, IceSession

log = logging.getLogger(__name__)

Address = tuple[str, int]
ANSWER_WAIT_S = 3.0  # a callee that does not answer the offer by then is not listening
CONNECT_WAIT_S = ICE_CONNECT_S + RELAY_GRACE_S
SEEN_TOKENS = 256  # offers remembered against replays (each is fresh for 30 s anyway)
CALLEE_JOIN_S = 2.0
MAX_ANSWERING = 2  # offers being answered at once (each gathers and may allocate a relay)


@dataclass(frozen=True)
class IcePath:
    """Where a call's datagrams go, and how: PATH_DIRECT or PATH_RELAY."""

    address: Address
    path: str


class IceCalls:
    """`connect(public_key)` for the caller; hand `on_offer` to the directory."""

    def __init__(
        self,
        identity: Identity,
        agent: IceAgent,
        publish: Callable[[str], bool],
        is_pinned: Callable[[bytes], bool],
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.identity = identity
        self.agent = agent
        self._publish = publish
        self._is_pinned = is_pinned
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._pending: dict[bytes, tuple[bytes, threading.Event, list[CallOffer]]] = {}
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._workers: list[threading.Thread] = []
        self._calls: dict[bytes, IceSession] = {}  # the latest session per peer key
        self.rejected: Counter[str] = Counter()
        self.last_reason = ""

    def _now_ms(self) -> int:
        return int(self._wall_clock() * 1000)

    # ---- caller -----------------------------------------------------------------------

    def connect(self, public_key: bytes, cancelled: Callable[[], bool]) -> IcePath | None:
        """Offer, wait for the answer, punch; the path, or None (`last_reason` says why)."""
        session = self._offer_and_connect(public_key, cancelled, restart=False)
        if session is None or session.address is None:
            return None
        with self._lock:
            self._calls[public_key] = session
        return IcePath(session.address, session.path)

    def network_changed(self) -> None:
        """Our addresses moved: restart the ICE session of a call in progress (the far side
        cannot reach our new address until we offer it), keeping the call's address."""
        if not self.agent.in_call():
            return
        with self._lock:
            calls = [(k, s) for k, s in self._calls.items() if self.agent.carries_call(s)]
        for public_key, session in calls:
            threading.Thread(
                target=self._restart, args=(public_key, session), name="ice-restart", daemon=True
            ).start()

    def _restart(self, public_key: bytes, old: IceSession) -> None:
        log.info("network changed during a call: restarting ICE")
        new = self._offer_and_connect(public_key, lambda: False, restart=True)
        if new is None:
            log.warning("ICE restart failed: %s", self.last_reason)
            return
        self.agent.adopt(old, new)
        with self._lock:
            self._calls[public_key] = new

    def _offer_and_connect(
        self, public_key: bytes, cancelled: Callable[[], bool], restart: bool
    ) -> IceSession | None:
        try:
            session = self.agent.prepare(controlling=True)
        except IceError as exc:
            self.last_reason = f"ICE gathering failed: {exc}"
            return None
        token = secrets.token_bytes(TOKEN_BYTES)
        answered = threading.Event()
        answers: list[CallOffer] = []
        with self._lock:
            self._pending[token] = (public_key, answered, answers)
        try:
            direct, relay = session.local_params()
            sealed = seal_offer(
                self.identity, public_key, KIND_OFFER, token, self._now_ms(), direct, relay, restart
            )
            if not self._publish(to_text(sealed)):
                self.last_reason = "the directory cannot carry call offers"
                return self._fail(session)
            if not answered.wait(ANSWER_WAIT_S) or cancelled():
                self.last_reason = "no answer to the call offer"
                return self._fail(session)
            self.agent.connect(session, answers[0])
            if not self.agent.wait(session, CONNECT_WAIT_S) or cancelled():
                self.last_reason = session.reason or "ICE checks failed"
                return self._fail(session)
            return session
        finally:
            with self._lock:
                self._pending.pop(token, None)

    def _fail(self, session: IceSession) -> None:
        log.info("ICE call setup failed: %s", self.last_reason)
        self.agent.close_session(session)
        return None

    # ---- from the directory -----------------------------------------------------------

    def on_offer(self, public_key: bytes, text: str) -> None:
        """A watched contact's node carries a new offer (a directory stream thread)."""
        try:
            offer = open_offer(self.identity, from_text(text), self._now_ms())
        except OfferError as exc:
            self._drop(exc.reason)
            return
        if offer.sender != public_key:  # filed under another phone's node
            self._drop("wrong_node")
            return
        if offer.kind == KIND_ANSWER:
            with self._lock:
                pending = self._pending.get(offer.token)
            if pending is None or pending[0] != offer.sender:
                self._drop("unexpected_answer")
                return
            pending[2].append(offer)
            pending[1].set()
            return
        if not self._is_pinned(offer.sender):
            self._drop("unknown_caller")
            return
        with self._lock:
            if offer.token in self._seen:
                replay = True
            else:
                replay = False
                self._seen[offer.token] = None
                while len(self._seen) > SEEN_TOKENS:
                    self._seen.popitem(last=False)
        if replay:
            self._drop("replay")
            return
        worker = threading.Thread(
            target=self._answer, args=(offer,), name="ice-answer", daemon=True
        )
        with self._lock:
            self._workers = [w for w in self._workers if w.is_alive()]
            busy = len(self._workers) >= MAX_ANSWERING
            if not busy:
                self._workers.append(worker)
        if busy:  # a contact flooding offers costs at most this many gatherings at once
            self._drop("busy")
            return
        worker.start()

    def _answer(self, offer: CallOffer) -> None:
        try:
            session = self.agent.prepare(controlling=False)
            direct, relay = session.local_params()
            sealed = seal_offer(
                self.identity, offer.sender, KIND_ANSWER, offer.token, self._now_ms(), direct, relay
            )
            self.agent.connect(session, offer)  # our checks start with the answer's journey
            if not self._publish(to_text(sealed)):
                log.warning("could not answer a call offer: the directory refused it")
                return
            if not self.agent.wait(session, CONNECT_WAIT_S):
                return
            with self._lock:
                old = self._calls.get(offer.sender)
                self._calls[offer.sender] = session
            if offer.restart and old is not None:  # the far side moved during our call
                self.agent.adopt(old, session)
        except IceError as exc:
            log.warning("could not answer a call offer: %s", exc)
        except Exception:  # a worker's fault must never reach the directory thread
            log.exception("answering a call offer failed")

    def _drop(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] += 1
        log.warning("call offer dropped (%s)", reason)

    def close(self) -> None:
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(CALLEE_JOIN_S)
