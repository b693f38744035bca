"""Pytest plugin: a private PulseAudio server for the whole test session (`pulse_rig`).

Started once, on first use, and stopped at the end of the session even when tests fail
(the fixture's finaliser, and the rig's own atexit hook if pytest is killed). Tests that
need it skip with a clear reason only when the `pulseaudio` binary is missing; `make test`
installs it, so in CI they run. The rig's named ALSA PCMs (`pysnac_mic_a`, ...) are made
visible to this process before any PyAudio() is created by a test that uses the fixture.
Load it with `pytest_plugins = ["tests.fixtures_audio"]` in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from demo.pulse_rig import PulseRig

if TYPE_CHECKING:
    from demo.phones import PhoneProcess


@pytest.fixture(scope="session")
def pulse_rig() -> Iterator[PulseRig]:
    """The session's private sound server with spk_a, spk_b, mic_a, mic_b."""
    for tool in ("pulseaudio", "pactl", "parec", "paplay"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing: apt-get install pulseaudio pulseaudio-utils")
    saved = {key: os.environ.get(key) for key in ("PULSE_SERVER", "ALSA_CONFIG_PATH")}
    rig = PulseRig()
    rig.start()
    try:
        rig.activate_alsa_config()
        yield rig
    finally:
        rig.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def this_rigs_alsa(pulse_rig: PulseRig) -> PulseRig:
    """Device names opened in this process reach THIS rig: a test module that imports the
    fixture instead of using the plugin gets a second session rig, which activates its own
    ALSA config for the whole process. Use with `pytest.mark.usefixtures`."""
    pulse_rig.activate_alsa_config()
    return pulse_rig


def pyaudio_phone_processes(root: Path, rig: PulseRig) -> dict[str, PhoneProcess]:
    """alice and bob as `main.py run` processes on the `pyaudio` driver, each on its own
    virtual microphone and speaker of `rig`; started, not yet ready."""
    from demo.phones import PhoneProcess, make_phone_folder, write_config

    alice, bob = make_phone_folder(root, "alice"), make_phone_folder(root, "bob")
    write_config(alice, [bob], audio="pyaudio")
    write_config(bob, [alice], audio="pyaudio")
    return {
        "alice": PhoneProcess(alice, extra_env=rig.env_for("a")),
        "bob": PhoneProcess(bob, extra_env=rig.env_for("b")),
    }


@pytest.fixture(scope="session")
def speech_48k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled 4 s speech clip converted to 48 kHz mono int16 (what the phone sends)."""
    from drivers.audio.wav_device import load_wav_mono16
    from tests.media_helpers import SPEECH  # the repo's own copy
    from tests.signal_compare import write_wav

    if not SPEECH.exists():
        pytest.skip(f"test speech clip missing: {SPEECH}")
    out = tmp_path_factory.mktemp("speech") / "speech_48k.wav"
    write_wav(out, load_wav_mono16(SPEECH, 48000), 48000)
    return out


def speech_samples(path: Path) -> np.ndarray:
    from tests.signal_compare import read_wav

    return read_wav(path)[1]
