"""Every limit of the secure channel, in one place (WireGuard's `messages.h` style).

Units are in the names. The counter limits follow WireGuard: a sender stops well before
the 64-bit space ends, and the receiver refuses counters a correct sender never uses.
"""

from __future__ import annotations

PROTOCOL_VERSION = 2  # bound into every handshake's prologue
PROLOGUE_LABEL = b"PySNAC call"
CALL_ID_BYTES = 8

KEY_BYTES = 32
TAG_BYTES = 16
COUNTER_BYTES = 8  # the explicit 64-bit packet counter, little-endian

# RFC 6479 anti-replay bitmap: 32 words of 64 bits. One word is the slack the ring
# needs, so the guaranteed window is 2048 - 64 = 1984 packets (~40 s of 20 ms voice).
REPLAY_WORD_BITS = 64
REPLAY_BITMAP_WORDS = 32
REPLAY_BITMAP_BITS = REPLAY_WORD_BITS * REPLAY_BITMAP_WORDS
REPLAY_WINDOW_PACKETS = REPLAY_BITMAP_BITS - REPLAY_WORD_BITS

# A sender refuses to seal past this counter (never wraps, never reuses a nonce).
REJECT_AFTER_MESSAGES = 2**64 - 2**13 - 1

# The handshake payload (CallSetup).
MAX_CODEC_PARAMS = 8
MAX_CODEC_KEY_BYTES = 16
MAX_CODEC_VALUE = 2**32 - 1

# Invite stamps (WireGuard's per-peer TAI64N rule, without trusting the receiver's clock):
# a sender's stamps only grow (microseconds of its wall clock, or last + 1 when its clock
# stepped back); a receiver keeps the newest per caller key, on disk across restarts.
STAMP_UNITS_PER_S = 1_000_000
MAX_STAMP = 2**64 - 1
MAX_INVITE_STAMP_STRANGERS = 1024  # per-key entries for callers not in the contacts

# The short authentication string (5 base-31 characters: 24.8 bits) and its commitment
# nonce, and the key fingerprint.
SAS_CHARS = 5
SAS_NONCE_BYTES = 32
FINGERPRINT_CHARS = 12  # shown as three groups of four: "F3KQ-9XMA-7TRE"
FINGERPRINT_GROUP_CHARS = 4

KEY_FILE_MODE = 0o600
KEY_DIR_MODE = 0o700
MAX_KEY_FILE_BYTES = 4096
