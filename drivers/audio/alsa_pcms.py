"""Named ALSA PCMs over PulseAudio, so one process can open several phones' sound devices.

ALSA's `pulse` plugin takes a `server` and a `device` (sink or source name), so a PCM such
as `pysnac_mic_a` reaches one virtual device of one server with no environment variables.
PortAudio lists every PCM defined in ALSA's configuration by name, hence
`AudioParams(input_device="pysnac_mic_a")`. The file is added to ALSA's search path with
`ALSA_CONFIG_PATH=<system alsa.conf>:<this file>` (alsa-lib reads a colon-separated list),
which must be set before the process initialises PortAudio. Per phone `x`:
`pysnac_mic_x` (the phone captures mic_x.monitor), `pysnac_spk_x` (plays into spk_x),
`pysnac_mouth_x` (a test speaks into mic_x) and `pysnac_ear_x` (a test hears spk_x.monitor).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

SYSTEM_ALSA_CONF = Path("/usr/share/alsa/alsa.conf")
PCM_PREFIX = "pysnac_"


def device_names(phone: str) -> tuple[str, str]:
    """The (input, output) PCM names phone `phone` opens."""
    return f"{PCM_PREFIX}mic_{phone}", f"{PCM_PREFIX}spk_{phone}"


def tester_names(phone: str) -> tuple[str, str]:
    """The (mouth, ear) PCM names a test uses to speak to and hear phone `phone`."""
    return f"{PCM_PREFIX}mouth_{phone}", f"{PCM_PREFIX}ear_{phone}"


def config_search_path(config: Path) -> str:
    """The ALSA_CONFIG_PATH value that adds `config` to the system configuration."""
    return f"{SYSTEM_ALSA_CONF}:{config}"


def write_config(path: Path, servers: Mapping[str, str]) -> None:
    """Write the PCMs of every phone in `servers` (phone -> PULSE_SERVER address)."""
    blocks = []
    for phone, server in servers.items():
        for kind, device in (
            ("mic", f"mic_{phone}.monitor"),
            ("spk", f"spk_{phone}"),
            ("mouth", f"mic_{phone}"),
            ("ear", f"spk_{phone}.monitor"),
        ):
            blocks.append(
                f"pcm.{PCM_PREFIX}{kind}_{phone} {{\n"
                f"    type pulse\n"
                f'    server "{server}"\n'
                f'    device "{device}"\n'
                f'    hint {{ show on description "PySNAC virtual {kind} of phone {phone}" }}\n'
                f"}}\n"
            )
    path.write_text("".join(blocks))
