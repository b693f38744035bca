"""The private PulseAudio rig and `main.py devices`: start, stop, reuse, environment, CLI.

The rig must leave nothing behind (server, parec helpers, folder), give a child phone
process an environment in which ALSA's default devices are its virtual mic and speaker,
attach to an already running server only when asked, and `main.py devices` must list
what PortAudio sees -- or say there is nothing, without a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from demo.pulse_rig import PulseRig
from tests.signal_compare import write_wav

REPO = Path(__file__).resolve().parent.parent
TONE_HZ = 1000
CHILD_TIMEOUT_S = 30

CHILD = """
import sys
import threading
import numpy as np
from drivers.audio import AudioParams, open_audio_device
device = open_audio_device("pyaudio", AudioParams())  # ALSA default -> PULSE_SOURCE
device.start()
print("ready", flush=True)
pcm = b"".join(device.read_frame() for _ in range(60))
device.stop()
samples = np.frombuffer(pcm, dtype="<i2").astype(float)
spectrum = np.abs(np.fft.rfft(samples))
print(int(np.argmax(spectrum) * 48000 / len(samples)), int(np.abs(samples).max()))
"""


def run_main(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        cwd=REPO,
        env=env,
    )


def test_env_for_names_the_phones_devices(pulse_rig: PulseRig) -> None:
    env = pulse_rig.env_for("b")
    assert env["PULSE_SOURCE"] == "mic_b.monitor"
    assert env["PULSE_SINK"] == "spk_b"
    assert env["PULSE_SERVER"].startswith("unix:")
    assert str(pulse_rig.alsa_config) in env["ALSA_CONFIG_PATH"]
    assert pulse_rig.device_names("b") == ("pysnac_mic_b", "pysnac_spk_b")
    with pytest.raises(ValueError):
        pulse_rig.env_for("c")


def test_a_child_phone_hears_its_mic_through_alsa_default(
    pulse_rig: PulseRig, tmp_path: Path
) -> None:
    t = np.arange(48000 * 3) / 48000
    write_wav(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * TONE_HZ * t), 48000)
    env = dict(os.environ, **pulse_rig.env_for("a"))
    env.pop("ALSA_CONFIG_PATH")  # the default route needs only the pulse variables
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    player = pulse_rig.play_into("mic_a", tmp_path / "tone.wav")
    out, _ = child.communicate(timeout=CHILD_TIMEOUT_S)
    player.terminate()
    player.wait()
    peak_hz, level = (int(word) for word in out.split())
    assert abs(peak_hz - TONE_HZ) < 30
    assert level > 10000


def test_a_rig_stops_everything_it_started(tmp_path: Path) -> None:
    rig = PulseRig(root=tmp_path / "rig").start()
    assert rig.running
    daemon = rig._daemon
    helpers = list(rig._helpers)
    assert daemon is not None and len(helpers) == 4
    assert "spk_a" in rig.pactl("list", "short", "sinks")
    rig.stop()
    rig.stop()
    assert daemon.poll() is not None
    assert all(helper.poll() is not None for helper in helpers)
    assert not rig.running


def test_reuse_running_attaches_instead_of_starting_a_second_server(
    pulse_rig: PulseRig,
) -> None:
    # The session rig's server is this process's PULSE_SERVER (activate_alsa_config).
    guest = PulseRig(reuse_running=True, sinks=("guest_spk", "guest_mic")).start()
    try:
        assert guest._daemon is None
        assert guest.server == pulse_rig.server
        assert "guest_spk" in pulse_rig.pactl("list", "short", "sinks")
    finally:
        guest.stop()
    sinks = pulse_rig.pactl("list", "short", "sinks")
    assert "guest_spk" not in sinks
    assert "spk_a" in sinks  # the host server is untouched


def test_devices_command_lists_the_rigs_devices(pulse_rig: PulseRig) -> None:
    env = dict(os.environ, **pulse_rig.client_env())
    result = run_main(env, "devices")
    assert result.returncode == 0, result.stderr
    assert "pysnac_mic_a" in result.stdout
    assert "pysnac_spk_b" in result.stdout
    assert "Traceback" not in result.stderr
    inputs = run_main(env, "devices", "--kind", "input")
    assert "index" in inputs.stdout.splitlines()[0]


@pytest.mark.skipif(Path("/dev/snd").exists(), reason="this machine has a real sound card")
def test_devices_command_without_any_device_says_how_to_fix_it() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ALSA_CONFIG_PATH", "PULSE_SERVER")}
    env["PULSE_SERVER"] = "unix:/nonexistent/pysnac/native"
    result = run_main(env, "devices")
    assert result.returncode == 1
    assert "no audio devices found" in result.stderr
    assert "docs/audio.md" in result.stderr
    assert "Traceback" not in result.stderr


CHILD_STARTS_A_RIG = """
import sys
import threading
from demo.pulse_rig import PulseRig
rig = PulseRig().start()
print(" ".join(str(p.pid) for p in [rig._daemon, *rig._helpers]), flush=True)
sys.stdin.read()  # until killed
"""


def process_gone(pid: int) -> bool:
    """True once `pid` has exited (a zombie of ours counts as gone: it runs nothing)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_crashed_test_process_leaves_no_sound_server_behind() -> None:
    """atexit cannot run when the process dies by SIGKILL (or a crash): the kernel must
    then take the server and its helpers down with it (stopped even on failure)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_STARTS_A_RIG],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pids = [int(pid) for pid in child.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(pids) >= 2 and not any(process_gone(pid) for pid in pids)
    finally:
        child.kill()
        child.wait(timeout=10)
    done = threading.Event()
    for _ in range(100):  # bounded: up to 5 s for the kernel to deliver the signals
        if all(process_gone(pid) for pid in pids):
            break
        done.wait(0.05)
    assert all(process_gone(pid) for pid in pids), [p for p in pids if not process_gone(p)]
