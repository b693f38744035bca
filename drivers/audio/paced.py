"""The clock-paced core shared by the virtual devices (WAV and silence).

A virtual device behaves like a sound card whose crystal is the injected `Clock`:
- capture: frame k (from 0) is complete at t0 + (k + 1) * frame_s, where t0 is `start()`;
  `read_frame` blocks until then. A reader that falls more than
  `CAPTURE_BUFFER_FRAMES` behind loses the oldest frames, counted as one input overflow
  per stall (what a real card's ring buffer does).
- playout: the speaker plays one frame per frame_s from the first write; `write_frame`
  blocks until the frame fits in `playout_buffer_s` of audio (what is queued plus what is
  left of the frame playing), as a real card's ring buffer does. A slot with nothing
  queued plays silence and counts one underrun per gap, so the recording stays aligned.
Subclasses say where captured frames come from and where played frames go.
"""

from __future__ import annotations

import threading
from collections import deque

from drivers.audio.base import AudioParams, AudioStats, check_frame
from drivers.clock import Clock, MonotonicClock

CAPTURE_BUFFER_FRAMES = 8  # 160 ms of capture a stalled reader may catch up on


class PacedDevice:
    """Base of the virtual devices: pacing, queueing and counters; no I/O of its own."""

    name = "paced"

    def __init__(self, params: AudioParams) -> None:
        self.params = params
        self.clock: Clock = params.clock if params.clock is not None else MonotonicClock()
        self._stopped = threading.Event()
        self._started = False
        self._lock = threading.Lock()  # counters and the playout queue
        self._capture_lock = threading.Lock()
        self._t0 = 0.0
        self._next_capture = 0  # index of the next frame read_frame returns
        self._play_t: float | None = None  # start time of the next playout slot
        self._queue: deque[bytes] = deque()
        self._in_gap = False
        self._silence = bytes(params.frame_bytes)
        self._captured = self._played = self._overflows = self._underruns = 0

    # ---- hooks for subclasses -----------------------------------------------------------

    def _open(self) -> None:
        """Open files; raise AudioDeviceError naming what is missing."""

    def _capture(self, index: int) -> bytes:
        """The captured frame number `index`."""
        return self._silence

    def _play(self, pcm: bytes) -> None:
        """A frame reaches the speaker."""

    def _close(self) -> None:
        """Release files."""

    # ---- AudioDevice ---------------------------------------------------------------------

    def start(self) -> None:
        if self._started:
            return
        self._open()
        self._t0 = self.clock.now()
        self._started = True

    def read_frame(self) -> bytes:
        if not self._started:
            raise RuntimeError(f"{self.name}: read_frame before start")
        with self._capture_lock:
            if self._stopped.is_set():
                return self._silence
            deadline = self._t0 + (self._next_capture + 1) * self.params.frame_s
            if not self.clock.wait_until(deadline, self._stopped):
                return self._silence
            # Frames the card captured while nobody read; beyond its buffer they are lost.
            ready = int((self.clock.now() - self._t0) / self.params.frame_s + 1e-9)
            behind = ready - self._next_capture
            if behind > CAPTURE_BUFFER_FRAMES:
                self._next_capture = ready - CAPTURE_BUFFER_FRAMES
                with self._lock:
                    self._overflows += 1
            pcm = self._capture(self._next_capture)
            self._next_capture += 1
            with self._lock:
                self._captured += 1
            return pcm

    def write_frame(self, pcm: bytes) -> None:
        if not self._started:
            raise RuntimeError(f"{self.name}: write_frame before start")
        check_frame(self.params, pcm, self.name)
        with self._lock:
            if self._stopped.is_set():
                return
            if self._play_t is None:
                self._play_t = self.clock.now()  # the speaker starts with this frame
            else:
                self._drain(self.clock.now())
        frame_s = self.params.frame_s
        room_s = max(frame_s, self.params.playout_buffer_s)  # a frame always fits, at worst
        while True:
            with self._lock:
                if self._stopped.is_set():
                    return
                now = self.clock.now()
                assert self._play_t is not None
                # Buffered: the frames waiting, and what is left of the one playing now.
                held_s = len(self._queue) * frame_s + max(0.0, self._play_t - now)
                if held_s + frame_s <= room_s + 1e-9:
                    self._queue.append(pcm)
                    self._drain(now)
                    return
                room_at = now + held_s + frame_s - room_s  # when enough has played
            if not self.clock.wait_until(room_at, self._stopped):
                return
            with self._lock:
                self._drain(self.clock.now())

    def stop(self) -> None:
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            if not self._started:
                return
            # Like Pa_StopStream: what was queued still reaches the speaker (the recording).
            while self._queue:
                self._play(self._queue.popleft())
                self._played += 1
        with self._capture_lock:
            self._close()

    def stats(self) -> AudioStats:
        with self._lock:
            return AudioStats(self._captured, self._played, self._overflows, self._underruns)

    # ---- internals ---------------------------------------------------------------------

    def _drain(self, now: float) -> None:
        """Play every slot that has started by `now` (caller holds self._lock)."""
        assert self._play_t is not None
        while self._play_t <= now + 1e-9:
            if self._queue:
                self._play(self._queue.popleft())
                self._played += 1
                self._in_gap = False
            else:
                if not self._in_gap:
                    self._underruns += 1
                    self._in_gap = True
                self._play(self._silence)
            self._play_t += self.params.frame_s
