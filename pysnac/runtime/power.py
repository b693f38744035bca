"""Powering the machine off after the phone stopped (the menu's "Shut down").

The state machine only records that the user asked (`PhoneModel.power_off_requested`);
`run_appliance` stops the phone first (the table's `shut_down` ends any call and records
it), then calls `power_off` with the configured `device.power_off_command`: an argv list,
run without a shell, so the service user needs permission for exactly that command. An
empty list only stops the phone. Tests pass a recorder as `run`, so nothing is executed.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

POWER_OFF_TIMEOUT_S = 30.0  # `systemctl poweroff` returns once the shutdown is queued

CommandRunner = Callable[[Sequence[str]], object]


def run_command(argv: Sequence[str]) -> object:
    """Run `argv` (no shell); CalledProcessError if it exits non-zero."""
    return subprocess.run(
        list(argv), check=True, timeout=POWER_OFF_TIMEOUT_S, capture_output=True, text=True
    )


def power_off(command: Sequence[str], run: CommandRunner = run_command) -> bool:
    """Run the power-off command; False (and one line on stderr) when it failed or none is
    configured. The phone has already stopped either way."""
    if not command:
        log.info("shut down: no power_off_command configured, the phone only stopped")
        return False
    log.warning("shut down from the menu: running %s", " ".join(command))
    try:
        run(command)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        log.error("power_off_command %s failed: %s", " ".join(command), detail)
        print(f"pysnac: power_off_command {command[0]!r} failed: {exc}", file=sys.stderr)
        return False
    return True
