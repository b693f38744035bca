"""`main.py whoami`: print this device's public key and its short fingerprint.

The key file is `--key-file PATH`, else `identity.key` beside the `--config` file when
one is given, else `DEFAULT_KEY_PATH`. whoami never creates a key: running the phone
does (so a typo in a path cannot silently mint a second identity).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

KEY_FILE_NAME = "identity.key"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key-file",
        metavar="PATH",
        help="the identity key file (default: identity.key beside --config, "
        "else ~/.config/pysnac/identity.key)",
    )


def key_path(args: argparse.Namespace) -> Path:
    """Where the key file is, by the precedence in the module docstring."""
    from pathlib import Path

    from pysnac.channel.identity import DEFAULT_KEY_PATH

    if getattr(args, "key_file", None):
        return Path(args.key_file).expanduser()
    if getattr(args, "config", None):
        return Path(args.config).expanduser().parent / KEY_FILE_NAME
    return DEFAULT_KEY_PATH


def main(args: argparse.Namespace) -> int:
    import sys

    from drivers.rendezvous.record import key_id
    from pysnac.channel.errors import IdentityMissing
    from pysnac.channel.identity import Identity, fingerprint
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
