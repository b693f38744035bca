"""The real sound card through PortAudio (PyAudio): the only module that imports pyaudio.

One input and one output stream, both blocking, so the device's crystal paces the call.
Buffers are kept small for mouth-to-ear latency: PortAudio periods of
`PERIOD_S` (10 ms, half a frame). Measured through the ALSA pulse plugin: capture then
buffers ~20 ms, and playout holds at most 3 periods (30 ms): the virtual devices copy that.

Faults, the classic Raspberry Pi ones included. PyAudio CLOSES a stream whenever it raises
(even for `-9981` input overflow or `-9980` output underflow), so both are read and
written with the exceptions off and detected from the buffer fill instead:
- input overflow: the capture buffer found full before a read (samples were being lost;
  the ALSA pulse plugin never flags overruns anyway), counted per read that finds it full;
- output underrun: the playout buffer found empty before a write (the speaker ran dry),
  counted once per gap;
- a device missing at start, or failing mid-call: `AudioDeviceError` naming it.
PyAudio() prints ~80 lines of ALSA/JACK probing noise on fd 2; it is silenced there.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from drivers.audio.base import AudioDeviceError, AudioParams, AudioStats, DeviceInfo, check_frame

PERIOD_S = 0.010  # PortAudio frames_per_buffer, as a duration
STOP_WAIT_S = 1.0  # how long stop() waits for an in-flight read/write (one frame is 20 ms)
FULL_SLACK_FRAMES = 1  # a full capture buffer reads as capacity - 1 through the pulse plugin

# PortAudio's initialise/open/close/terminate are not thread-safe (two phones starting in
# one process crashed it), and quiet_stderr() redirects fd 2 for the whole process: all of
# them go through this one lock. Re-entrant: start() releases on failure while holding it.
_PORTAUDIO_LOCK = threading.RLock()


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence C-level writes to fd 2 (ALSA/JACK probing) for the duration."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _new_pyaudio() -> Any:
    try:
        import pyaudio
    except ImportError as exc:  # pragma: no cover - setup.sh installs it
        raise AudioDeviceError("pyaudio", f"PyAudio is not installed ({exc})") from exc
    with _PORTAUDIO_LOCK, quiet_stderr():
        return pyaudio.PyAudio()


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio sees, in index order."""
    with _PORTAUDIO_LOCK:
        return _list_devices(_new_pyaudio())


def _list_devices(pa: Any) -> list[DeviceInfo]:
    try:
        devices = []
        for index in range(pa.get_device_count()):
            info = pa.get_device_info_by_index(index)
            host = pa.get_host_api_info_by_index(info["hostApi"])["name"]
            devices.append(
                DeviceInfo(
                    index=index,
                    name=str(info["name"]),
                    max_input_channels=int(info["maxInputChannels"]),
                    max_output_channels=int(info["maxOutputChannels"]),
                    default_sample_rate=float(info["defaultSampleRate"]),
                    host_api=str(host),
                )
            )
        return devices
    finally:
        pa.terminate()


def _resolve(pa: Any, wanted: str | int | None, direction: str) -> tuple[int, str]:
    """A device index from an index, an exact name, or a unique-enough name substring."""
    channels_key = "maxInputChannels" if direction == "input" else "maxOutputChannels"
    if wanted is None:
        try:
            info = (
                pa.get_default_input_device_info()
                if direction == "input"
                else pa.get_default_output_device_info()
            )
        except OSError as exc:
            raise AudioDeviceError(f"default {direction}", "no such device", missing=True) from exc
        return int(info["index"]), str(info["name"])
    infos = [pa.get_device_info_by_index(i) for i in range(pa.get_device_count())]
    usable = [info for info in infos if info[channels_key] >= 1]
    text = str(wanted).strip()
    if text.isdigit():
        for info in usable:
            if info["index"] == int(text):
                return int(info["index"]), str(info["name"])
        raise AudioDeviceError(text, f"no {direction} device with this index", missing=True)
    exact = [info for info in usable if info["name"] == text]
    partial = [info for info in usable if text.lower() in str(info["name"]).lower()]
    for matches in (exact, partial):
        if matches:
            return int(matches[0]["index"]), str(matches[0]["name"])
    raise AudioDeviceError(text, f"no {direction} device with this name", missing=True)


