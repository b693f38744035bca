"""The secure channel's typed errors: each tells the state machine why, in 16 characters.

None of these is a bug: a forged packet, a stranger's key or a replayed invite are
expected on a network. The receiving edge counts and drops them; the state machine
shows `reason` on the LCD.
"""

from __future__ import annotations

from pysnac.errors import PysnacError
from pysnac.limits import REASON_MAX_CHARS


class ChannelError(PysnacError):
    """Base of every secure-channel fault."""

    lcd_reason = "Secure chan fail"

    @property
    def reason(self) -> str:
        return self.lcd_reason[:REASON_MAX_CHARS]


class HandshakeFailed(ChannelError):
    """A handshake message was forged, garbled, truncated, replayed or out of turn."""

    lcd_reason = "Handshake failed"


class WrongPeerKey(HandshakeFailed):
    """The peer authenticated, but with another key than the one pinned for it."""

    lcd_reason = "Wrong peer key"


class BadPacket(ChannelError):
    """A packet failed authentication or has an impossible length or counter."""

    lcd_reason = "Bad packet"


class ReplayedPacket(ChannelError):
    """A packet's counter was already seen, or is older than the replay window."""

    lcd_reason = "Replayed packet"


class KeyExhausted(ChannelError):
    """The send counter reached REJECT_AFTER_MESSAGES: a new handshake is needed."""

    lcd_reason = "Key exhausted"


class BadSignature(ChannelError):
    """An Ed25519 signature did not verify."""

    lcd_reason = "Bad signature"


class IdentityError(ChannelError):
    """The device's key file cannot be used; the message names the file and the fix."""

    lcd_reason = "Identity error"


class IdentityMissing(IdentityError, FileNotFoundError):
    """No key file at the path."""

    lcd_reason = "No identity key"


class IdentityFileMode(IdentityError, PermissionError):
    """The key file is readable or writable by others (mode looser than 0600)."""

    lcd_reason = "Key file mode"


class IdentityCorrupt(IdentityError, ValueError):
    """The key file is not a valid PySNAC identity."""

    lcd_reason = "Key file corrupt"


class IdentityExists(IdentityError, FileExistsError):
    """Refused to write a key file over an existing one."""

    lcd_reason = "Key file exists"


class InvalidPublicKey(ChannelError, ValueError):
    """32 bytes that are not a usable Ed25519 public key (wrong length, not on the curve)."""

    lcd_reason = "Bad public key"
