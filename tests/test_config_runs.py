"""Any codec setting the config loads also runs: a whole call at every frame size.

The config takes its bounds from the media core (`pysnac.media.limits`), and the sound
device is opened with the codec's frame, so a frame size that loads never ends a call as
it connects. Two whole phones on loopback UDP with silent (clock-paced) sound devices.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pysnac.config import load_config
from pysnac.media.limits import FRAME_MS_CHOICES, SAMPLE_RATE_HZ
from pysnac.runtime.factory import audio_params
from pysnac.screen import Button
from pysnac_fsm import table
from tests.test_e2e_phones import WAIT_S, Rig, specs

FRAMES_HEARD = 10  # frames each side must receive: the media path runs, not only the set-up
POLL_S = 0.05


def frames_received_reach(rig: Rig, name: str, count: int) -> bool:
    """Wait (bounded) until phone `name` has received `count` media frames."""
    done = threading.Event()
    deadline_polls = int(WAIT_S / POLL_S)
    for _ in range(deadline_polls):
        if rig.phone(name).service.link_stats().frames_received >= count:
            return True
        done.wait(POLL_S)
    return False


@pytest.mark.parametrize("frame_ms", FRAME_MS_CHOICES)
def test_every_frame_size_the_config_loads_completes_a_call(tmp_path: Path, frame_ms: int) -> None:
    rig = Rig(tmp_path)
    try:
        rig.build(specs(tmp_path, "alice", "bob"), {}, frame_ms=frame_ms)
        for name in ("alice", "bob"):
            config = load_config(tmp_path / name / "config.toml")
            assert config.codec.frame_ms == frame_ms
            assert audio_params(config).frame_samples == SAMPLE_RATE_HZ * frame_ms // 1000
        rig.dial("alice", "bob")
        assert rig.phone("bob").wait_for_state(table.RINGING, WAIT_S)
        rig.lcd("bob").press(Button.SELECT)
        for name in ("alice", "bob"):
            assert rig.phone(name).wait_for_state(table.IN_CALL, WAIT_S)
        for name in ("alice", "bob"):
            assert frames_received_reach(rig, name, FRAMES_HEARD)
            assert rig.phone(name).state == table.IN_CALL
    finally:
        rig.close()
