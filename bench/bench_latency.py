#!/usr/bin/env python3
"""Mouth-to-ear latency of a whole call through the real stack, measured with clicks.

Two phones run in this process, as `main.py run` builds them (state machine, UDP call
service on loopback, real `pyaudio` devices on the private PulseAudio rig). Alice's
microphone is the virtual sink `mic_a` (she reads `pysnac_mic_a` = mic_a.monitor) and
bob's speaker is THE SAME sink (he plays into `pysnac_mouth_a`). A click track played into
mic_a therefore comes back into it once the call has carried it: alice's capture buffer ->
frame accumulation -> Opus encode -> seal -> UDP -> open -> jitter buffer -> decode ->
bob's playout buffer. Click and arrival are in ONE recording of mic_a.monitor, so neither
the player's nor the recorder's own buffering enters the figure (as in bench_audio.py).
Bob plays at volume 5 (-6 dB), so what alice's microphone hears again dies away and the
first arrival after each click is the loudest one; it is found by cross-correlating the
recorded click with the window that follows it.

While the clicks run, the phones' media sessions are timed (wrappers that only read the
clock): when alice's capture thread had each frame, when bob's jitter buffer received it
and when bob's playout thread took it. With the fixed costs (one frame, the codec's
lookahead) that says where the milliseconds go; the rest is the two sound-card buffers.

Prints each of `--runs` calls and the pooled p50/p95 over all clicks (>= 20 per call);
`--before` also measures the playout thread as it was before the cut (pulling each frame
from the jitter buffer at once, then blocking in write_frame). Measured here (2 shared
cores, 3 calls x 30 clicks each): before p50 84.4 / p95 96.5 ms, after p50 67.9 / p95
76.5 ms; the ~15 ms cut is the "playout write wait" line (19.7 -> 4.6 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.phones import make_phone_folder, write_config
from demo.pulse_rig import PulseRig
from drivers.lcd.headless import HeadlessLcd
from pysnac.config import load_config
from pysnac.media import limits
from pysnac.runtime.app import Phone, build_phone
from pysnac.runtime.factory import udp_call_service_factory
from pysnac.screen import Button
from pysnac_fsm import table
from tests.signal_compare import click_track, read_wav, write_wav

RATE_HZ = 48000
FRAME_MS = 20.0
CLICKS = 30
CLICK_INTERVAL_S = 0.3037  # not a multiple of the frame: clicks land at every phase
CLICK_MIN = 0.6  # the tester's click peaks at 0.8; bob's copy at about 0.4
SEARCH_FROM_MS = 5.0  # after the click itself
SEARCH_TO_MS = 250.0  # before the second trip round the loop (2x the latency) or a click
TEMPLATE_MS = 8.0  # the recorded click (and its codec-smeared copy) fit in this
BOB_VOLUME_STEPS_DOWN = 2  # volume 7 -> 5: -6 dB, so the loop's echoes die away
SETTLE_S = 1.0  # let the jitter buffer find its level before the clicks
TAIL_S = 0.5
WAIT_S = 15.0
TARGET_P50_MS = 80.0
RUNS = 3


@dataclass
class Timings:
    """Per frame index: when alice captured it, bob received it, bob's playout took it."""

    captured: dict[int, float] = field(default_factory=dict)
    arrived: dict[int, float] = field(default_factory=dict)
    pulled: dict[int, float] = field(default_factory=dict)
    write_blocked: list[float] = field(default_factory=list)  # bob's write_frame durations
    recording: bool = False


