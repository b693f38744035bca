"""Audio devices behind one contract (`base.AudioDevice`): real, virtual and silent.

`open_audio_device(kind, params)` picks the implementation: "pyaudio" (a real sound card
through PortAudio; PyAudio is imported only then), "wav" (WAV files as microphone and
speaker, paced by a Clock) or "silence". `list_devices()` lists what PortAudio sees.
`pulse_rig.PulseRig` provides virtual sound cards for tests and the demo.
"""

from __future__ import annotations

from drivers.audio.base import (
    AudioDevice,
    AudioDeviceError,
    AudioParams,
    AudioStats,
    DeviceInfo,
)

KINDS = ("pyaudio", "wav", "silence")

__all__ = [
    "KINDS",
    "AudioDevice",
    "AudioDeviceError",
    "AudioParams",
    "AudioStats",
    "DeviceInfo",
    "list_devices",
    "open_audio_device",
]


def open_audio_device(kind: str, params: AudioParams) -> AudioDevice:
    """A new, not yet started device of `kind`; ValueError for an unknown kind."""
    if kind == "pyaudio":
        from drivers.audio.pyaudio_device import PyAudioDevice

        return PyAudioDevice(params)
    if kind == "wav":
        from drivers.audio.wav_device import WavDevice

        return WavDevice(params)
    if kind == "silence":
        from drivers.audio.silence import SilenceDevice

        return SilenceDevice(params)
    raise ValueError(f"unknown audio device kind {kind!r}; expected one of {', '.join(KINDS)}")


def list_devices() -> list[DeviceInfo]:
    """Every device PortAudio can see (imports PyAudio)."""
    from drivers.audio.pyaudio_device import list_devices as _list

    return _list()
