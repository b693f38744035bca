#!/usr/bin/env python3
"""Capture -> playout round trip of the real pyaudio driver through the private sound server.

A tester process-side full-duplex PortAudio stream speaks a click track into phone a's
microphone (`pysnac_mouth_a`) and listens to phone a's speaker (`pysnac_ear_a`); phone a
is a `PyAudioDevice` whose read_frame output is fed straight back to write_frame (no
codec, no network: the device's own cost). Because the tester's input and output share
one stream clock, the delay of a click is (ear sample index - mouth sample index). A
baseline run listens to the mouth directly (`pysnac_mic_a`), measuring the tester's own
buffers. CAVEAT, measured: the tester's own input/output offset changes by up to ~30 ms from
one stream open to the next, so the baseline is taken BASELINE_RUNS times and the phone's
share is bounded (one 20 ms frame <= share <= the whole mouth-to-ear figure), not split. Prints
p50/p95 in ms and where it goes: one 20 ms frame (a sample waits for its frame to fill,
then plays at the same place in the next), each frame of playout margin 20 ms, and the
capture and playout buffers PortAudio reports.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.audio import AudioParams, AudioStats
from drivers.audio.pulse_rig import PulseRig
from drivers.audio.pyaudio_device import PyAudioDevice, quiet_stderr
from tests.signal_compare import click_track, detect_clicks

RATE = 48000
FRAME = 960
CLICKS = 30
CLICK_INTERVAL_S = 0.2537  # not a multiple of the 20 ms frame: clicks land at every phase
MAX_MATCH_S = 0.5
TESTER_PERIOD = 480
TESTER_PRIME_FRAMES = 1
BASELINE_RUNS = 3
PRIME_FRAMES = (0, 1)  # playout margin the capture->playout loop keeps, in frames


def run_tester(mouth: str, ear: str) -> list[float]:
    """Play the click track through `mouth`, record `ear`; return each click's delay in ms."""
    import pyaudio

    with quiet_stderr():
        pa = pyaudio.PyAudio()
    try:
        names = {pa.get_device_info_by_index(i)["name"]: i for i in range(pa.get_device_count())}
        with quiet_stderr():
            stream = pa.open(
                format=pyaudio.paInt16,
                channels=1,
                rate=RATE,
                input=True,
                output=True,
                input_device_index=names[ear],
                output_device_index=names[mouth],
                frames_per_buffer=TESTER_PERIOD,
            )
        track = click_track(RATE, CLICKS, CLICK_INTERVAL_S)
        track = np.concatenate([track, np.zeros(int(RATE * MAX_MATCH_S))])
        pcm = np.round(track * 32767).astype("<i2")
        heard = []
        stream.write(bytes(2 * FRAME * TESTER_PRIME_FRAMES))  # margin against underruns
        for start in range(0, len(pcm) - FRAME + 1, FRAME):
            stream.write(pcm[start : start + FRAME].tobytes(), exception_on_underflow=False)
            heard.append(stream.read(FRAME, exception_on_overflow=False))
        stream.stop_stream()
        stream.close()
    finally:
        pa.terminate()
    sent = detect_clicks(track, RATE)
    got = detect_clicks(np.frombuffer(b"".join(heard), dtype="<i2"), RATE)
    delays = []
    for onset in sent:
        later = [g for g in got if 0 <= g - onset <= MAX_MATCH_S * RATE]
        if later:
            delays.append((later[0] - onset) * 1000.0 / RATE)
    return delays


def loop_phone(device: PyAudioDevice, stop: threading.Event, prime_frames: int) -> None:
    """Capture -> playout, `prime_frames` of silence ahead so playout never runs dry."""
    for _ in range(prime_frames):
        device.write_frame(bytes(2 * FRAME))
    while not stop.is_set():
        device.write_frame(device.read_frame())


def describe(name: str, delays: list[float]) -> str:
    if not delays:
        return f"{name}: no clicks detected"
    p50, p95 = np.percentile(delays, [50, 95])
    return f"{name}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({len(delays)}/{CLICKS} clicks)"


def measure(rig: PulseRig, prime_frames: int) -> tuple[list[float], AudioStats, float, float]:
    """One run through the phone device with `prime_frames` of playout margin."""
    mouth, ear = rig.tester_names("a")
    mic, speaker = rig.device_names("a")
    phone = PyAudioDevice(AudioParams(input_device=mic, output_device=speaker))
    phone.start()
    stop = threading.Event()
    worker = threading.Thread(target=loop_phone, args=(phone, stop, prime_frames))
    worker.start()
    try:
        total = run_tester(mouth, ear)
    finally:
        stop.set()
        capture_s, playout_s = phone.buffer_latency_s()
        phone.stop()
        worker.join()
    stats = phone.stats()
    return total, stats, capture_s, playout_s


def main() -> int:
    runs = []
    with PulseRig() as rig:
        rig.activate_alsa_config()
        mouth, _ = rig.tester_names("a")
        mic, _ = rig.device_names("a")
        baselines = [run_tester(mouth, mic) for _ in range(BASELINE_RUNS)]
        for prime_frames in PRIME_FRAMES:
            runs.append((prime_frames, *measure(rig, prime_frames)))
    medians = [float(np.median(b)) for b in baselines if b]
    base = float(np.median(medians)) if medians else 0.0
    spread = " ".join(f"{m:.1f}" for m in medians)
    print(f"tester alone (mouth -> mic monitor), median per stream open: {spread} ms")
    for prime_frames, total, stats, _capture_s, _playout_s in runs:
        print(describe(f"mouth -> ear through the phone, {prime_frames} frame margin", total))
        if total:
            p50 = float(np.percentile(total, 50))
            print(
                f"  the phone device's share: between 20 ms (one frame) and {p50:.1f} ms; "
                f"through-phone minus tester median {p50 - base:.1f} ms (tester offset varies)"
            )
        print(
            f"  stats: captured {stats.frames_captured}, played {stats.frames_played}, "
            f"overflows {stats.input_overflows}, underruns {stats.output_underruns}"
        )
    if runs:
        capture_s, playout_s = runs[-1][3], runs[-1][4]
        print(
            "where it goes: one 20 ms frame (a sample waits for its frame to fill, then plays "
            "at the same place in the next), each frame of playout margin 20 ms, the rest "
            f"buffering; PortAudio reports at most {capture_s * 1000:.1f} ms capture and "
            f"{playout_s * 1000:.1f} ms playout buffer; an underrun shifts playout later"
        )
    return 0 if runs and runs[-1][1] else 1


if __name__ == "__main__":
    sys.exit(main())