class PyAudioDevice:
    """A real full-duplex sound device; see the module docstring for buffers and faults."""

    def __init__(self, params: AudioParams) -> None:
        self.params = params
        self.name = (
            f"pyaudio:{params.input_device or 'default'}>{params.output_device or 'default'}"
        )
        self._pa: Any = None
        self._in: Any = None
        self._out: Any = None
        self._in_name = self._out_name = ""
        self._period = max(1, round(params.sample_rate * PERIOD_S))
        self._in_capacity = 0
        self._out_capacity = 0
        self._stopped = threading.Event()
        self._in_lock = threading.Lock()
        self._out_lock = threading.Lock()
        self._counts = threading.Lock()
        self._silence = bytes(params.frame_bytes)
        self._captured = self._played = self._overflows = self._underruns = 0

    def start(self) -> None:
        with _PORTAUDIO_LOCK:
            self._start()

    def _start(self) -> None:
        if self._pa is not None:
            return
        import pyaudio

        self._pa = _new_pyaudio()
        try:
            in_index, self._in_name = _resolve(self._pa, self.params.input_device, "input")
            out_index, self._out_name = _resolve(self._pa, self.params.output_device, "output")
            self.name = f"pyaudio:{self._in_name}>{self._out_name}"
            common = dict(
                format=pyaudio.paInt16,
                channels=1,
                rate=self.params.sample_rate,
                frames_per_buffer=self._period,
            )
            self._in = self._open(self._in_name, input=True, input_device_index=in_index, **common)
            self._out = self._open(
                self._out_name, output=True, output_device_index=out_index, **common
            )
            latency_frames = round(self._in.get_input_latency() * self.params.sample_rate)
            self._in_capacity = latency_frames + self._period
            self._out_capacity = self._out.get_write_available()  # empty buffer, before writes
        except BaseException:
            self._release()
            raise

    def _open(self, device: str, **kwargs: Any) -> Any:
        try:
            with quiet_stderr():
                return self._pa.open(**kwargs)
        except (OSError, ValueError) as exc:
            raise AudioDeviceError(device, f"cannot open it ({exc})") from exc

    def read_frame(self) -> bytes:
        with self._in_lock:
            if self._stopped.is_set() or self._in is None:
                return self._silence
            try:
                available = self._in.get_read_available()
                data = self._in.read(self.params.frame_samples, exception_on_overflow=False)
            except OSError as exc:
                raise AudioDeviceError(self._in_name, f"capture failed ({exc})") from exc
            with self._counts:
                self._captured += 1
                if available >= self._in_capacity - FULL_SLACK_FRAMES:
                    self._overflows += 1
            return bytes(data)

    def write_frame(self, pcm: bytes) -> None:
        check_frame(self.params, pcm, self.name)
        with self._out_lock:
            if self._stopped.is_set() or self._out is None:
                return
            try:
                available = self._out.get_write_available()
                self._out.write(pcm, exception_on_underflow=False)
            except OSError as exc:
                raise AudioDeviceError(self._out_name, f"playout failed ({exc})") from exc
            with self._counts:
                if self._played > 0 and available >= self._out_capacity:
                    self._underruns += 1  # the buffer had run dry: the speaker had a gap
                self._played += 1

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        # Let an in-flight read/write (at most a frame) finish before closing its stream.
        got_in = self._in_lock.acquire(timeout=STOP_WAIT_S)
        got_out = self._out_lock.acquire(timeout=STOP_WAIT_S)
        try:
            self._release()
        finally:
            if got_in:
                self._in_lock.release()
            if got_out:
                self._out_lock.release()

    def _release(self) -> None:
        with _PORTAUDIO_LOCK:
            self._release_locked()

    def _release_locked(self) -> None:
        for stream in (self._in, self._out):
            if stream is not None:
                with contextlib.suppress(Exception), quiet_stderr():
                    stream.stop_stream()
                with contextlib.suppress(Exception):
                    stream.close()
        self._in = self._out = None
        if self._pa is not None:
            with contextlib.suppress(Exception):
                self._pa.terminate()
            self._pa = None

    def buffer_latency_s(self) -> tuple[float, float]:
        """PortAudio's reported (capture, playout) buffer latency in seconds; 0 if closed."""
        capture = self._in.get_input_latency() if self._in is not None else 0.0
        playout = self._out.get_output_latency() if self._out is not None else 0.0
        return float(capture), float(playout)

    def stats(self) -> AudioStats:
        with self._counts:
            return AudioStats(self._captured, self._played, self._overflows, self._underruns)
