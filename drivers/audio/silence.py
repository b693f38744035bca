"""The silence device: captures zeros and discards what it plays, paced by a Clock.

For a phone with no sound hardware (a headless relay test, a CI smoke run) and as the
simplest implementation of the audio contract.
"""

from __future__ import annotations

from drivers.audio.base import AudioParams
from drivers.audio.paced import PacedDevice


class SilenceDevice(PacedDevice):
    """Silence in, nothing out, one frame per frame period of the injected clock."""

    def __init__(self, params: AudioParams) -> None:
        super().__init__(params)
        self.name = "silence"
