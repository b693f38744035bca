"""`main.py whoami`: print this device's public key and its short fingerprint.

The key file is `--key-file PATH`, else the one the phone itself uses: the config's
`[device] key_file` (config found as every command finds it: `--config`,
`$PYSNAC_CONFIG`, the default path; see resolve.py). whoami never creates a key:
running the phone does (so a typo in a path cannot silently mint a second identity).
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key-file",
        metavar="PATH",
        help="the identity key file (default: the config's [device] key_file)",
    )


def main(args: argparse.Namespace) -> int:
    import sys

    from drivers.rendezvous.record import key_id
    from pysnac.channel.errors import IdentityMissing
    from pysnac.channel.identity import Identity, fingerprint
    from pysnac.cli.resolve import key_path
    from pysnac.contacts import encode_public_key

    path = key_path(args)
    try:
        identity = Identity.load(path)
    except IdentityMissing:
        print(
            f"pysnac: no identity key at {path}; running the phone (`main.py run`) creates one",
            file=sys.stderr,
        )
        return 1
    print(f"public key:  {encode_public_key(identity.signing_public)}")
    print(f"fingerprint: {fingerprint(identity.signing_public)}")
    print(f"key id:      {key_id(identity.signing_public)}  (the rendezvous record's name)")
    print(f"key file:    {path}")
    return 0
