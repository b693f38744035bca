"""Where the phone's log goes when its screen is the terminal.

The terminal LCD draws on the terminal, and Python's logging, stray prints and the C
libraries under PyAudio (ALSA, JACK, PortAudio print to fd 2 directly) would draw over it.
`divert_to_file(path)` points fd 2 itself at an append-only 0600 log file, so all of them
land there; the terminal LCD keeps its own copy of the terminal (see
drivers/lcd/terminal.py). Under systemd (`JOURNAL_STREAM` set) the log records also go to
the journal, which fd 2 was before.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

LOG_FILE_NAME = "pysnac.log"  # beside the config
LOG_FILE_MODE = 0o600
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def divert_to_file(path: Path) -> None:
    """From now on fd 2 (and so `sys.stderr` and every log handler on it) is `path`."""
    journal = None
    if os.environ.get("JOURNAL_STREAM"):
        journal = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8")
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, LOG_FILE_MODE)
    try:
        os.dup2(fd, 2)
    finally:
        os.close(fd)
    if journal is not None:
        handler = logging.StreamHandler(journal)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logging.getLogger().addHandler(handler)
