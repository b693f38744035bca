"""The ringer: one worker thread that plays a call-progress tone until told to stop.

The call service starts it from the Ringing state's entry hook (the ring) and when the
callee's phone reports ringing in Dialing (the ring-back), and stops it from those
states' exit hooks, before media opens the same sound device. The worker opens its own
device, writes `pysnac.tones` frames (paced by the device's clock, never by sleeps), and
releases the device when stopped. A device that is missing or fails is one log line and
no tone: a phone without a speaker still rings on its screen and still answers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from drivers.audio.base import AudioDevice, AudioParams
from pysnac.errors import PysnacError
from pysnac.tones import Tone

log = logging.getLogger(__name__)

RINGER_JOIN_S = 2.0  # the device's stop() wakes a blocked write at once; longer is a bug


class Ringer:
    """`start(tone, level)` / `stop()` from the state-machine thread; `frames_played` and
    `wait_frames(n, timeout_s)` for tests and the bench."""

    def __init__(self, open_device: Callable[[], AudioDevice], params: AudioParams) -> None:
        self._open_device = open_device
        self._params = params
        self._lock = threading.Lock()
        self._played = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._device: AudioDevice | None = None
        self._stopping = threading.Event()
        self.frames_played = 0
        self.problem = ""  # the last device fault, "" when the last tone played
        # Set by the call service: wait for its start-up imports (one importer at a time).
        self.before_open: Callable[[], object] = lambda: None

    def start(self, tone: str, level: int) -> None:
        """Play `tone` (a `Tone` name) at volume `level`, replacing any tone playing."""
        self.stop()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(Tone(tone), level, self._stopping), name="ringer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Idempotent; returns once the device is released."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        with self._lock:
            device = self._device
        if device is not None:
            device.stop()  # wakes a blocked write_frame
        thread.join(RINGER_JOIN_S)
        if thread.is_alive():
            log.error("the ringer did not stop within %.0f s", RINGER_JOIN_S)

    def wait_ended(self, timeout_s: float) -> bool:
        """Until the tone ended by itself (its device failed); False if it still plays."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return thread is None or not thread.is_alive()

    def wait_frames(self, count: int, timeout_s: float) -> bool:
        with self._played:
            return self._played.wait_for(lambda: self.frames_played >= count, timeout_s)

    def _run(self, tone: Tone, level: int, stopping: threading.Event) -> None:
        self.before_open()
        if stopping.is_set():  # stopped before it began (the call was answered at once)
            return
        from pysnac.runtime.media_workers import volume_gain  # numpy: with the first tone
        from pysnac.tones import tone_frame

        device = self._open_device()
        try:
            device.start()
        except PysnacError as exc:
            self.problem = exc.reason
            log.warning("no %s tone: %s", tone.value, exc)
            device.stop()
            return
        with self._lock:
            self._device = device
        self.problem = ""
        gain = volume_gain(level)
        n, rate = self._params.frame_samples, self._params.sample_rate
        index = 0
        try:
            while not stopping.is_set():
                device.write_frame(tone_frame(tone, index, n, rate, gain))
                index += 1
                with self._played:
                    self.frames_played += 1
                    self._played.notify_all()
        except PysnacError as exc:
            log.warning("%s tone stopped: %s", tone.value, exc)
        finally:
            with self._lock:
                self._device = None
            device.stop()
