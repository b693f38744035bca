"""ICE for calls (RFC 8445) through aioice: one event-loop thread owns every ICE socket.

aioice (the ICE agent under aiortc) gathers candidates -- host (IPv4 and IPv6), server
reflexive from a STUN server, relayed from a TURN server with long-term credentials
(RFC 8656) -- runs the connectivity checks from both sides at once, nominates a pair and
keeps it alive with consent checks (RFC 7675). It is asyncio, so one daemon thread
(`net-ice`) runs an event loop and owns every aioice `Connection`; other threads reach it
only through `IceAgent`'s blocking methods, which hand coroutines to that loop.

What aioice does not do, done here:
- **Direct before relay.** aioice nominates the first pair whose check succeeds
  (aggressive nomination). A relayed pair usually answers before a punched direct pair
  does (punching needs both sides' first packets to cross), so each call runs two ICE
  sessions: `direct` (host and server-reflexive candidates) at once, and `relay`
  (relay-only transport policy) RELAY_GRACE_S later. The first that connects carries the
  call; the other stays open so the far side's choice is heard too.
- **One address per call.** The call layer addresses its peer by (host, port). A call's
  ICE sessions are filed under the remote address of the first nominated pair; datagrams
  from either session are reported as coming from it, and datagrams sent to it go out on
  the winning session. Everything else uses the phone's ordinary UDP socket.
- **Idle sessions end.** A session that carried nothing for SESSION_IDLE_S (the call is
  over) or never connected within ICE_CONNECT_S is closed, with its TURN allocation.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pysnac.call.offer import CallOffer, IceParams
from pysnac.call_events import PATH_DIRECT, PATH_RELAY
from pysnac.errors import PysnacError

log = logging.getLogger(__name__)

Address = tuple[str, int]
T = TypeVar("T")

GATHER_TIMEOUT_S = 5.0  # STUN and TURN answers while gathering (TURN allocate: 2 round trips)
ICE_CONNECT_S = 8.0  # checks give up after this (then the call falls back or fails)
RELAY_GRACE_S = 0.5  # the relay session starts this long after the direct one
CALL_ACTIVE_S = 2.0  # a session that carried a datagram this recently is in a call
SESSION_IDLE_S = 10.0  # a connected session with no datagram either way for this long ends
REAP_EVERY_S = 1.0
LOOP_JOIN_S = 2.0


class IceError(PysnacError):
    """ICE could not gather or connect; says why in one line."""


@dataclass(frozen=True)
class IceSettings:
    """Servers and credentials from the config's [network] table."""

    stun_server: Address | None = None
    turn_server: Address | None = None
    turn_username: str | None = None
    turn_password: str | None = None

    @property
    def enabled(self) -> bool:
        return self.stun_server is not None or self.turn_server is not None


@dataclass
class IceSession:
    """One call's ICE: the direct session and, with a TURN server, the relay one."""

    controlling: bool
    direct: Any  # aioice.Connection
    relay: Any | None
    created_s: float
    address: Address | None = None  # the call's peer address once connected
    path: str = ""  # PATH_DIRECT or PATH_RELAY, on this side
    winner: Any | None = None
    last_active_s: float = 0.0
    connected: threading.Event = field(default_factory=threading.Event)
    failed: threading.Event = field(default_factory=threading.Event)
    reason: str = ""
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def local_params(self) -> tuple[IceParams, IceParams | None]:
        return _params(self.direct), (_params(self.relay) if self.relay is not None else None)


def _params(connection: Any) -> IceParams:
    return IceParams(
        connection.local_username,
        connection.local_password,
        tuple(c.to_sdp() for c in connection.local_candidates),
    )


def _pair_path(connection: Any) -> tuple[Address, str]:
    """The nominated pair's remote address and whether a relay carries it. aioice keeps
    the nominated pair per component in `_nominated` (no public accessor in 0.13)."""
    pair = connection._nominated[1]
    relayed = "relay" in (pair.local_candidate.type, pair.remote_candidate.type)
    return tuple(pair.remote_addr[:2]), PATH_RELAY if relayed else PATH_DIRECT


