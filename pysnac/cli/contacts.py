"""`main.py contacts list | add NAME PUBLIC_KEY [--address HOST:PORT] | remove NAME`.

Manages the pinned contacts from the shell: the phonebook (`contacts.jsonl` in the
state folder, seeded by the config's `[[contacts]]`). Pinning by hand is how a user trusts a
phone without the on-device pairing: compare the fingerprint `main.py whoami` prints on
the other phone. `add` checks everything a call would need before it pins anything: the
key is a valid Ed25519 point of the prime-order group (not all zeros, not low order), the
address is one this phone's socket can reach (IPv4 when it binds IPv4) in host:port form,
and the name is not already used, ignoring case. Each error names its field; exit 2.
The config is found as every command finds it (resolve.py); `add`
creates the default one when it does not exist yet, `list` and `remove` never create
anything.
"""

from __future__ import annotations

import argparse
import ipaddress
import re


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="contacts_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="list pinned contacts with their fingerprints")
    add = sub.add_parser("add", help="pin a contact's public key (from `main.py whoami`)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("public_key", metavar="PUBLIC_KEY", help="base64 Ed25519 public key")
    add.add_argument("--address", metavar="HOST:PORT", help="a static address for the contact")
    remove = sub.add_parser("remove", help="unpin a contact")
    remove.add_argument("name", metavar="NAME")


def _phonebook(args: argparse.Namespace, create: bool):  # -> (Phonebook, bind) | (None, "")
    from pysnac.cli.resolve import load
    from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook

    config = load(args, create=create)
    if config is None:
        return None, ""
    book = Phonebook(config.state_folder / PHONEBOOK_FILE_NAME, config.contacts)
    return book, config.network.bind


HOST_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){HOST_LABEL}(\.{HOST_LABEL})*\.?$")  # RFC 1123


def check_key(public_key: bytes) -> None:
    """ValueError unless `public_key` is an Ed25519 point a phone can hold: on the curve,
    in the prime-order subgroup, not of small order (libsodium's is_valid_point)."""
    import nacl.bindings

    if not nacl.bindings.crypto_core_ed25519_is_valid_point(public_key):
        raise ValueError("not a valid Ed25519 public key (off the curve or low order)")


def check_address(text: str, bind: str) -> tuple[str, int]:
    """host:port this phone can call from a socket bound to `bind`; ValueError says why."""
    from pysnac.phonebook import parse_address

    host, port = parse_address(text)
    try:
        family = ipaddress.ip_address(host).version
    except ValueError:
        if not HOST_NAME.match(host):
            raise ValueError(f"{host!r} is neither an IP address nor a host name") from None
        return host, port
    bind_family = ipaddress.ip_address(bind).version if bind else 4
    if family != bind_family:
        raise ValueError(
            f"{text} is IPv{family} but this phone's socket is IPv{bind_family} "
            f"(network.bind = {bind!r}); give an IPv{bind_family} address"
        )
    return host, port


def main(args: argparse.Namespace) -> int:
    from pysnac.channel.identity import fingerprint
    from pysnac.contacts import BadPublicKey, Contact, decode_public_key, encode_public_key
    from pysnac.errors import UsageError
    from pysnac.phonebook import PhonebookError, check_name, format_address

    action = args.contacts_command
    book, book_bind = _phonebook(args, create=action == "add")
    if action == "list":
        contacts = book.contacts() if book is not None else []
        if not contacts:
            print("no contacts pinned; add one with: main.py contacts add NAME PUBLIC_KEY")
            return 0
        width = max(len("name"), *(len(c.name) for c in contacts))
        print(f"{'name':<{width}}  {'fingerprint':<14}  {'public key':<44}  address")
        for c in contacts:
            address = format_address(c.address) if c.address else "-"
            key = encode_public_key(c.public_key)
            print(f"{c.name:<{width}}  {fingerprint(c.public_key)}  {key}  {address}")
        return 0
    if book is None:
        raise UsageError(f"no contact named {args.name!r} (no config yet)")
    if action == "add":
        try:
            check_name(args.name)
        except PhonebookError as exc:
            raise UsageError(f"NAME: {exc}") from exc
        taken = next(
            (c for c in book.contacts() if c.name.casefold() == args.name.casefold()), None
        )
        if taken is not None:
            raise UsageError(f"NAME: {taken.name!r} is already a contact (names ignore case)")
        try:
            key = decode_public_key(args.public_key)
            check_key(key)
        except (BadPublicKey, ValueError) as exc:
            raise UsageError(f"PUBLIC_KEY: {exc}") from exc
        try:
            address = check_address(args.address, book_bind) if args.address else None
        except ValueError as exc:
            raise UsageError(f"--address: {exc}") from exc
        try:
            book.add(Contact(args.name, key, address))
        except PhonebookError as exc:
            raise UsageError(f"PUBLIC_KEY: {exc}") from exc
        print(f"pinned {args.name}: fingerprint {fingerprint(key)}")
        return 0
    book.remove(args.name)
    print(f"removed {args.name}")
    return 0
