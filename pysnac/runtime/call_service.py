"""`UdpCallService`: the call service the state machine talks to, on one datagram socket.

It joins the pure `Endpoint` to the world with exactly two long-lived threads: the socket
thread (blocks in `transport.recv`, feeds every datagram to the endpoint) and the timer
thread (sleeps on the clock until the endpoint's next deadline, or until something
changes it). The state machine's requests (`place_call`, `answer_call`, ...) run on the
machine's thread and return at once. One lock guards the endpoint; each operation ends
by flushing the endpoint's output: datagrams to the transport, events to `post` (under
the lock, so they reach the machine in order), media payloads to the call's
`MediaWorkers`, which exist only between `start_media` and `stop_media`.

Nothing slow runs under the lock, on the socket thread or on the machine's thread: a name
lookup (`place_call` with a host name) runs on a short-lived `net-resolve` thread, and
`start_media` hands the wait for the media preload and the opening of the sound device to
a short-lived `media-start` thread; both come back through the lock only to act, and a
call that ended meanwhile (a newer `generation`) makes them drop what they did. So a
sound card that takes seconds to open never stops receiving, keepalives or the LCD.
"""

from __future__ import annotations

import dataclasses
import importlib
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.audio.base import AudioDevice
from drivers.clock import Clock, MonotonicClock
from drivers.net.base import DatagramTransport, NetworkError, TransportClosed
from pysnac.call.endpoint import Endpoint, Output
from pysnac.call.limits import PEER_LOST_S
from pysnac.call.signalling import Phase
from pysnac.call_events import (
    PATH_DIRECT,
    PATH_RELAY,
    CallEvent,
    EventName,
    Failure,
    LinkStats,
    PostEvent,
)
from pysnac.channel.identity import Identity
from pysnac.channel.invite_stamps import InviteStamps
from pysnac.contacts import Contact
from pysnac.errors import PysnacError
from pysnac.limits import REASON_MAX_CHARS
from pysnac.stamp_file import load_stamps, save_stamps

if TYPE_CHECKING:  # the media stack (Opus, numpy) loads with the first call, not at start-up
    from pysnac.media.codec import CodecParams
    from pysnac.runtime.media_workers import MediaSnapshot, MediaWorkers
    from pysnac.runtime.ringer import Ringer

log = logging.getLogger(__name__)

# Loaded in the background at start, so the first call does not wait for Opus and numpy
# while the phone shows "Securing...".
PRELOAD_MODULES = (
    "pysnac.runtime.media_workers",
    "pysnac.media.session",
    "drivers.audio.wav_device",
)
PRELOAD_WAIT_S = 30.0  # a call or start-up step that needs the media stack waits this long
TIMER_IDLE_S = 3600.0  # with no deadline the timer thread still wakes now and then
THREAD_JOIN_S = 2.0
RECV_ERROR_PAUSE_S = 0.1  # after a failing receive, before trying again


def resolve(contact: Contact, family: int = socket.AF_INET) -> Contact:
    """The contact with its host name turned into an IP address, once per call, so that
    neither the endpoint nor each retransmission waits for a name lookup."""
    if contact.address is None:
        return contact
    host, port = contact.address
    try:
        ipaddress.ip_address(host)
        return contact
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, family=family, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise NetworkError(f"cannot resolve {host}: {exc}") from exc
    resolved = str(infos[0][4][0])
    return dataclasses.replace(contact, address=(resolved, port))


def path_of(transport: DatagramTransport, peer: tuple[str, int] | None) -> str:
    """ "relay" when the call's datagrams go through a TURN relay, else "direct"."""
    path_for = getattr(transport, "path_for", None)  # only the ICE transport has relays
    if peer is None or path_for is None:
        return PATH_DIRECT
    return str(path_for(peer))


def _is_ip_literal(contact: Contact) -> bool:
    if contact.address is None:
        return True  # nothing to look up: the endpoint reports "No address"
    try:
        ipaddress.ip_address(contact.address[0])
    except ValueError:
        return False
    return True


