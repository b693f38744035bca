"""INVITE flooders built from the product's wire format and mac code.

- `garbage_invite`: random bytes shaped like an INVITE; its mac1 is wrong (the sender does
  not know whom it calls).
- `keyed_invite`: an INVITE with a valid mac1 for the victim's public key (published in
  its rendezvous records, so any stranger knows it) around a random Noise message: it
  passes the cheap check and would cost a DH if the victim let it.
Both are sent from spoofed source addresses that never read a reply.
"""

from __future__ import annotations

import random

from pysnac.call import wire
from pysnac.call.macs import InviteMacs
from pysnac.channel.limits import PROTOCOL_VERSION

NOISE_BYTES = 180  # about a real IK first message with a short name


def garbage_invite(rng: random.Random) -> bytes:
    body = wire.encode_invite_body(
        PROTOCOL_VERSION, rng.randbytes(8), rng.getrandbits(32), rng.randbytes(NOISE_BYTES)
    )
    return body + rng.randbytes(wire.INVITE_MACS_BYTES)


def keyed_invite(rng: random.Random, macs: InviteMacs) -> bytes:
    body = wire.encode_invite_body(
        PROTOCOL_VERSION, rng.randbytes(8), rng.getrandbits(32), rng.randbytes(NOISE_BYTES)
    )
    return macs.seal(body, None)


def spoofed_source(rng: random.Random) -> tuple[str, int]:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}", rng.randrange(
        1024, 65536
    )
