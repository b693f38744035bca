"""`main.py demo --real-audio`: the two phones talk through PyAudio on virtual sound devices.

Without it the demo's phones use the `wav` driver (files paced by a clock). With it each
phone process uses the real `pyaudio` driver, and this module provides what it opens: a
PulseAudio server with a virtual microphone and speaker per phone (`PulseRig`). A server
the user already runs (a desktop's PulseAudio or PipeWire bridge) is reused, with the
virtual devices added to it and removed afterwards; otherwise a private one is started and
stopped again, even when the demo fails. While the phones are in the call, each clip is
played into its talker's microphone (`paplay` into mic_a / mic_b) and each speaker is
recorded (`parec` of spk_a / spk_b) to `<out>/<name>_heard.wav`, as the wav path does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from demo.pulse_rig import PulseRig

WAV_PATH = "wav driver: the clips are the microphones, the speakers write WAV files"
PHONE_LETTERS = {"alice": "a", "bob": "b"}  # the rig's phone a and phone b
PLAYER_STOP_S = 5.0


@dataclass
class RealAudio:
    """The sound server the demo's phones use, and how to talk and listen through it."""

    rig: PulseRig
    reused: bool

    @property
    def path(self) -> str:
        server = "the running sound server" if self.reused else "a private PulseAudio"
        return (
            f"pyaudio driver on {server}: virtual microphones mic_a/mic_b, "
            "speakers spk_a/spk_b (played with paplay, recorded with parec)"
        )

    def env_for(self, name: str) -> dict[str, str]:
        """The environment that gives phone `name` its own microphone and speaker."""
        return self.rig.env_for(PHONE_LETTERS[name])

    def talk(self, clips: dict[str, Path], out: Path) -> Callable[[], None]:
        """Start recording both speakers and playing each clip into its talker's microphone;
        returns the function that stops them all (the recordings are then complete)."""
        recordings = [
            self.rig.record(f"spk_{letter}", out / f"{name}_heard.wav")
            for name, letter in PHONE_LETTERS.items()
        ]
        players = [
            self.rig.play_into(f"mic_{PHONE_LETTERS[name]}", clip) for name, clip in clips.items()
        ]

        def stop() -> None:
            for player in players:
                if player.poll() is None:
                    player.terminate()
                player.wait(PLAYER_STOP_S)
                if player.stderr is not None:
                    player.stderr.close()
            for recording in recordings:
                recording.stop()

        return stop


@contextmanager
def real_audio(enabled: bool, echo: Callable[[str], None]) -> Iterator[RealAudio | None]:
    """The demo's sound server while the block runs (None: the wav path, nothing started)."""
    if not enabled:
        yield None
        return
    rig = PulseRig(reuse_running=True)
    rig.start()  # PulseRigError (a PysnacError: one line) when no server can be had
    try:
        sound = RealAudio(rig, reused=not rig.server.startswith(f"unix:{rig.root}"))
        echo(f"audio: {sound.path}")
        yield sound
    finally:
        rig.stop()
