"""Recent calls: the last HISTORY_MAX_CALLS calls, kept across restarts.

Stored as a JSON list (newest first) in `history.json` beside the config. Every change
rewrites the file atomically (write a temporary file in the same folder, fsync, rename),
so a power cut leaves the old list or the new one, never half of one. A missing file is
an empty history; an unreadable one is logged, kept aside as `.bad`, and starts afresh:
a phone must not refuse to boot over its call log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pysnac.limits import HISTORY_MAX_CALLS

log = logging.getLogger(__name__)

HISTORY_FILE_NAME = "history.json"
PRIVATE_FILE_MODE = 0o600  # config, contacts, call history: no other user reads them
PRIVATE_DIR_MODE = 0o700
INCOMING = "in"
OUTGOING = "out"


@dataclass(frozen=True)
class CallRecord:
    """One finished call (or attempt). `when` is wall-clock seconds since the epoch."""

    direction: str  # INCOMING or OUTGOING
    peer: str
    duration_s: float  # connected time; 0 when it never connected
    outcome: str  # the hang-up reason shown on screen ("Hung up", "Busy", "Missed call")
    when: float = 0.0


def _parse(item: object) -> CallRecord:
    if not isinstance(item, dict):
        raise ValueError("a record is not an object")
    record = CallRecord(
        direction=str(item["direction"]),
        peer=str(item["peer"]),
        duration_s=float(item["duration_s"]),
        outcome=str(item["outcome"]),
        when=float(item.get("when", 0.0)),
    )
    if record.direction not in (INCOMING, OUTGOING):
        raise ValueError(f"bad direction {record.direction!r}")
    return record


class History:
    """The recent-calls list over a JSON file; `path=None` keeps it in memory only."""

    def __init__(self, path: Path | None, *, wall_clock=time.time) -> None:
        self.path = path
        self._wall_clock = wall_clock
        self._records: list[CallRecord] = self._load()

    def _load(self) -> list[CallRecord]:
        if self.path is None or not self.path.exists():
            return []
        try:
            items = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(items, list):
                raise ValueError("not a list")
            return [_parse(item) for item in items][:HISTORY_MAX_CALLS]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            aside = self.path.with_suffix(".bad")
            log.warning("call history %s unreadable (%s); moved to %s", self.path, exc, aside)
            with contextlib.suppress(OSError):
                self.path.replace(aside)
            return []

    def records(self) -> list[CallRecord]:
        """Newest first."""
        return list(self._records)

    def add(self, record: CallRecord) -> None:
        if not record.when:
            record = CallRecord(**{**asdict(record), "when": self._wall_clock()})
        self._records = [record, *self._records][:HISTORY_MAX_CALLS]
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        text = json.dumps([asdict(r) for r in self._records], indent=1)
        atomic_write_text(self.path, text + "\n")


def atomic_write_text(path: Path, text: str, mode: int = PRIVATE_FILE_MODE) -> None:
    """Replace `path` with `text` atomically (temp file in the same folder, fsync, rename).
    Private by default: a missing folder is made PRIVATE_DIR_MODE, the file `mode`."""
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