@contextmanager
def timed_media(timings: Timings) -> Iterator[None]:
    """Wrap MediaSession.outgoing and JitterBuffer.put/get to note times (read-only)."""
    from drivers.audio.pyaudio_device import PyAudioDevice
    from pysnac.media.jitter import JitterBuffer, Source
    from pysnac.media.session import MediaSession

    heard = (Source.PRIMARY, Source.REDUNDANT, Source.FEC)
    originals: dict[str, Callable[..., Any]] = {
        "outgoing": MediaSession.outgoing,
        "put": JitterBuffer.put,
        "get": JitterBuffer.get,
    }
    roles: dict[int, str] = {}  # id(session or jitter buffer) -> "alice" | "bob"

    def outgoing(self: MediaSession, pcm: bytes, now: float) -> bytes | None:
        index = self._index
        if timings.recording and roles.get(id(self)) == "alice":
            timings.captured[index] = now
        return originals["outgoing"](self, pcm, now)

    def put(self: JitterBuffer, index: int, opus: bytes, redundant: Any, now: float) -> Any:
        if timings.recording and roles.get(id(self)) == "bob":
            timings.arrived.setdefault(index, now)
        return originals["put"](self, index, opus, redundant, now)

    def get(self: JitterBuffer, now: float) -> bytes:
        pcm = originals["get"](self, now)
        if timings.recording and roles.get(id(self)) == "bob" and self.last_source in heard:
            timings.pulled.setdefault(self.last_index, now)
        return pcm

    originals["write_frame"] = PyAudioDevice.write_frame

    def write_frame(self: PyAudioDevice, pcm: bytes) -> None:
        began = time.monotonic()
        originals["write_frame"](self, pcm)
        if timings.recording and roles.get(id(self)) == "bob":
            timings.write_blocked.append(time.monotonic() - began)

    PyAudioDevice.write_frame = write_frame  # type: ignore[method-assign]
    MediaSession.outgoing = outgoing  # type: ignore[method-assign]
    JitterBuffer.put = put  # type: ignore[method-assign]
    JitterBuffer.get = get  # type: ignore[method-assign]
    timings.roles = roles  # type: ignore[attr-defined]
    try:
        yield
    finally:
        PyAudioDevice.write_frame = originals["write_frame"]  # type: ignore[method-assign]
        MediaSession.outgoing = originals["outgoing"]  # type: ignore[method-assign]
        JitterBuffer.put = originals["put"]  # type: ignore[method-assign]
        JitterBuffer.get = originals["get"]  # type: ignore[method-assign]


def build_phones(rig: PulseRig, root: Path) -> dict[str, tuple[Phone, HeadlessLcd]]:
    alice, bob = make_phone_folder(root, "alice"), make_phone_folder(root, "bob")
    mic_a, spk_a = rig.device_names("a")
    mic_b, _ = rig.device_names("b")
    mouth_a, _ = rig.tester_names("a")
    write_config(alice, [bob], audio="pyaudio", input_device=mic_a, output_device=spk_a)
    write_config(bob, [alice], audio="pyaudio", input_device=mic_b, output_device=mouth_a)
    phones = {}
    for spec in (alice, bob):
        config = load_config(spec.folder / "config.toml")
        lcd = HeadlessLcd()
        phone = build_phone(config, lcd=lcd, call_service_factory=udp_call_service_factory(config))
        phone.start()
        phones[spec.name] = (phone, lcd)
    return phones


def connect(phones: dict[str, tuple[Phone, HeadlessLcd]]) -> None:
    (alice, alice_lcd), (bob, bob_lcd) = phones["alice"], phones["bob"]
    for phone in (alice, bob):
        phone.service.wait_ready(WAIT_S)
    alice_lcd.press(Button.SELECT)  # the home screen shows bob: one press calls him
    if not bob.wait_for_state(table.RINGING, WAIT_S):
        raise RuntimeError("bob never rang")
    bob_lcd.press(Button.SELECT)
    for phone in (alice, bob):
        if not phone.wait_for_state(table.IN_CALL, WAIT_S):
            raise RuntimeError("the call did not connect")
    for phone in (alice, bob):  # InCall shows first; the sound device opens just after
        service = getattr(phone.service, "inner", phone.service)  # under a directory
        if not service.wait_media_started(WAIT_S):
            raise RuntimeError("the sound device did not open")
    for _ in range(BOB_VOLUME_STEPS_DOWN):
        bob_lcd.press(Button.DOWN)


