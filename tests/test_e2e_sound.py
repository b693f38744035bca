"""A call through real sound devices: two phone processes on PyAudio, a private PulseAudio.

Each phone opens the ALSA `default` device, which the rig points at its own virtual
microphone (`mic_x.monitor`) and speaker (`spk_x`). The test speaks recorded speech into
alice's microphone with `paplay` and records bob's speaker with `parec`, then scores what
bob's speaker played against what was said (aligned PESQ-WB).
"""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from demo.phones import connect
from demo.score import score_files
from tests.fixtures_audio import pyaudio_phone_processes
from tests.test_call_service import wait_for

pytestmark = pytest.mark.audio

START_S = 60.0
STEP_S = 10.0
TAIL_S = 0.5  # let the end of the speech cross the network and the jitter buffer
SAMPLE_RATE_HZ = 48000
SAMPLE_BYTES = 2
WAV_HEADER_BYTES = 44


def clip_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as clip:
        return clip.getnframes() / clip.getframerate()


def test_speech_through_real_sound_devices(pulse_rig, speech_48k: Path, tmp_path: Path) -> None:
    phones = pyaudio_phone_processes(tmp_path, pulse_rig)
    heard = tmp_path / "bob_speaker.wav"
    try:
        for phone in phones.values():
            phone.wait_ready(START_S)
        a, b = phones["alice"], phones["bob"]
        connect(a, b, STEP_S)
        recording = pulse_rig.record("spk_b", heard)
        speaker = pulse_rig.play_into("mic_a", speech_48k)
        assert speaker.wait(timeout=30) == 0
        # The speaker has played the clip and TAIL_S more once the recording is that long.
        needed = WAV_HEADER_BYTES + SAMPLE_BYTES * int(
            (clip_seconds(speech_48k) + TAIL_S) * SAMPLE_RATE_HZ
        )
        assert wait_for(lambda: heard.stat().st_size >= needed, timeout=STEP_S)
        recording.stop()
        a.press("select")
        b.wait_state("hangup", STEP_S)
        link = next(r for _, r in reversed(b.records) if r.get("state") == "hangup")["link"]
    finally:
        codes = [phone.quit() for phone in phones.values()]
    assert codes == [0, 0], [p.stderr_tail() for p in phones.values()]
    assert link["frames_received"] > 150 and link["frames_sent"] > 150
    score = score_files(speech_48k, heard)
    print(f"bob heard alice through PulseAudio: {score}")
    assert score.correlation > 0.5
    assert score.mos >= 3.5, score
