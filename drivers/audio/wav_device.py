"""The WAV device: a WAV file is the microphone and a WAV file records the speaker.

For the demo, simulations and tests: any WAV (8/16/24/32-bit integer or float, any rate,
any channel count) is converted once at start to 48 kHz mono int16 (channels averaged,
rate changed with a polyphase filter; `drivers.audio.wavfile`: numpy and the standard
library, no scipy), then captured one frame per frame period of the
injected Clock. After the clip the microphone hears silence, or the clip again when
`loop_input` is set. What the phone plays is written to `output_wav` in real (clock) time,
with silence where the phone had nothing queued, so a recording lines up with the clock.
"""

from __future__ import annotations

import wave
from math import gcd
from pathlib import Path
from typing import BinaryIO

import numpy as np

from drivers.audio.base import AudioDeviceError, AudioParams
from drivers.audio.paced import PacedDevice
from drivers.audio.wavfile import WavFormatError, read_wav, resample_poly


def load_wav_mono16(path: Path, sample_rate: int) -> np.ndarray:
    """Read any PCM/float WAV file as mono int16 at `sample_rate`; AudioDeviceError if not."""
    try:
        rate, samples = read_wav(path)
    except FileNotFoundError as exc:
        raise AudioDeviceError(str(path), "WAV file not found", missing=True) from exc
    except (OSError, WavFormatError) as exc:
        raise AudioDeviceError(str(path), f"not a readable WAV file ({exc})") from exc
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if rate != sample_rate:
        common = gcd(int(rate), sample_rate)
        samples = resample_poly(samples, sample_rate // common, int(rate) // common)
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")


class WavDevice(PacedDevice):
    """Microphone from `params.input_wav`, speaker to `params.output_wav` (either optional)."""

    def __init__(self, params: AudioParams) -> None:
        super().__init__(params)
        self.name = f"wav:{params.input_wav or '-'}>{params.output_wav or '-'}"
        self._clip = np.zeros(0, dtype="<i2")
        self._writer: wave.Wave_write | None = None
        self._file: BinaryIO | None = None

    def _open(self) -> None:
        if self.params.input_wav is not None:
            self._clip = load_wav_mono16(Path(self.params.input_wav), self.params.sample_rate)
        if self.params.output_wav is not None:
            path = Path(self.params.output_wav)
            try:
                self._file = open(path, "wb")  # noqa: SIM115 -- closed in _close
            except OSError as exc:
                raise AudioDeviceError(str(path), f"cannot write the recording ({exc})") from exc
            self._writer = wave.open(self._file, "wb")  # noqa: SIM115 -- closed in _close
            self._writer.setnchannels(1)
            self._writer.setsampwidth(2)
            self._writer.setframerate(self.params.sample_rate)

    def _capture(self, index: int) -> bytes:
        n = self.params.frame_samples
        start = index * n
        clip = self._clip
        if len(clip) == 0:
            return self._silence
        if self.params.loop_input:
            positions = np.arange(start, start + n) % len(clip)
            return clip[positions].tobytes()
        if start >= len(clip):
            return self._silence
        frame = clip[start : start + n]
        if len(frame) < n:
            frame = np.concatenate([frame, np.zeros(n - len(frame), dtype="<i2")])
        return frame.tobytes()

    def _play(self, pcm: bytes) -> None:
        if self._writer is not None:
            self._writer.writeframesraw(pcm)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()  # patches the header's lengths
            self._writer = None
        if self._file is not None:
            self._file.close()
            self._file = None
