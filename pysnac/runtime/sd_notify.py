"""systemd's service notification protocol (sd_notify(3)), with the standard library only.

Under `Type=notify` systemd passes `NOTIFY_SOCKET` (a Unix datagram socket path; a leading
`@` means the abstract namespace) and, with `WatchdogSec=`, `WATCHDOG_USEC` and
`WATCHDOG_PID`. The phone sends `READY=1` once its Idle screen is up, `WATCHDOG=1` from the
state-machine thread at half the watchdog period (so a hung machine stops the pings and
systemd restarts the service), and `STOPPING=1` when it stops. Outside systemd every
method is a no-op. Sends never block (a Unix datagram socket whose reader is behind
blocks the sender after a few queued messages, which would stall the very thread the
watchdog watches): a message that cannot go at once is dropped, and a failed send is
logged once; neither stops the phone.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"
WATCHDOG_PID_ENV = "WATCHDOG_PID"
WATCHDOG_PING_FRACTION = 0.5  # ping at half the period, as sd_watchdog_enabled(3) advises
US_PER_S = 1_000_000


def watchdog_period_s(environ: Mapping[str, str], pid: int) -> float | None:
    """systemd's watchdog period for this process, or None when there is none."""
    usec = environ.get(WATCHDOG_USEC_ENV, "")
    owner = environ.get(WATCHDOG_PID_ENV, "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner and owner != str(pid):
        return None  # meant for another process (a parent that exec'd us keeps it)
    return int(usec) / US_PER_S


def _address(path: str) -> str | bytes:
    return "\0" + path[1:] if path.startswith("@") else path


class Notifier:
    """Sends notifications to systemd; `heartbeat()` sends WATCHDOG=1 when one is due."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if environ is None else environ
        self._socket_path = env.get(NOTIFY_SOCKET_ENV, "")
        period = watchdog_period_s(env, os.getpid())
        self.ping_interval_s = None if period is None else period * WATCHDOG_PING_FRACTION
        self._monotonic = monotonic
        self._next_ping = 0.0
        self._failed = False
        self._sock: socket.socket | None = None
        if self._socket_path:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, message: str) -> bool:
        if self._sock is None:
            return False
        try:
            self._sock.sendto(message.encode(), _address(self._socket_path))
        except OSError as exc:
            if not self._failed:
                log.error("sd_notify to %s failed: %s", self._socket_path, exc)
            self._failed = True
            return False
        return True

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def heartbeat(self) -> None:
        """Called from the state-machine thread after each event and when idle."""
        if self.ping_interval_s is None:
            return
        now = self._monotonic()
        if now >= self._next_ping:
            self._next_ping = now + self.ping_interval_s
            self.send("WATCHDOG=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
