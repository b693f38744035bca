"""The audio device contract every driver meets: 20 ms frames of 48 kHz mono int16 in and out.

A device runs on its own clock: `read_frame` blocks until one captured frame exists and
`write_frame` blocks while the playout buffer is full, so the call layer's capture and
playout loops are paced by the device, never by sleeps (RFC 7587 section 4: Opus at 48 kHz;
20 ms is our frame). After `stop()` (from any thread) a blocked or later `read_frame`
returns one frame of silence at once and `write_frame` discards, so worker loops wake and
see their own stop flag. Overflows and underruns are counted in `AudioStats`, never fatal;
a device that is missing or fails raises `AudioDeviceError`, naming the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from drivers.clock import Clock
from pysnac.errors import PysnacError

SAMPLE_WIDTH_BYTES = 2  # int16 little-endian
CHANNELS = 1


class AudioDeviceError(PysnacError, OSError):
    """A sound device is missing or failed; the message names it and the way to check."""

    def __init__(self, device: str, problem: str, missing: bool = False) -> None:
        super().__init__(
            f"audio device {device!r}: {problem} (run `python3 main.py devices` to list devices)"
        )
        self.device = device
        self.problem = problem
        self.missing = missing  # not there at all (no such device or file), not a failure

    def __reduce__(self) -> tuple[type[AudioDeviceError], tuple[str, str, bool]]:
        return type(self), (self.device, self.problem, self.missing)

    @property
    def reason(self) -> str:
        """For the LCD: a missing device by name (a file by its base name), else generic."""
        if self.missing:
            return f"No {self.device.rsplit('/', 1)[-1]}"
        return "Audio device err"


@dataclass(frozen=True)
class AudioParams:
    """What to open. Frame and rate defaults are the wire format's (48 kHz, 20 ms)."""

    sample_rate: int = 48000
    frame_samples: int = 960  # 20 ms
    input_device: str | None = None  # pyaudio: name substring or index; None = default
    output_device: str | None = None
    input_wav: Path | None = None  # wav driver
    output_wav: Path | None = None
    loop_input: bool = False
    clock: Clock | None = None  # wav/silence pacing; None -> MonotonicClock()
    # How much audio a virtual device's speaker buffer holds, the frame playing included:
    # a 20 ms frame goes in once no more than 10 ms is left, as on the real card (PortAudio
    # periods of 10 ms, at most three queued through PulseAudio: pyaudio_device.py).
    playout_buffer_s: float = 0.030

    @property
    def frame_bytes(self) -> int:
        return self.frame_samples * SAMPLE_WIDTH_BYTES * CHANNELS

    @property
    def frame_s(self) -> float:
        return self.frame_samples / self.sample_rate


@dataclass(frozen=True)
class AudioStats:
    """Counters a call shows in its stats."""

    frames_captured: int = 0
    frames_played: int = 0
    input_overflows: int = 0
    output_underruns: int = 0


@dataclass(frozen=True)
class DeviceInfo:
    """One device as `main.py devices` lists it."""

    index: int
    name: str
    max_input_channels: int
    max_output_channels: int
    default_sample_rate: float
    host_api: str = ""


class AudioDevice(Protocol):
    """A full-duplex sound device delivering and taking fixed-size PCM frames."""

    name: str

    def start(self) -> None:
        """Open the streams; AudioDeviceError if a device is missing."""
        ...

    def read_frame(self) -> bytes:
        """Block until one captured frame (int16 LE mono, frame_samples long)."""
        ...

    def write_frame(self, pcm: bytes) -> None:
        """Queue one frame for playout; blocks while the playout buffer is full."""
        ...

    def stop(self) -> None:
        """Idempotent; releases every stream, file descriptor and thread."""
        ...

    def stats(self) -> AudioStats: ...


def check_frame(params: AudioParams, pcm: bytes, device: str) -> None:
    """A frame of the wrong size is a caller bug: fail loudly, naming the sizes."""
    if len(pcm) != params.frame_bytes:
        raise ValueError(f"{device}: frame of {len(pcm)} bytes, expected {params.frame_bytes}")
