"""A full-duplex call through real sound devices on both phones.

Two phone processes (`main.py run`, as on the appliance) use the `pyaudio` driver on the
private PulseAudio rig: each opens ALSA's `default`, which `env_for` points at its own
virtual microphone and speaker. This test is the two people: for each direction one
tester device speaks into one phone's microphone (`pysnac_mouth_x`) while hearing the
other phone's speaker (`pysnac_ear_y`), frame by frame, so what it heard is on the same
timeline as what it said. Both directions run at once: alice's recorded speech and bob's
synthetic speech cross in the call. What each speaker played is compared with what the
other side said by windowed normalised cross-correlation (a real path may glitch
for a frame, so no byte comparison), at the delay that fits best; each window is searched
within `WINDOW_SEARCH_S` of it, because the audio may legitimately slip: the jitter
buffer moves it by whole frames in pauses, and a tester device that ran dry for a moment
(the test process starved of CPU) delays everything said after it.
The delay found is mouth-to-ear plus the tester's own buffering, so it is only checked to
be plausible (and printed); bench/bench_latency.py measures mouth-to-ear exactly.
`main.py demo --real-audio` is run too, with no sound server configured: it must start its
own, carry both clips through PyAudio and say so in its summary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from demo.phones import (
    REPO,
    connect,
)
from demo.pulse_rig import PulseRig
from drivers.audio import AudioParams
from drivers.audio.pyaudio_device import PyAudioDevice
from drivers.audio.wav_device import load_wav_mono16
from tests.fixtures_audio import pyaudio_phone_processes
from tests.signal_compare import estimate_delay, read_wav, to_float, windowed_correlation

pytestmark = [pytest.mark.audio, pytest.mark.usefixtures("this_rigs_alsa")]

RATE_HZ = 48000
FRAME = 960
BOB_CLIP = REPO / "assets" / "bob_espeak.wav"
LEAD_S = 0.3  # silence before the speech: the call's first frames settle the jitter buffer
TAIL_S = 0.6  # after it: the end of the speech crosses the call
MAX_DELAY_S = 0.5  # searched for
PLAUSIBLE_DELAY_MS = (20.0, 300.0)  # mouth-to-ear (bench: ~55-100 ms) with the tester's trip
MIN_WINDOW_CORRELATION = 0.8
# "Most windows": Opus codes unvoiced sounds as shaped noise, not as the waveform (one
# window of alice's clip scores 0.4 in every run, one ~0.8), and a glitch under load may
# spoil another. Measured: alice's clip 10-12 of 13 windows, bob's 20 of 21.
MIN_GOOD_WINDOW_FRACTION = 2 / 3
WINDOW_SEARCH_S = 0.06  # two frames of jitter-buffer moves, plus a tester slip
START_S = 60.0
DEMO_TALK_S = 3.0
SOUND_SERVER_ENV = ("PULSE_SERVER", "ALSA_CONFIG_PATH", "PULSE_SINK", "PULSE_SOURCE")
STEP_S = 10.0


def frames_of(samples: np.ndarray) -> list[bytes]:
    """int16 samples as whole 20 ms frames, padded with silence."""
    lead = np.zeros(int(LEAD_S * RATE_HZ), dtype=np.int16)
    tail = np.zeros(int(TAIL_S * RATE_HZ) + (-len(samples) % FRAME), dtype=np.int16)
    pcm = np.concatenate([lead, samples.astype(np.int16), tail]).astype("<i2").tobytes()
    return [pcm[i : i + 2 * FRAME] for i in range(0, len(pcm), 2 * FRAME)]


class Talker:
    """One person: speaks `frames` into a phone's microphone, hears the other's speaker."""

    def __init__(self, mouth: str, ear: str, frames: list[bytes]) -> None:
        self.device = PyAudioDevice(AudioParams(input_device=ear, output_device=mouth))
        self.frames = frames
        self.heard: list[bytes] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._talk, name=f"talker-{mouth}")

    def _talk(self) -> None:
        try:
            for frame in self.frames:
                self.device.write_frame(frame)
                self.heard.append(self.device.read_frame())
        except BaseException as exc:  # reported by the test thread
            self.error = exc


def direction_scores(said: np.ndarray, heard: bytes) -> tuple[float, list[float]]:
    """(delay in ms after LEAD_S, per-window correlation near that delay)."""
    reference = np.concatenate([np.zeros(int(LEAD_S * RATE_HZ)), to_float(said)])
    output = to_float(heard)
    delay = estimate_delay(reference, output, int(MAX_DELAY_S * RATE_HZ), min_delay=0)
    scores = windowed_correlation(reference, output, delay, RATE_HZ, search_s=WINDOW_SEARCH_S)
    return 1000.0 * delay / RATE_HZ, scores


def test_both_directions_at_once_through_pyaudio(
    pulse_rig: PulseRig,
    speech_48k: Path,
    tmp_path: Path,
    record_property: pytest.RecordProperty,
) -> None:
    alice_said = (read_wav(speech_48k)[1] * 32767).round().astype(np.int16)
    bob_said = load_wav_mono16(BOB_CLIP, RATE_HZ)
    phones = pyaudio_phone_processes(tmp_path, pulse_rig)
    mouth_a, ear_a = pulse_rig.tester_names("a")
    mouth_b, ear_b = pulse_rig.tester_names("b")
    talkers = {
        "alice": Talker(mouth_a, ear_b, frames_of(alice_said)),  # bob's speaker hears alice
        "bob": Talker(mouth_b, ear_a, frames_of(bob_said)),
    }
    try:
        for phone in phones.values():
            phone.wait_ready(START_S)
        a, b = phones["alice"], phones["bob"]
        connect(a, b, STEP_S)
        for talker in talkers.values():  # one at a time: PortAudio's set-up is not thread-safe
            talker.device.start()
        for talker in talkers.values():
            talker.thread.start()
        for talker in talkers.values():
            talker.thread.join(timeout=30)
        a.press("select")
        _, _, alice_end = a.wait_state("hangup", STEP_S)
        _, _, bob_end = b.wait_state("hangup", STEP_S)
    finally:
        for talker in talkers.values():
            talker.device.stop()
        codes = [phone.quit() for phone in phones.values()]
    assert codes == [0, 0], [p.stderr_tail() for p in phones.values()]
    for name, talker in talkers.items():
        assert talker.error is None, (name, talker.error)
        assert not talker.thread.is_alive()
    results = {
        "alice->bob": direction_scores(alice_said, b"".join(talkers["alice"].heard)),
        "bob->alice": direction_scores(bob_said, b"".join(talkers["bob"].heard)),
    }
    for direction, (delay_ms, scores) in results.items():
        good = sum(score >= MIN_WINDOW_CORRELATION for score in scores)
        print(
            f"{direction}: delay {delay_ms:.0f} ms (incl. the tester's round trip), "
            f"{good}/{len(scores)} windows >= {MIN_WINDOW_CORRELATION}, "
            f"median {np.median(scores):.2f}: {[round(s, 2) for s in scores]}"
        )
        record_property(f"{direction} delay_ms", round(delay_ms, 1))
        assert len(scores) >= 8, direction
        assert good >= MIN_GOOD_WINDOW_FRACTION * len(scores), (
            direction,
            delay_ms,
            [round(s, 2) for s in scores],
        )
        assert PLAUSIBLE_DELAY_MS[0] <= delay_ms <= PLAUSIBLE_DELAY_MS[1], direction
    for end in (alice_end, bob_end):  # both phones sent and received the whole time
        assert end["link"]["frames_sent"] > len(talkers["alice"].frames) * 0.8, end
        assert end["link"]["frames_received"] > len(talkers["alice"].frames) * 0.8, end


def test_demo_real_audio_talks_through_pyaudio(tmp_path: Path) -> None:
    """`main.py demo --real-audio` with no sound server configured starts its own."""
    if shutil.which("pulseaudio") is None:
        pytest.skip("pulseaudio is missing: apt-get install pulseaudio pulseaudio-utils")
    env = {k: v for k, v in os.environ.items() if k not in SOUND_SERVER_ENV}
    out = tmp_path / "out"
    command = [sys.executable, str(REPO / "main.py"), "demo", "--real-audio", "--json"]
    command += ["--talk-s", str(DEMO_TALK_S), "--out", str(out)]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["audio_path"].startswith("pyaudio driver on a private PulseAudio")
    for direction in summary["directions"]:
        assert direction["frames_received"] >= DEMO_TALK_S / 0.02 * 0.8, direction
        assert direction["correlation"] > 0.5, direction  # the talker's clip was heard
    assert set(summary["devices"]) == {"alice", "bob"}
    for stats in summary["devices"].values():
        assert stats["frames_captured"] > 0 and stats["frames_played"] > 0
    for name in ("alice", "bob"):
        assert (out / f"{name}_heard.wav").stat().st_size > DEMO_TALK_S * RATE_HZ
