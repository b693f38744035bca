#!/usr/bin/env python3
"""Capture -> playout latency of the real pyaudio driver, measured with an echo of clicks.

The phone device captures from speaker spk_a's monitor (`pysnac_ear_a`) and plays what it
captured, at half the amplitude, back into spk_a (`pysnac_spk_a`). A click track played
into spk_a (paplay) is therefore heard again, as an echo, exactly one device round trip
later -- capture buffer, one 20 ms frame, playout buffer. Both the click and its echo are
in ONE recording of spk_a (parec), so neither the player's nor the recorder's own buffering
enters the figure: latency = echo onset - click onset, per click. Runs with 0, 1 and 2
frames of playout margin (silence written before the loop starts), prints p50/p95 in ms,
the device's counters and where the milliseconds go. Measured here: p50 20-34 ms = one
20 ms frame + 0-14 ms of capture and playout buffering (varies between runs).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.pulse_rig import PulseRig
from drivers.audio import AudioParams, AudioStats
from drivers.audio.pyaudio_device import PyAudioDevice
from tests.signal_compare import click_track, read_wav, write_wav

RATE = 48000
FRAME = 960
CLICKS = 30
CLICK_INTERVAL_S = 0.2537  # not a multiple of the frame: clicks land at every phase
ECHO_GAIN = 0.5
CLICK_MIN = 0.6  # a click peaks at 0.8, its first echo at 0.4, the second at 0.2
ECHO_MIN = 0.3
MAX_ECHO_S = 0.2
PRIME_FRAMES = (0, 1, 2)
TAIL_S = 0.5


def echo_loop(device: PyAudioDevice, stop: threading.Event, prime_frames: int) -> None:
    """The device under test: what it hears, it plays back at ECHO_GAIN."""
    for _ in range(prime_frames):
        device.write_frame(bytes(2 * FRAME))
    while not stop.is_set():
        pcm = np.frombuffer(device.read_frame(), dtype="<i2")
        device.write_frame((pcm // int(1 / ECHO_GAIN)).astype("<i2").tobytes())


def onsets(samples: np.ndarray, low: float, high: float) -> list[int]:
    """First sample of each run whose peak lies in [low, high)."""
    level = np.abs(samples)
    result: list[int] = []
    index = 0
    above = np.flatnonzero(level >= low)
    while index < len(above):
        start = above[index]
        end = start
        while index < len(above) and above[index] - end <= 2:
            end = above[index]
            index += 1
        if low <= level[start : end + 1].max() < high:
            result.append(int(start))
    return result


def measure(rig: PulseRig, folder: Path, prime_frames: int) -> tuple[list[float], AudioStats]:
    _, ear = rig.tester_names("a")
    _, speaker = rig.device_names("a")
    clicks = folder / "clicks.wav"
    write_wav(clicks, click_track(RATE, CLICKS, CLICK_INTERVAL_S), RATE)
    device = PyAudioDevice(AudioParams(input_device=ear, output_device=speaker))
    device.start()
    stop = threading.Event()
    worker = threading.Thread(target=echo_loop, args=(device, stop, prime_frames))
    worker.start()
    recording = rig.record("spk_a", folder / f"heard_{prime_frames}.wav")
    try:
        player = rig.play_into("spk_a", clicks)
        player.wait(timeout=30)
        done = threading.Event()
        done.wait(TAIL_S)  # let the last echo come back (real time must pass)
    finally:
        heard = recording.stop()
        stop.set()
        worker.join()
        device.stop()
    _, samples = read_wav(heard)
    sent = onsets(samples, CLICK_MIN, 1.01)
    echoes = onsets(samples, ECHO_MIN, CLICK_MIN)
    delays = []
    for click in sent:
        later = [e for e in echoes if 0 < e - click <= MAX_ECHO_S * RATE]
        if later:
            delays.append((later[0] - click) * 1000.0 / RATE)
    return delays, device.stats()


def main() -> int:
    with PulseRig() as rig, tempfile.TemporaryDirectory(prefix="bench-audio-") as tmp:
        rig.activate_alsa_config()
        results = [(prime, *measure(rig, Path(tmp), prime)) for prime in PRIME_FRAMES]
        probe = PyAudioDevice(AudioParams(input_device="pysnac_ear_a"))
        probe.start()
        capture_s, playout_s = probe.buffer_latency_s()
        probe.stop()
    print("pyaudio device capture -> playout (echo of clicks through the private PulseAudio):")
    for prime, delays, stats in results:
        if not delays:
            print(f"  margin {prime} frame(s): no echoes detected")
            continue
        p50, p95 = np.percentile(delays, [50, 95])
        print(
            f"  margin {prime} frame(s): p50 {p50:5.1f} ms  p95 {p95:5.1f} ms  "
            f"({len(delays)}/{CLICKS} clicks)  overflows {stats.input_overflows}  "
            f"underruns {stats.output_underruns}"
        )
    print(
        "  where it goes: one 20 ms frame (a sample waits for its frame to fill, then plays "
        "at the same place in the next) + buffering (PortAudio reports at most "
        f"{capture_s * 1000:.0f} ms capture, {playout_s * 1000:.0f} ms playout; 10 ms periods). "
        "Playout holds at most 3 periods (30 ms), so margin beyond it waits in the capture "
        "buffer instead and the total hardly changes; the start-up underruns are the loop "
        "filling its buffers"
    )
    return 0 if all(delays for _, delays, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