def click_delays(samples: np.ndarray) -> list[float]:
    """For each tester click, ms until its loudest copy in the window that follows."""
    level = np.abs(samples)
    above = np.flatnonzero(level >= CLICK_MIN)
    onsets: list[int] = []
    for index in above:
        if not onsets or index - onsets[-1] > SEARCH_TO_MS * RATE_HZ / 1000:
            onsets.append(int(index))
    ms = RATE_HZ // 1000
    delays = []
    for onset in onsets:
        template = samples[onset - 2 * ms : onset + int(TEMPLATE_MS * ms)]
        lo, hi = onset + int(SEARCH_FROM_MS * ms), onset + int(SEARCH_TO_MS * ms)
        window = samples[lo : hi + len(template)]
        if len(window) < len(template) * 2:
            continue
        corr = np.correlate(window, template, mode="valid")
        delays.append((lo + int(np.argmax(corr)) - (onset - 2 * ms)) / ms)
    return delays


def median_gap(later: dict[int, float], earlier: dict[int, float]) -> float:
    gaps = [later[k] - earlier[k] for k in later.keys() & earlier.keys()]
    return 1000.0 * statistics.median(gaps) if gaps else float("nan")


def measure(folder: Path, phones_root: Path) -> dict[str, Any]:
    timings = Timings()
    clicks = folder / "clicks.wav"
    write_wav(clicks, click_track(RATE_HZ, CLICKS, CLICK_INTERVAL_S), RATE_HZ)
    with PulseRig() as rig, timed_media(timings):
        rig.activate_alsa_config()
        phones = build_phones(rig, phones_root)
        try:
            connect(phones)
            alice_service = phones["alice"][0].service
            bob_service = phones["bob"][0].service
            roles = timings.roles  # type: ignore[attr-defined]
            roles[id(alice_service._workers._session)] = "alice"  # type: ignore[attr-defined]
            bob_session = bob_service._workers._session  # type: ignore[attr-defined]
            roles[id(bob_session.jitter_buffer)] = "bob"
            roles[id(bob_service._workers._device)] = "bob"  # type: ignore[attr-defined]
            pause = threading.Event()
            pause.wait(SETTLE_S)  # real time must pass for a real sound card
            timings.recording = True
            recording = rig.record("mic_a", folder / "mic_a.wav")
            player = rig.play_into("mic_a", clicks)
            player.wait(timeout=60)
            pause.wait(TAIL_S)
            heard = recording.stop()
            timings.recording = False
            link = bob_service.link_stats()
            devices = {
                name: phones[name][0].service._workers._device  # type: ignore[attr-defined]
                for name in ("alice", "bob")
            }
            reported = {name: device.buffer_latency_s() for name, device in devices.items()}
        finally:
            for phone, _ in phones.values():
                phone.stop()
    _, samples = read_wav(heard)
    return {
        "delays": click_delays(samples),
        "pipeline_ms": median_gap(timings.arrived, timings.captured),
        "jitter_wait_ms": median_gap(timings.pulled, timings.arrived),
        "write_blocked_ms": 1000.0 * statistics.median(timings.write_blocked or [float("nan")]),
        "link": link,
        "capture_reported_ms": 1000.0 * reported["alice"][0],
        "playout_reported_ms": 1000.0 * reported["bob"][1],
    }


def breakdown(result: dict[str, Any]) -> dict[str, float]:
    """Where one run's median click went, in ms; the device buffers are the rest."""
    p50 = float(np.percentile(result["delays"], 50))
    parts = {
        "frame accumulation": FRAME_MS,
        "codec lookahead": 1000.0 * limits.OPUS_LOOKAHEAD_SAMPLES / RATE_HZ,
        "encode+seal+UDP+open": result["pipeline_ms"],
        "jitter buffer": result["jitter_wait_ms"],
        "playout write wait": result["write_blocked_ms"],
    }
    parts["capture+playout buffers"] = p50 - sum(parts.values())
    return parts


