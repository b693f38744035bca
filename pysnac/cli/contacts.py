"""`main.py contacts list | add NAME PUBLIC_KEY [--address HOST:PORT] | remove NAME`.

Manages the pinned contacts from the shell: the phonebook (`contacts.toml` beside the
config, seeded by the config's `[[contacts]]`). Pinning by hand is how a user trusts a
phone without the on-device pairing: compare the fingerprint `main.py whoami` prints on
the other phone. Without `--config` the default config is used; `add` creates it when
it does not exist yet, `list` and `remove` never create anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="contacts_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="list pinned contacts with their fingerprints")
    add = sub.add_parser("add", help="pin a contact's public key (from `main.py whoami`)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("public_key", metavar="PUBLIC_KEY", help="base64 Ed25519 public key")
    add.add_argument("--address", metavar="HOST:PORT", help="a static address for the contact")
    remove = sub.add_parser("remove", help="unpin a contact")
    remove.add_argument("name", metavar="NAME")


def _phonebook(args: argparse.Namespace, create: bool):  # -> Phonebook | None
    from pysnac.config import default_config_path, load_config, load_or_create
    from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook

    if getattr(args, "config", None):
        config = load_config(Path(args.config))
    else:
        path = default_config_path()
        if not path.exists() and not create:
            return None
        config, created = load_or_create(path)
        if created:
            print(f"pysnac: wrote a default config to {config.path}; edit it", file=sys.stderr)
    return Phonebook(config.folder / PHONEBOOK_FILE_NAME, config.contacts)


def main(args: argparse.Namespace) -> int:
    from pysnac.channel.identity import fingerprint
    from pysnac.contacts import BadPublicKey, Contact, decode_public_key, encode_public_key
    from pysnac.errors import UsageError
    from pysnac.phonebook import format_address, parse_address

    action = args.contacts_command
    book = _phonebook(args, create=action == "add")
    if action == "list":
        contacts = book.contacts() if book is not None else []
        if not contacts:
            print("no contacts pinned; add one with: main.py contacts add NAME PUBLIC_KEY")
            return 0
        width = max(len(c.name) for c in contacts)
        for c in contacts:
            address = format_address(c.address) if c.address else "-"
            key = encode_public_key(c.public_key)
            print(f"{c.name:<{width}}  {fingerprint(c.public_key)}  {key}  {address}")
        return 0
    if book is None:
        raise UsageError(f"no contact named {args.name!r} (no config yet)")
    if action == "add":
        try:
            key = decode_public_key(args.public_key)
        except BadPublicKey as exc:
            raise UsageError(f"PUBLIC_KEY: {exc}") from exc
        try:
            address = parse_address(args.address) if args.address else None
        except ValueError as exc:
            raise UsageError(f"--address: {exc}") from exc
        book.add(Contact(args.name, key, address))
        print(f"pinned {args.name}: fingerprint {fingerprint(key)}")
        return 0
    book.remove(args.name)
    print(f"removed {args.name}")
    return 0
