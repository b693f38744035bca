"""Invite replay protection without a wall-clock window (WireGuard's TAI64N rule).

An IK invite can be replayed by anyone who recorded it: it would make the phone ring as
the caller (nobody but the caller can finish the handshake, but the ring is the harm).
WireGuard stops this with a timestamp per initiator that the responder only accepts when
it is greater than the last one from that key (whitepaper section 5.1). We do the same,
with two changes so that no two clocks ever have to agree:

- The sender's stamp is `max(last_sent + 1, wall clock in microseconds)`: it grows even
  when the sender's clock steps back, and `last_sent` survives a restart.
- The receiver compares a caller's stamp only with that caller's previous stamps, never
  with its own clock, and keeps the newest per key across restarts, so a replay after a
  restart is refused too. Contacts' entries are kept for ever; strangers' are bounded
  (MAX_INVITE_STAMP_STRANGERS, oldest forgotten first).

Pure: the runtime loads and saves the state (`encode` / `decode`) in the phone's state
folder; `changed` says when a save is due.
"""

from __future__ import annotations

import base64
import binascii

from pysnac.channel.errors import HandshakeFailed
from pysnac.channel.limits import MAX_INVITE_STAMP_STRANGERS, MAX_STAMP, STAMP_UNITS_PER_S

MAGIC = "pysnac-invite-stamps-v1"
KEY_BYTES = 32


class InviteStamps:
    """Our own last sent stamp and, per caller key, the newest stamp accepted."""

    def __init__(self) -> None:
        self.last_sent = 0
        self._contacts: dict[bytes, int] = {}
        self._strangers: dict[bytes, int] = {}  # insertion order = age
        self.changed = False

    def next_stamp(self, wall_s: float) -> int:
        """The stamp for our next invite: above every stamp we sent before."""
        stamp = min(MAX_STAMP, max(self.last_sent + 1, int(wall_s * STAMP_UNITS_PER_S)))
        if stamp <= self.last_sent:
            raise HandshakeFailed("invite stamps exhausted")
        self.last_sent = stamp
        self.changed = True
        return stamp

    def latest(self, key: bytes) -> int | None:
        return self._contacts.get(key, self._strangers.get(key))

    def accept(self, key: bytes, stamp: int, *, contact: bool) -> None:
        """Record `stamp` from `key`, or raise HandshakeFailed when it is not newer."""
        latest = self.latest(key)
        if latest is not None and stamp <= latest:
            raise HandshakeFailed("invite replayed (stamp not newer than the last one)")
        self._strangers.pop(key, None)
        if contact:
            self._contacts[key] = stamp
        else:
            self._strangers[key] = stamp
            while len(self._strangers) > MAX_INVITE_STAMP_STRANGERS:
                del self._strangers[next(iter(self._strangers))]
        self.changed = True

    def encode(self) -> bytes:
        lines = [MAGIC, f"sent {self.last_sent}"]
        for tag, table in (("contact", self._contacts), ("stranger", self._strangers)):
            for key, stamp in table.items():
                lines.append(f"{tag} {base64.b64encode(key).decode('ascii')} {stamp}")
        return ("\n".join(lines) + "\n").encode("ascii")

    @classmethod
    def decode(cls, data: bytes) -> InviteStamps:
        """Exact parse; ValueError on anything else."""
        stamps = cls()
        try:
            lines = data.decode("ascii").splitlines()
        except UnicodeDecodeError as exc:
            raise ValueError("invite stamps file is not ASCII") from exc
        if not lines or lines[0] != MAGIC:
            raise ValueError(f"invite stamps file does not start with {MAGIC}")
        for number, text in enumerate(lines[1:], start=2):
            fields = text.split(" ")
            try:
                if fields[0] == "sent" and len(fields) == 2:
                    stamps.last_sent = _stamp(fields[1])
                elif fields[0] in ("contact", "stranger") and len(fields) == 3:
                    key = base64.b64decode(fields[1], validate=True)
                    if len(key) != KEY_BYTES:
                        raise ValueError("key is not 32 bytes")
                    table = stamps._contacts if fields[0] == "contact" else stamps._strangers
                    table[key] = _stamp(fields[2])
                else:
                    raise ValueError("unknown line")
            except (ValueError, binascii.Error) as exc:
                raise ValueError(f"invite stamps line {number}: {exc}") from exc
        return stamps


def _stamp(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"stamp {text!r} is not a decimal number")
    value = int(text)
    if not 0 <= value <= MAX_STAMP:
        raise ValueError("stamp out of range")
    return value