EXPLAIN = {
    "frame accumulation": "a sample waits for its 20 ms frame to fill",
    "codec lookahead": "Opus, 312 samples",
    "encode+seal+UDP+open": "alice's capture read -> bob's jitter buffer",
    "jitter buffer": "arrival -> playout thread takes it",
    "playout write wait": "taken frame waits inside write_frame for room",
    "capture+playout buffers": "the rest: PortAudio/PulseAudio buffering both ends",
}


def run_line(index: int, result: dict[str, Any]) -> str:
    delays, link = result["delays"], result["link"]
    if not delays:
        return f"  run {index}: no click came through"
    p50, p95 = np.percentile(delays, [50, 95])
    parts = breakdown(result)
    return (
        f"  run {index}: p50 {p50:5.1f} ms  p95 {p95:5.1f} ms  ({len(delays)}/{CLICKS} clicks); "
        + " + ".join(f"{value:.1f}" for value in parts.values())
        + f"; jitter target {link.extra.get('target_delay_ms', float('nan')):.1f} ms; "
        f"bob {link.output_underruns} underruns, {link.input_overflows} overflows"
    )


def report(label: str, results: list[dict[str, Any]]) -> bool:
    """Print each run and the pooled figures; False when too few clicks were detected."""
    print(f"{label}:")
    for index, result in enumerate(results, 1):
        print(run_line(index, result))
    delays = [d for result in results for d in result["delays"]]
    if len(delays) < len(results) * CLICKS * 2 // 3:
        print(f"  only {len(delays)} of {len(results) * CLICKS} clicks came through: no figure")
        return False
    p50, p95 = np.percentile(delays, [50, 95])
    verdict = "meets" if p50 <= TARGET_P50_MS else "MISSES"
    print(
        f"  all {len(delays)} clicks: p50 {p50:5.1f} ms  p95 {p95:5.1f} ms  "
        f"({verdict} the {TARGET_P50_MS:.0f} ms p50 target)"
    )
    print("  where the milliseconds go (median over runs):")
    parts = [breakdown(result) for result in results if result["delays"]]
    for name in parts[0]:
        value = statistics.median(part[name] for part in parts)
        print(f"    {name:<24} {value:5.1f} ms  ({EXPLAIN[name]})")
    reported = results[-1]
    print(
        f"    (PortAudio reports {reported['capture_reported_ms']:.0f} ms capture, "
        f"{reported['playout_reported_ms']:.0f} ms playout latency)"
    )
    return True


def run_all(runs: int, pull_ahead_s: float, keep: Path | None) -> list[dict[str, Any]]:
    from pysnac.runtime import media_workers

    saved = media_workers.PULL_AHEAD_S
    media_workers.PULL_AHEAD_S = pull_ahead_s
    results = []
    try:
        for index in range(runs):
            with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
                folder = keep / f"run{index + 1}" if keep else Path(tmp)
                folder.mkdir(parents=True, exist_ok=True)
                results.append(measure(folder, Path(tmp) / "phones"))
    finally:
        media_workers.PULL_AHEAD_S = saved
    return results


def main() -> int:
    from pysnac.runtime.media_workers import PULL_AHEAD_S

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"calls to measure ({RUNS})")
    parser.add_argument(
        "--before",
        action="store_true",
        help="also measure the playout thread pulling each frame at once (before the cut)",
    )
    parser.add_argument("--keep", type=Path, help="keep the recordings in this folder")
    args = parser.parse_args()
    print(
        "mouth-to-ear through the whole call (pyaudio capture -> Opus -> Noise seal -> UDP "
        "loopback -> open -> jitter buffer -> decode -> pyaudio playout), clicks:"
    )
    ok = report(
        f"playout pulls {1000 * PULL_AHEAD_S:.0f} ms before the device has room (now)",
        run_all(args.runs, PULL_AHEAD_S, args.keep),
    )
    if args.before:
        ok &= report(
            "playout pulls each frame at once, then waits in write_frame (before)",
            run_all(args.runs, FRAME_MS / 1000.0, None),
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