class IceAgent:
    """`start()`, then per call `prepare` (gather), `connect`, `wait`; `send` from any
    thread; `close()` ends the loop and every session."""

    def __init__(
        self,
        settings: IceSettings,
        deliver: Callable[[bytes, Address], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._deliver = deliver
        self._clock = clock
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="net-ice", daemon=True)
        self._lock = threading.Lock()
        self._sessions: list[IceSession] = []
        self._by_address: dict[Address, IceSession] = {}
        self._closed = False
        self._sending: set[asyncio.Task[None]] = set()
        self.on_connected: Callable[[], None] | None = None  # a call's session connected
        self.sent = self.received = 0

    # ---- life cycle (any thread) ------------------------------------------------------

    def start(self) -> IceAgent:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._reap_forever(), self._loop)
        return self

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            sessions = list(self._sessions)
        for session in sessions:
            with contextlib.suppress(Exception):
                self._call(self._close_session(session), LOOP_JOIN_S)
        with contextlib.suppress(Exception):
            self._call(self._cancel_tasks(), LOOP_JOIN_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(LOOP_JOIN_S)
        if not self._thread.is_alive():
            self._loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout_s: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise IceError(f"no answer within {timeout_s:.0f} s") from None

    # ---- one call (any thread but net-ice) --------------------------------------------

    def prepare(self, controlling: bool) -> IceSession:
        """Gather this side's candidates for one call (blocks for the STUN/TURN answers)."""
        return self._call(self._prepare(controlling), GATHER_TIMEOUT_S + 1.0)

    def connect(self, session: IceSession, remote: CallOffer) -> None:
        """Start the checks against the far side's parameters; returns at once."""
        self._loop.call_soon_threadsafe(self._start_checks, session, remote)

    def wait(self, session: IceSession, timeout_s: float) -> bool:
        """Block until the session connected (True) or failed / timed out (False)."""
        deadline = self._clock() + timeout_s
        while self._clock() < deadline:
            if session.connected.wait(min(0.05, timeout_s)):
                return True
            if session.failed.is_set():
                return False
        return session.connected.is_set()

    def close_session(self, session: IceSession) -> None:
        with contextlib.suppress(IceError):
            self._call(self._close_session(session), LOOP_JOIN_S)

    def adopt(self, old: IceSession, new: IceSession) -> None:
        """`new` (a restarted session) now carries the call `old` carried, under the same
        address, so the call layer sees no change; `old` is closed."""
        with self._lock:
            if old.address is not None:
                new.address = old.address
                self._by_address[old.address] = new
        self.close_session(old)

    def in_call(self) -> bool:
        """Whether a connected session carried a datagram lately (a call is running)."""
        with self._lock:
            sessions = list(self._sessions)
        return any(self.carries_call(s) for s in sessions)

    def carries_call(self, session: IceSession) -> bool:
        return (
            session.connected.is_set()
            and not session.failed.is_set()
            and self._clock() - session.last_active_s < CALL_ACTIVE_S
        )

    def session_for(self, address: Address) -> IceSession | None:
        with self._lock:
            return self._by_address.get(address)

    def send(self, data: bytes, address: Address) -> bool:
        """Send on the call's ICE session if `address` is one; False: not an ICE peer."""
        session = self.session_for(address)
        if session is None or session.winner is None:
            return False
        session.last_active_s = self._clock()
        self.sent += 1
        self._loop.call_soon_threadsafe(self._send_now, session.winner, data)
        return True

    # ---- on the loop ------------------------------------------------------------------

    def _connection(self, controlling: bool, relay_only: bool) -> Any:
        import aioice  # loaded with the first call that needs it

        settings = self.settings
        stun = settings.stun_server or settings.turn_server
        turn = settings.turn_server if relay_only else None
        return aioice.Connection(
            ice_controlling=controlling,
            stun_server=None if relay_only else stun,
            turn_server=turn,
            turn_username=settings.turn_username if relay_only else None,
            turn_password=settings.turn_password if relay_only else None,
            transport_policy=(
                aioice.TransportPolicy.RELAY if relay_only else aioice.TransportPolicy.ALL
            ),
        )

    async def _prepare(self, controlling: bool) -> IceSession:
        direct = self._connection(controlling, relay_only=False)
        relay = (
            self._connection(controlling, relay_only=True)
            if self.settings.turn_server is not None
            else None
        )
        session = IceSession(controlling, direct, relay, self._clock())
        with self._lock:
            self._sessions.append(session)
        gathers = [c.gather_candidates() for c in (direct, relay) if c is not None]
        results = await asyncio.gather(*gathers, return_exceptions=True)
        for connection, result in zip((direct, relay), results, strict=False):
            if isinstance(result, BaseException):
                log.warning("ICE gathering failed: %s", result)
                if connection is relay:
                    session.relay = None
                    await relay.close()
        return session

    def _start_checks(self, session: IceSession, remote: CallOffer) -> None:
        attempts = [(session.direct, remote.direct, 0.0)]
        if session.relay is not None and remote.relay is not None:
            attempts.append((session.relay, remote.relay, RELAY_GRACE_S))
        elif session.relay is not None:  # the far side has no relay: ours may still reach it
            attempts.append((session.relay, remote.direct, RELAY_GRACE_S))
        for connection, params, delay in attempts:
            task = self._loop.create_task(self._attempt(session, connection, params, delay))
            session.tasks.append(task)

    async def _attempt(
        self, session: IceSession, connection: Any, params: IceParams, delay_s: float
    ) -> None:
        import aioice

        if delay_s:
            await asyncio.sleep(delay_s)
        connection.remote_username, connection.remote_password = params.ufrag, params.pwd
        for line in params.candidates:
            try:
                candidate = aioice.Candidate.from_sdp(line)
                ipaddress.ip_address(candidate.host)  # no names: nothing to resolve or spoof
            except ValueError:
                log.info("ICE: dropped a malformed remote candidate")
                continue
            await connection.add_remote_candidate(candidate)
        await connection.add_remote_candidate(None)
        try:
            await asyncio.wait_for(connection.connect(), ICE_CONNECT_S)
        except (ConnectionError, TimeoutError) as exc:
            kind = "relay" if connection is session.relay else "direct"
            session.reason = f"ICE checks failed ({kind}): {exc or 'timeout'}"
            others = [t for t in session.tasks if t is not asyncio.current_task()]
            if session.winner is None and all(t.done() for t in others):
                session.failed.set()
            return
        address, path = _pair_path(connection)
        if session.winner is None:
            session.winner, session.address, session.path = connection, address, path
            session.last_active_s = self._clock()
            with self._lock:
                self._by_address[address] = session
            log.info("ICE connected: %s via %s:%s", path, *address)
            session.connected.set()
            if self.on_connected is not None:
                self.on_connected()
        self._loop.create_task(self._receive(session, connection))

    async def _receive(self, session: IceSession, connection: Any) -> None:
        while True:
            try:
                data = await connection.recv()
            except ConnectionError:
                return
            session.last_active_s = self._clock()
            self.received += 1
            if session.address is not None:
                self._deliver(data, session.address)

    def _send_now(self, connection: Any, data: bytes) -> None:
        task = self._loop.create_task(connection.send(data))
        self._sending.add(task)  # a TURN channel bind may make the first send wait
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("ICE send failed: %s", task.exception())

    async def _close_session(self, session: IceSession) -> None:
        with self._lock:
            if session in self._sessions:
                self._sessions.remove(session)
            if session.address is not None and self._by_address.get(session.address) is session:
                del self._by_address[session.address]
        for task in session.tasks:
            task.cancel()
        for connection in (session.direct, session.relay):
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
        if not session.connected.is_set():
            session.reason = session.reason or "closed"
            session.failed.set()

    async def _cancel_tasks(self) -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAP_EVERY_S)
            now = self._clock()
            with self._lock:
                sessions = list(self._sessions)
            for session in sessions:
                idle = session.connected.is_set() and now - session.last_active_s > SESSION_IDLE_S
                stuck = (
                    not session.connected.is_set()
                    and now - session.created_s > ICE_CONNECT_S + GATHER_TIMEOUT_S
                )
                if idle or stuck:
                    await self._close_session(session)