class UdpCallService:
    """Implements `pysnac.call_events.CallService`; `start()` it, `close()` it."""

    def __init__(
        self,
        *,
        identity: Identity,
        name: str,
        transport: DatagramTransport,
        post: PostEvent,
        contacts: Callable[[], Iterable[Contact]],
        audio_factory: Callable[[], AudioDevice],
        codec: CodecParams | None = None,
        clock: Clock | None = None,
        wall_offset_s: float | None = None,
        call_log: Path | None = None,
        stamps_path: Path | None = None,
        ringer: Ringer | None = None,
        peer_lost_s: float = PEER_LOST_S,
    ) -> None:
        if codec is None:
            from pysnac.media.codec import CodecParams

            codec = CodecParams()
        self.codec = codec
        self.clock = clock or MonotonicClock()
        if wall_offset_s is None:
            wall_offset_s = time.time() - self.clock.now()
        codec_setup = {"bitrate": self.codec.bitrate, "frame_ms": self.codec.frame_ms}
        self._stamps_path = stamps_path
        stamps = load_stamps(stamps_path) if stamps_path is not None else InviteStamps()
        self.endpoint = Endpoint(
            identity,
            name=name,
            codec=codec_setup,
            contacts=contacts,
            wall_offset_s=wall_offset_s,
            stamps=stamps,
            peer_lost_s=peer_lost_s,
        )
        self.transport = transport
        self._post = post
        self._audio_factory = audio_factory
        self._call_log = call_log
        self._ringer = ringer  # None: tones are silent (tests, benches)
        if ringer is not None:
            ringer.before_open = self.wait_preloaded
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._armed = 0.0  # the deadline the timer thread sleeps until
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self.preloaded = threading.Event()  # the media stack is imported
        self._workers: MediaWorkers | None = None
        self._generation = 0  # bumped when a call is placed or ended: stale helpers give up
        self._helpers: list[threading.Thread] = []  # net-resolve and media-start threads
        self._last_snapshot: MediaSnapshot | None = None
        self._muted = False
        self._volume: int | None = None
        self.send_errors = 0
        self.marks: dict[str, float] = {}  # clock times of call milestones, for the summary
        self.sas = ""  # of the latest established call
        self.path = PATH_DIRECT  # of the latest established call: direct or relay
        self._rtt_s: float | None = None  # of the latest established call
        self._outages: list[tuple[float, float]] = []  # of the latest established call

    # ---- lifecycle --------------------------------------------------------------------

    def start(self, preload: bool = True) -> UdpCallService:
        for name, target in (("net-socket", self._socket_loop), ("net-timer", self._timer_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()
        if preload:
            threading.Thread(target=self._preload, name="media-preload", daemon=True).start()
        else:
            self.preloaded.set()
        return self

    def _preload(self) -> None:
        """Import the media stack now, so the first call does not wait for it. Whatever
        happens, `preloaded` is set at the end: others wait on it rather than importing the
        same packages at the same time (scipy's imports do not survive two threads: a
        phone start failed that way about one time in 40)."""
        try:
            for module in PRELOAD_MODULES:
                try:
                    importlib.import_module(module)
                except Exception as exc:  # the first call will report it properly
                    log.warning("preloading %s failed: %s", module, exc)
        finally:
            self._append_call_log({"event": "preloaded", "at": self.clock.now()})
            self.preloaded.set()  # after the log line: whoever waits on it may read the log

    def wait_preloaded(self, timeout_s: float = PRELOAD_WAIT_S) -> bool:
        return self.preloaded.wait(timeout_s)

    def wait_ready(self, timeout_s: float = PRELOAD_WAIT_S) -> bool:
        """The `CallService` readiness: the media stack is preloaded."""
        return self.wait_preloaded(timeout_s)

    def close(self) -> None:
        """Stop media, the tone, both threads and the socket. Idempotent."""
        self.stop_media()
        self.stop_tone()
        self._closed.set()
        self._wake.set()
        self.transport.close()
        for thread in [*self._threads, *self._helpers]:
            thread.join(THREAD_JOIN_S)
        self._threads = []
        self._helpers = []

    @property
    def local_address(self) -> tuple[str, int]:
        return self.transport.local_address

    def set_audio_ok(self, ok: bool) -> None:
        """The power-on sound check's verdict: without a working device, callers are
        refused with NO_AUDIO (their screen says "NAME: no audio") instead of ringing."""
        with self._lock:
            self.endpoint.audio_ok = ok

    def rename(self, name: str) -> None:
        """The user renamed the device: the next call's INVITE carries the new name."""
        with self._lock:
            self.endpoint.name = name

    # ---- CallService ------------------------------------------------------------------

    def place_call(self, contact: Contact) -> None:
        self.marks = {"placed": self.clock.now()}
        with self._lock:
            self._generation += 1
            generation = self._generation
        if _is_ip_literal(contact):
            self._run(lambda now: self.endpoint.place_call(contact, now))
        else:  # a DNS lookup can take seconds: never on the machine's thread
            self._helper("net-resolve", lambda: self._resolve_and_place(contact, generation))

    def _resolve_and_place(self, contact: Contact, generation: int) -> None:
        """`net-resolve`: look the name up, then place the call unless it was ended."""
        try:
            local_host = self.transport.local_address[0]
            contact = resolve(contact, socket.AF_INET6 if ":" in local_host else socket.AF_INET)
            failure = None
        except NetworkError as exc:
            failure = Failure("Unknown host", str(exc))
        with self._lock:
            if generation != self._generation:
                return  # cancelled while we looked it up
            if failure is not None:
                log.warning("%s", failure.detail)
                self._post(CallEvent(EventName.UNREACHABLE, failure))
                return
            self._run(lambda now: self.endpoint.place_call(contact, now))

    def cancel_call(self) -> None:
        self._end(self.endpoint.cancel_call)

    def answer_call(self) -> None:
        self.marks["answered"] = self.clock.now()
        self._run(self.endpoint.answer_call)

    def reject_call(self) -> None:
        self._end(self.endpoint.reject_call)

    def hang_up(self) -> None:
        self._end(self.endpoint.hang_up)

    def _end(self, operation: Callable[[float], None]) -> None:
        with self._lock:
            self._generation += 1
            self._run(operation)

    def start_media(self) -> None:
        """Returns at once: `media-start` waits for the preload and opens the device."""
        with self._lock:
            call = self.endpoint.active
            if self._workers is not None or call is None or call.phase is not Phase.ESTABLISHED:
                log.warning("start_media with no established call; ignored")
                return
            self._last_snapshot = None
            generation = self._generation
            rtt_s = call.rtt_s  # the handshake's round trip seeds the jitter buffer
        self._helper("media-start", lambda: self._open_media(generation, rtt_s))

    def _open_media(self, generation: int, rtt_s: float | None = None) -> None:
        """`media-start`: everything slow about starting a call's media, outside the lock."""
        self.wait_preloaded()  # a call answered during start-up: never import alongside it
        try:
            from pysnac.media.session import MediaSession
            from pysnac.runtime.media_workers import MediaWorkers

            workers = MediaWorkers(
                MediaSession(self.codec, rtt_s=rtt_s),
                self._audio_factory(),
                send=self._send_media,
                clock=self.clock,
                on_failure=self._media_failed,
            )
            workers.set_muted(self._muted)
            if self._volume is not None:
                workers.set_volume(self._volume)
            workers.start()  # opens the sound device: the slow part
        except PysnacError as exc:
            with self._lock:
                if generation == self._generation:
                    self._post_failure(EventName.AUDIO_FAILED, exc)
                    self._end(self.endpoint.hang_up)  # the far end hears bye, not silence
            return
        with self._lock:
            current = generation == self._generation and self._workers is None
            if current:
                self._workers = workers
                self.marks["media_started"] = self.clock.now()
        if not current:  # the call ended while the device opened
            workers.stop()
            return
        workers.set_muted(self._muted)  # what changed while the device opened
        if self._volume is not None:
            workers.set_volume(self._volume)
        # The InCall screen shows before the device is open: this line says audio flows.
        self._append_call_log({"event": "media_started", "at": self.marks["media_started"]})

    def _helper(self, name: str, target: Callable[[], None]) -> None:
        self._helpers = [t for t in self._helpers if t.is_alive()]
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._helpers.append(thread)
        thread.start()

    def wait_media_started(self, timeout_s: float) -> bool:
        """For tests and the bench: until `start_media`'s thread is done (True if it is)."""
        for thread in list(self._helpers):
            thread.join(timeout_s)
        return not any(t.is_alive() for t in self._helpers)

    def stop_media(self) -> None:
        with self._lock:
            self._generation += 1  # a media-start still opening the device gives up
            workers, self._workers = self._workers, None
        if workers is None:
            return
        workers.stop()  # joins; outside the lock so the socket thread is never blocked on it
        self._last_snapshot = workers.snapshot()
        self._write_call_log(self._last_snapshot)

    def set_volume(self, level: int) -> None:
        self._volume = level
        if (workers := self._workers) is not None:
            workers.set_volume(level)

    def start_tone(self, tone: str, level: int) -> None:
        if self._ringer is not None:
            self._ringer.start(tone, level)

    def stop_tone(self) -> None:
        if self._ringer is not None:
            self._ringer.stop()

    def set_muted(self, muted: bool) -> None:
        self._muted = muted
        if (workers := self._workers) is not None:
            workers.set_muted(muted)

    def link_stats(self) -> LinkStats:
        call = self.endpoint.active
        silent_s = call.silent_s(self.clock.now()) if call is not None else None
        workers = self._workers
        snap = workers.snapshot() if workers is not None else self._last_snapshot
        if snap is None:
            return LinkStats(reconnecting_s=silent_s)
        media = snap.media
        extra = {
            "delay_ms": media.current_delay_ms,
            "target_delay_ms": media.target_delay_ms,
            "late": float(media.late),
            "fec_recovered": float(media.fec_recovered + media.redundancy_recovered),
            "mos_rx": media.link_mos_rx,  # the link score, both directions (-1: not yet)
            "mos_tx": media.link_mos_tx,
            "outage": float(media.link_outage),
        }
        rtt_s = call.rtt_s if call is not None and call.rtt_s is not None else self._rtt_s
        return LinkStats(
            # Nothing arrives in an outage: no bars. Else the worse direction's link score
            # (an E-model estimate of what each listener hears, after loss recovery).
            quality_bars=0 if silent_s is not None else media.link_bars,
            loss_percent=media.loss_percent_local,
            rtt_ms=None if rtt_s is None else 1000.0 * rtt_s,
            frames_sent=media.frames_sent,
            frames_received=media.received,
            frames_concealed=media.concealed,
            input_overflows=snap.audio.input_overflows,
            output_underruns=snap.audio.output_underruns,
            relayed=self.path == PATH_RELAY,
            reconnecting_s=silent_s,
            extra=extra,
        )

    @property
    def media_running(self) -> bool:
        return self._workers is not None

    # ---- the two threads --------------------------------------------------------------

    def _socket_loop(self) -> None:
        while not self._closed.is_set():
            try:
                item = self.transport.recv(None)
            except TransportClosed:
                return
            except PysnacError as exc:
                log.warning("receive failed: %s", exc)
                self._closed.wait(RECV_ERROR_PAUSE_S)  # no busy loop on a broken socket
                continue
            if item is None:
                continue
            data, addr = item
            queued_s = self.transport.last_queued_s  # dated when it arrived, not when read
            self._guarded(lambda now, d=data, a=addr: self.endpoint.receive(d, a, now), queued_s)

    def _timer_loop(self) -> None:
        while not self._closed.is_set():
            with self._lock:  # _run compares with _armed under this lock: no lost wake-up
                self._wake.clear()
                now = self.clock.now()
                deadline = self.endpoint.next_deadline()
                if deadline is None:
                    deadline = now + TIMER_IDLE_S
                self._armed = deadline
            if deadline > now and not self.clock.wait_until(deadline, self._wake):
                continue  # woken: something changed the deadline
            if self._closed.is_set():
                return
            self._guarded(self.endpoint.handle_timer)

    def _guarded(self, operation: Callable[[float], None], queued_s: float = 0.0) -> None:
        """`_run` for the long-lived threads: a bug is logged, and the phone stays up."""
        try:
            self._run(operation, queued_s)
        except Exception:
            log.exception("call service operation failed")

    # ---- helpers ----------------------------------------------------------------------

    def _run(self, operation: Callable[[float], None], queued_s: float = 0.0) -> None:
        """Run one endpoint operation at `now`, then carry out what it asked for. A datagram
        runs at its arrival, `queued_s` before now: after a stall of this phone, the media
        that queued meanwhile is dated as it came (other threads may have run at a later
        `now` by then; the endpoint and the jitter buffer only compare times)."""
        with self._lock:
            now = self.clock.now() - queued_s
            operation(now)
            if self.endpoint.stamps.changed:
                self._save_stamps()  # before the INVITE or the ring: a crash cannot undo it
            out = self.endpoint.take_output()
            self._send_all(out)
            for event in out.events:
                self._note(event, now)
                self._post(event)
            workers = self._workers
            deadline = self.endpoint.next_deadline()
            if deadline is not None and deadline < self._armed:
                self._wake.set()  # earlier than the timer thread waits for (rarely: not media)
        if out.media and workers is not None:
            for payload in out.media:
                workers.deliver(payload, now)

    def _save_stamps(self) -> None:
        if self._stamps_path is None:
            self.endpoint.stamps.changed = False
            return
        try:
            save_stamps(self._stamps_path, self.endpoint.stamps)
        except OSError as exc:
            log.warning("cannot save invite stamps %s: %s", self._stamps_path, exc)

    def _send_all(self, out: Output) -> None:
        for datagram, addr in out.datagrams:
            try:
                self.transport.send(datagram, addr)
            except TransportClosed:
                return
            except PysnacError as exc:  # every send's errors, media's too, counted here
                self.send_errors += 1
                if self.send_errors & (self.send_errors - 1) == 0:  # 1, 2, 4, ...: no flood
                    log.warning(
                        "send to %s:%s failed (%d so far): %s",
                        addr[0],
                        addr[1],
                        self.send_errors,
                        exc,
                    )

    def _send_media(self, payload: bytes) -> None:
        """The capture thread's encoded frame: sealed by the endpoint and sent through the
        same `Output` path as everything else."""
        self._run(lambda now: self.endpoint.send_media(payload, now))

    def _media_failed(self, exc: PysnacError) -> None:
        with self._lock:
            self._post_failure(EventName.AUDIO_FAILED, exc)
            self._run(self.endpoint.hang_up)  # the far end hears bye, not silence

    def _post_failure(self, name: EventName, exc: PysnacError) -> None:
        log.error("%s: %s", name.value, exc)
        self._post(CallEvent(name, Failure(exc.reason[:REASON_MAX_CHARS], str(exc))))

    def _note(self, event: CallEvent, now: float) -> None:
        mark = {
            EventName.INCOMING_CALL: "incoming",
            EventName.REMOTE_RINGING: "remote_ringing",
            EventName.CALL_ESTABLISHED: "established",
        }.get(event.name)
        if mark == "incoming":
            self.marks = {}
        if mark is not None:
            self.marks[mark] = now
        if event.name is EventName.CALL_ESTABLISHED:
            self.sas = getattr(event.data, "sas", "")
            active = self.endpoint.active
            self._rtt_s = active.rtt_s if active is not None else None
            self.path = path_of(self.transport, active.peer_addr if active else None)
            self._outages = active.outages if active is not None else []

    def _write_call_log(self, snap: MediaSnapshot) -> None:
        """One JSON line per call (for `make demo` and the benchmark), when configured."""
        if self._call_log is None:
            return
        record = {
            "event": "call",
            "marks": {**self.marks, "first_heard": snap.first_heard_at},
            "outages": [list(outage) for outage in self._outages],  # (silent since, back at)
            "resumed_heard": list(snap.resumed_at),
            "sas": self.sas,
            "path": self.path,
            "rtt_ms": None if self._rtt_s is None else 1000.0 * self._rtt_s,
            "media": asdict(snap.media),
            "audio": asdict(snap.audio),
            "counters": dict(self.endpoint.counters),
            "malformed_media": snap.malformed,
            "send_errors": self.send_errors,
        }
        self._append_call_log(record)

    def _append_call_log(self, record: dict[str, object]) -> None:
        if self._call_log is None:
            return
        try:
            with self._call_log.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        except OSError as exc:
            log.warning("cannot write the call log %s: %s", self._call_log, exc)
