"""The invite stamps file: `InviteStamps` kept across restarts in the phone's state folder.

Without it a restarted phone would accept a replay of any invite it had seen before, and a
phone whose clock stepped back would send stamps its contacts refuse. Text, mode 0600
(it says who called this phone), written whole to a temporary file and renamed into place,
so a crash leaves the old or the new file, never half of one. A damaged file is set aside
(`.corrupt`) and the phone starts afresh, with a warning: refusing to start would make a
broken appliance out of a lost replay defence for one caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from pysnac.channel.invite_stamps import InviteStamps

log = logging.getLogger(__name__)

STAMPS_FILE_NAME = "invite-stamps"
STAMPS_FILE_MODE = 0o600
MAX_STAMPS_FILE_BYTES = 1 << 20


def load_stamps(path: Path) -> InviteStamps:
    """The stamps at `path`, or fresh ones when there is no (usable) file."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return InviteStamps()
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_STAMPS_FILE_BYTES:
        log.warning("invite stamps %s is not a regular file of sane size: ignored", path)
        return InviteStamps()
    try:
        return InviteStamps.decode(path.read_bytes())
    except (OSError, ValueError) as exc:
        log.warning("invite stamps %s unusable (%s): set aside, starting afresh", path, exc)
        with contextlib.suppress(OSError):
            path.replace(path.with_name(path.name + ".corrupt"))
        return InviteStamps()


def save_stamps(path: Path, stamps: InviteStamps) -> None:
    """Write `stamps` atomically, 0600 from the first byte; clears `stamps.changed`."""
    data = stamps.encode()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, STAMPS_FILE_MODE)
    try:
        os.fchmod(fd, STAMPS_FILE_MODE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    stamps.changed = False
