"""One call's media threads: capture -> encode -> seal -> send, and jitter buffer -> playout.

Two threads per call, both paced by the sound device's own clock (its `read_frame` and
`write_frame` block), never by sleeps: the capture thread reads a frame, encodes it
(`MediaSession.outgoing`) and hands the payload to `send` (the service seals and sends
it); the playout thread pulls one frame per tick from the jitter buffer
(`MediaSession.playout`) and writes it to the device; once the device is full, it pulls
each frame just before the device has room for it (`PULL_AHEAD_S`), so no frame waits in
`write_frame` after leaving the jitter buffer. Decrypted media payloads arrive from the
service's socket thread through `deliver`. `MediaSession` is not thread-safe, so one
lock guards it. `stop` stops the device (which wakes both blocked threads) and joins them:
nothing started here outlives the call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from drivers.audio.base import AudioDevice, AudioStats
from drivers.clock import Clock
from pysnac.errors import PysnacError
from pysnac.media.jitter import Source
from pysnac.media.session import MalformedFrame, MediaSession, MediaStats

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 2.0  # a device that does not wake its threads within this is a bug
VOLUME_UNITY_LEVEL = 7  # the state machine's default volume plays at unity gain
VOLUME_STEP_DB = 3.0
HEARD_SOURCES = frozenset({Source.PRIMARY, Source.REDUNDANT, Source.FEC})
PULL_AHEAD_S = 0.005  # take a frame from the jitter buffer this long before the device wants it
WRITE_BLOCKED_S = 0.001  # a write_frame that took this long found the device's buffer full
RESUMED_AFTER_S = 0.5  # a frame heard after this long without one: the audio came back
MAX_RESUMES_KEPT = 64  # per call, for the call log


def volume_gain(level: int) -> float:
    """Linear gain for a volume level 0..10: 0 is silent, 3 dB per step around unity."""
    if level <= 0:
        return 0.0
    return float(10.0 ** ((level - VOLUME_UNITY_LEVEL) * VOLUME_STEP_DB / 20.0))


def apply_gain(pcm: bytes, gain: float) -> bytes:
    if gain == 1.0:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * gain
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


@dataclass(frozen=True)
class MediaSnapshot:
    media: MediaStats
    audio: AudioStats
    first_heard_at: float | None  # clock time of the first frame played from the network
    first_sent_at: float | None
    malformed: int
    resumed_at: tuple[float, ...] = ()  # clock times audio came back after RESUMED_AFTER_S


class MediaWorkers:
    """Capture and playout threads for one call; `start` once, `stop` once."""

    def __init__(
        self,
        session: MediaSession,
        device: AudioDevice,
        *,
        send: Callable[[bytes], None],
        clock: Clock,
        on_failure: Callable[[PysnacError], None],
    ) -> None:
        self._session = session
        self._device = device
        self._send = send
        self._clock = clock
        self._on_failure = on_failure
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._muted = False
        self._gain = 1.0
        self._malformed = 0
        self._first_heard_at: float | None = None
        self._first_sent_at: float | None = None
        self._last_heard_at: float | None = None
        self._resumed_at: list[float] = []

    def start(self) -> None:
        """Open the device (AudioDeviceError if it cannot) and start both threads."""
        self._device.start()
        for name, target in (("capture", self._capture), ("playout", self._playout)):
            thread = threading.Thread(target=target, name=f"media-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Stop the device, join both threads. Idempotent."""
        self._stopping.set()
        try:
            self._device.stop()
        except Exception:  # a failing device must not keep the threads alive
            log.exception("audio device stop failed")
        for thread in self._threads:
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.error("media thread %s did not stop", thread.name)
        self._threads = [t for t in self._threads if t.is_alive()]

    @property
    def alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def deliver(self, payload: bytes, now: float) -> None:
        """A decrypted media payload from the network (socket thread)."""
        with self._lock:
            try:
                self._session.incoming(payload, now)
            except MalformedFrame:
                self._malformed += 1

    def set_muted(self, muted: bool) -> None:
        self._muted = muted

    def set_volume(self, level: int) -> None:
        self._gain = volume_gain(level)

    def snapshot(self) -> MediaSnapshot:
        with self._lock:
            media = self._session.stats()
        return MediaSnapshot(
            media,
            self._device.stats(),
            self._first_heard_at,
            self._first_sent_at,
            self._malformed,
            tuple(self._resumed_at),
        )

    # ---- the threads ------------------------------------------------------------------

    def _capture(self) -> None:
        silence = b""
        try:
            while not self._stopping.is_set():
                pcm = self._device.read_frame()
                if self._stopping.is_set():
                    return
                if self._muted:
                    silence = silence or bytes(len(pcm))
                    pcm = silence
                now = self._clock.now()
                with self._lock:
                    payload = self._session.outgoing(pcm, now)
                if payload is None:
                    continue
                self._send(payload)  # never raises: the service counts send errors
                if self._first_sent_at is None:
                    self._first_sent_at = now
        except PysnacError as exc:
            self._fail(exc)
        except Exception as exc:
            log.exception("capture worker crashed")
            self._fail(PysnacError(f"capture failed: {exc}"))

    def _playout(self) -> None:
        frame_s = self._session.params.frame_s
        pull_at: float | None = None
        try:
            while not self._stopping.is_set():
                if pull_at is not None and not self._clock.wait_until(pull_at, self._stopping):
                    return
                now = self._clock.now()
                with self._lock:
                    pcm = self._session.playout(now)
                    source = self._session.jitter_buffer.last_source
                if source in HEARD_SOURCES:
                    self._heard(now)
                began = self._clock.now()
                self._device.write_frame(apply_gain(pcm, self._gain))
                done = self._clock.now()
                # A write that waited found the device full: it has room for the next frame
                # one frame period from now. Take that frame from the jitter buffer just
                # before then: pulled at once, it would only wait inside write_frame, one
                # frame of mouth-to-ear latency (bench/bench_latency.py). A write that did
                # not wait means the device is short of audio: pull again at once.
                blocked = done - began >= WRITE_BLOCKED_S
                pull_at = done + frame_s - PULL_AHEAD_S if blocked else None
        except PysnacError as exc:
            self._fail(exc)
        except Exception as exc:
            log.exception("playout worker crashed")
            self._fail(PysnacError(f"playout failed: {exc}"))

    def _heard(self, now: float) -> None:
        """A frame from the network plays at `now`: note the first, and each comeback."""
        if self._first_heard_at is None:
            self._first_heard_at = now
        last = self._last_heard_at
        came_back = last is not None and now - last >= RESUMED_AFTER_S
        if came_back and len(self._resumed_at) < MAX_RESUMES_KEPT:
            self._resumed_at.append(now)
        self._last_heard_at = now

    def _fail(self, exc: PysnacError) -> None:
        if not self._stopping.is_set():
            self._on_failure(exc)
