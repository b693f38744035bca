"""Every limit and timeout of call signalling, in one place (WireGuard's `messages.h` style).

Times are float seconds on the monotonic clock unless the name says otherwise; sizes are
bytes. The values are tuned for a LAN or a home internet link: a lost signalling packet
costs at most RETRANSMIT_INITIAL_S, and a dead peer is noticed within PEER_LOST_S.
"""

from __future__ import annotations

# Sizes the wire format shares with the channel and the rest of the product, re-exported
# here so the wire format reads its layout from one module; each is defined once.
from pysnac.channel.limits import CALL_ID_BYTES as CALL_ID_BYTES
from pysnac.channel.limits import COUNTER_BYTES as COUNTER_BYTES
from pysnac.channel.limits import MAX_INVITE_AGE_S, TAG_BYTES
from pysnac.limits import PUBLIC_KEY_BYTES as PUBLIC_KEY_BYTES

# Retransmission of INVITE, ACCEPT, REJECT, CANCEL and BYE: exponential backoff.
RETRANSMIT_INITIAL_S = 0.2
RETRANSMIT_BACKOFF = 2.0
RETRANSMIT_MAX_S = 1.6

# How long each retransmitted message is repeated before the sender gives up.
INVITE_GIVE_UP_S = 8.0  # no RINGING/BUSY/REJECT/ACCEPT: "No reply" (UNREACHABLE)
ACCEPT_GIVE_UP_S = 5.0  # callee: no key confirmation after answering: HANDSHAKE_FAILED
CLOSE_GIVE_UP_S = 2.0  # CANCEL, REJECT and BYE: stop repeating, the call is over anyway

# An established call: keepalive when nothing else was sent, peer lost after silence.
KEEPALIVE_S = 1.0
PEER_LOST_S = 3.0

# A finished call lingers this long to answer retransmissions (BYE -> BYE_ACK and so on).
LINGER_S = 5.0

# Invite replay protection: call ids are remembered this long; the caller's timestamp must
# also be fresh and newer than the last one seen from that key (channel's InviteReplayGuard,
# MAX_INVITE_AGE_S; WireGuard whitepaper section 5.1).
INVITE_CACHE_S = 2 * MAX_INVITE_AGE_S

# Unauthenticated work: handshake reads (two X25519 each) and WRONG_KEY replies (one
# signature) are rate-limited by a token bucket, so a flood cannot take the CPU.
HANDSHAKES_PER_S = 20.0
HANDSHAKE_BURST = 10

# Wire sizes.
MAX_DATAGRAM_BYTES = 1400  # below a 1500-byte MTU with IPv6 + UDP headers
SESSION_INDEX_BYTES = 4
SIGNATURE_BYTES = 64
AEAD_TAG_BYTES = TAG_BYTES
