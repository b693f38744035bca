"""Every limit and timeout of call signalling, in one place (WireGuard's `messages.h` style).

Times are float seconds on the monotonic clock unless the name says otherwise; sizes are
bytes. The values are tuned for a LAN or a home internet link: a lost signalling packet
costs at most RETRANSMIT_INITIAL_S. A call rides out an outage (Wi-Fi roaming, a DSL
retrain) for PEER_LOST_S before it ends: meanwhile the phone shows it reconnecting and both
sides keep sending, so the call resumes with its keys the moment packets come back.
"""

from __future__ import annotations

# Sizes the wire format shares with the channel and the rest of the product, re-exported
# here so the wire format reads its layout from one module; each is defined once.
from pysnac.channel.limits import CALL_ID_BYTES as CALL_ID_BYTES
from pysnac.channel.limits import COUNTER_BYTES as COUNTER_BYTES
from pysnac.channel.limits import SAS_NONCE_BYTES, TAG_BYTES
from pysnac.limits import PUBLIC_KEY_BYTES as PUBLIC_KEY_BYTES

# Retransmission of INVITE, ACCEPT, REJECT, CANCEL and BYE: exponential backoff.
RETRANSMIT_INITIAL_S = 0.2
RETRANSMIT_BACKOFF = 2.0
RETRANSMIT_MAX_S = 1.6

# How long each retransmitted message is repeated before the sender gives up.
INVITE_GIVE_UP_S = 8.0  # no RINGING/BUSY/REJECT/ACCEPT: "No reply" (UNREACHABLE)
ACCEPT_GIVE_UP_S = 5.0  # callee: no key confirmation after answering: HANDSHAKE_FAILED
CLOSE_GIVE_UP_S = 2.0  # CANCEL and REJECT: stop repeating, the call is over anyway
# BYE is repeated until BYE_ACK or the call's peer-lost time, so the far end shows
# "Call ended" under heavy loss too (it would show "Call lost" only after that time).

# An established call: keepalive when nothing else was sent, peer lost after silence.
KEEPALIVE_S = 1.0
# No authenticated packet for this long is an outage: the LCD shows "Reconnecting". Longer
# than KEEPALIVE_S plus scheduling slack, so a muted call that only sends keepalives never
# shows it; media flows 50 packets a second, so a real outage passes it at once.
RECONNECTING_AFTER_S = 1.5
# No authenticated packet for this long ends the call ("Call lost"); the config's
# `network.peer_lost_s` overrides it within PEER_LOST_MIN_S..PEER_LOST_MAX_S.
PEER_LOST_S = 30.0  # Linphone's default: Wi-Fi roaming and DSL retrains take seconds
PEER_LOST_MIN_S = 2.0 * RECONNECTING_AFTER_S  # shorter would end calls a keepalive could save
PEER_LOST_MAX_S = 600.0
MAX_OUTAGES_KEPT = 64  # per call, (silent since, back at) pairs for the call log

# A finished call lingers this long to answer retransmissions (BYE -> BYE_ACK and so on).
LINGER_S = 5.0

# Invite replay protection: call ids are remembered this long (a repeated INVITE gets our
# latest answer again); older replays are refused by the caller's invite stamp, which must
# be newer than the last one from that key (channel's InviteStamps).
INVITE_CACHE_S = 60.0
# A repeated INVITE gets the latest answer again, at most this often and this many times
# per call, so a replayed INVITE cannot turn the phone into a repeater.
REPLY_REPEAT_MIN_S = 0.1
MAX_REPLY_REPEATS = 10

# Strangers cost nothing (WireGuard's mac1/mac2 and cookie reply, whitepaper section 5.4.4).
# mac1 proves the sender knows our key (a keyed BLAKE2b, microseconds); an INVITE that
# fails it gets no reply but the unsigned WRONG_KEY hint, itself rate-limited.
MAC_BYTES = 16
WRONG_KEY_REPLIES_PER_S = 5.0
WRONG_KEY_REPLY_BURST = 5
# Under load (more new INVITEs than this per second from unproven sources), an INVITE
# without a valid mac2 gets a cookie reply bound to its source address and no DH work.
UNPROVEN_INVITES_PER_S = 10.0
UNPROVEN_INVITE_BURST = 10
UNDER_LOAD_S = 1.0  # how long "under load" lasts after the last overflow
COOKIE_BYTES = 16
COOKIE_NONCE_BYTES = 24  # XChaCha20-Poly1305
COOKIE_SECRET_S = 120.0  # the secret behind the cookies changes this often
COOKIE_USE_S = 110.0  # a caller uses a received cookie this long (under COOKIE_SECRET_S)
MAX_COOKIES_PER_CALL = 4  # a caller resends its INVITE for at most this many cookies
# Handshake work (two X25519 per INVITE read) is rate-limited per source address, so one
# source's flood cannot starve another's call; the table of sources is bounded.
HANDSHAKES_PER_SOURCE_PER_S = 5.0
HANDSHAKE_SOURCE_BURST = 5
MAX_RATE_LIMITED_SOURCES = 4096

# Wire sizes.
MAX_DATAGRAM_BYTES = 1400  # below a 1500-byte MTU with IPv6 + UDP headers
SESSION_INDEX_BYTES = 4
SIGNATURE_BYTES = 64
AEAD_TAG_BYTES = TAG_BYTES
CONFIRM_BYTES = SAS_NONCE_BYTES
