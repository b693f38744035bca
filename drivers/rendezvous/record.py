"""The signed rendezvous record: encoding, Ed25519 signature, timestamp and expiry.

Pure: no clock, no I/O; `now_ms` comes in. Every backend carries the same bytes (as
unpadded base64url text in an mDNS TXT record or a Firebase value), so a record is
verified the same way wherever it came from. Layout (big-endian):

    magic "PSR1" | public_key 32 | timestamp_ms u64 | expires_ms u64
    | name_len u8 | name utf-8 | n_addr u8 | n x (host_len u8 | host ascii | port u16)
    | signature 64

The signature is Ed25519 (RFC 8032) by `public_key` over SIGNING_CONTEXT + every byte
before it, so it cannot be confused with anything else the identity key signs. The
verifier authenticates before interpreting any field: it only walks the length bytes to
find where the signature starts, checks it, then decodes. A record that is not fresh
(expired, future-dated beyond MAX_CLOCK_SKEW_MS, or valid for longer than
MAX_LIFETIME_MS) is refused even when correctly signed.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import re
import struct

from drivers.rendezvous.base import (
    MAX_ADDRESSES,
    Address,
    BadRecordSignature,
    ExpiredRecord,
    FutureRecord,
    MalformedRecord,
    PeerRecord,
    SigningIdentity,
    UnsignedRecord,
)
from pysnac.channel.errors import BadSignature, InvalidPublicKey
from pysnac.channel.identity import verify_signature
from pysnac.limits import PUBLIC_KEY_BYTES

MAGIC = b"PSR1"
SIGNING_CONTEXT = b"PySNAC rendezvous record v1\x00"
SIGNATURE_BYTES = 64
MAX_NAME_BYTES = 64
MAX_HOST_BYTES = 253  # the longest DNS name (RFC 1035 section 2.3.4)
MAX_RECORD_BYTES = 1024  # the text form stays under mDNS's 1300-byte TXT advice (RFC 6763 6.2)
RECORD_LIFETIME_MS = 15 * 60 * 1000  # what we publish; refreshed at a third of it
MAX_LIFETIME_MS = 24 * 60 * 60 * 1000  # longer-lived records are refused
MAX_CLOCK_SKEW_MS = 2 * 60 * 1000  # a record dated this far ahead of our clock is refused

_FIXED = struct.Struct(">4s32sQQ")
_PORT = struct.Struct(">H")
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def key_id(public_key: bytes) -> str:
    """A name for a key usable as an mDNS label and a Firebase path segment: lower-case
    unpadded base32 (52 characters; DNS labels compare case-insensitively, RFC 4343)."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"a public key is {PUBLIC_KEY_BYTES} bytes, not {len(public_key)}")
    return base64.b32encode(public_key).decode("ascii").rstrip("=").lower()


def _check_host(host: str) -> None:
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise MalformedRecord(f"bad host {host!r}")


def _encode_body(
    public_key: bytes, name: str, addresses: list[Address], timestamp_ms: int, expires_ms: int
) -> bytes:
    name_bytes = name.encode("utf-8")
    if not 0 < len(name_bytes) <= MAX_NAME_BYTES:
        raise ValueError(f"a name is 1..{MAX_NAME_BYTES} bytes of UTF-8")
    if not 0 < len(addresses) <= MAX_ADDRESSES:
        raise ValueError(f"a record carries 1..{MAX_ADDRESSES} addresses")
    parts = [_FIXED.pack(MAGIC, public_key, timestamp_ms, expires_ms)]
    parts.append(bytes([len(name_bytes)]) + name_bytes + bytes([len(addresses)]))
    for host, port in addresses:
        _check_host(host)
        host_bytes = host.encode("ascii")
        if len(host_bytes) > MAX_HOST_BYTES or not 0 < port < 65536:
            raise ValueError(f"bad address {host}:{port}")
        parts.append(bytes([len(host_bytes)]) + host_bytes + _PORT.pack(port))
    return b"".join(parts)


def sign_record(
    identity: SigningIdentity,
    name: str,
    addresses: list[Address],
    now_ms: int,
    lifetime_ms: int = RECORD_LIFETIME_MS,
) -> bytes:
    """Our record, signed, valid from `now_ms` for `lifetime_ms`."""
    if not 0 < lifetime_ms <= MAX_LIFETIME_MS:
        raise ValueError(f"a lifetime is 1..{MAX_LIFETIME_MS} ms")
    body = _encode_body(identity.signing_public, name, addresses, now_ms, now_ms + lifetime_ms)
    signature = identity.sign(SIGNING_CONTEXT + body)
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("identity.sign must return a 64-byte Ed25519 signature")
    blob = body + signature
    if len(blob) > MAX_RECORD_BYTES:
        raise ValueError(f"record is {len(blob)} bytes, more than {MAX_RECORD_BYTES}")
    return blob


def _body_length(blob: bytes) -> int:
    """Walk only the length bytes to find where the body ends (MalformedRecord if short)."""
    offset = _FIXED.size
    try:
        offset += 1 + blob[offset]  # name
        count = blob[offset]
        offset += 1
        for _ in range(count):
            offset += 1 + blob[offset] + _PORT.size
    except IndexError:
        raise MalformedRecord("truncated record") from None
    if offset > len(blob):
        raise MalformedRecord("truncated record")
    return offset


def verify_record(blob: bytes, now_ms: int | None) -> PeerRecord:
    """Check signature, structure and freshness; raise a `RecordError` subclass if bad.
    `now_ms` None judges no timestamp by our clock (the LAN: a record announced now is
    live now, and the directory keeps it for its own lifetime from its arrival, so two
    phones whose clocks disagree by a day still find each other)."""
    if not _FIXED.size <= len(blob) <= MAX_RECORD_BYTES:
        raise MalformedRecord(f"record length {len(blob)}")
    magic, public_key, timestamp_ms, expires_ms = _FIXED.unpack_from(blob)
    if magic != MAGIC:
        raise MalformedRecord("bad magic")
    body_length = _body_length(blob)
    if len(blob) == body_length:
        raise UnsignedRecord("no signature")
    if len(blob) != body_length + SIGNATURE_BYTES:
        raise MalformedRecord(f"{len(blob) - body_length} bytes after the body, not 64")
    body, signature = blob[:body_length], blob[body_length:]
    try:
        verify_signature(public_key, SIGNING_CONTEXT + body, signature)
    except (BadSignature, InvalidPublicKey):
        raise BadRecordSignature("signature does not verify") from None
    # Authenticated: now interpret the fields.
    if expires_ms <= timestamp_ms or expires_ms - timestamp_ms > MAX_LIFETIME_MS:
        raise MalformedRecord("bad lifetime")
    if now_ms is not None and timestamp_ms > now_ms + MAX_CLOCK_SKEW_MS:
        raise FutureRecord(f"dated {timestamp_ms - now_ms} ms ahead")
    if now_ms is not None and expires_ms <= now_ms:
        raise ExpiredRecord(f"expired {now_ms - expires_ms} ms ago")
    offset = _FIXED.size
    name_length = body[offset]
    try:
        name = body[offset + 1 : offset + 1 + name_length].decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRecord("name is not UTF-8") from None
    if not name:
        raise MalformedRecord("empty name")
    offset += 1 + name_length
    addresses: list[Address] = []
    count = body[offset]
    offset += 1
    if not 0 < count <= MAX_ADDRESSES:
        raise MalformedRecord(f"{count} addresses")
    for _ in range(count):
        host_length = body[offset]
        try:
            host = body[offset + 1 : offset + 1 + host_length].decode("ascii")
        except UnicodeDecodeError:
            raise MalformedRecord("host is not ASCII") from None
        _check_host(host)
        (port,) = _PORT.unpack_from(body, offset + 1 + host_length)
        if port == 0:
            raise MalformedRecord("port 0")
        addresses.append((host, port))
        offset += 1 + host_length + _PORT.size
    return PeerRecord(name, public_key, addresses, timestamp_ms, expires_ms)


def fresh_by_server_time(
    record: PeerRecord, at_ms: object, server_now_ms: int | None
) -> PeerRecord:
    """A record kept in a database, judged by the database's own clock, never a phone's:
    fresh for its lifetime (expires - timestamp, a duration) from `at_ms`, the server's
    time of its write. Returns it with the life already spent taken off its expiry, so a
    holder that keeps it for `expires - timestamp` from now keeps it no longer than the
    lifetime from the write. `server_now_ms` None (we have not written yet, so do not know
    the server's time) takes it as written now, as a LAN announcement is."""
    if not isinstance(at_ms, int) or isinstance(at_ms, bool) or at_ms < 0:
        raise MalformedRecord("no server time of the write")
    lifetime_ms = record.expires_ms - record.timestamp_ms
    age_ms = 0 if server_now_ms is None else max(0, server_now_ms - at_ms)
    if age_ms >= lifetime_ms:
        raise ExpiredRecord(f"written {age_ms} ms ago by the server's clock")
    return dataclasses.replace(record, expires_ms=record.expires_ms - age_ms)


def to_text(blob: bytes) -> str:
    """The text form carried by TXT records and Firebase: unpadded base64url."""
    return base64.urlsafe_b64encode(blob).decode("ascii").rstrip("=")


def from_text(text: object) -> bytes:
    """Parse the text form; anything that is not one raises MalformedRecord."""
    if not isinstance(text, str) or len(text) > (MAX_RECORD_BYTES * 4) // 3 + 4:
        raise MalformedRecord("record text is not a string of the right size")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise MalformedRecord("record text is not base64url") from None


def verify_text(text: object, now_ms: int | None) -> PeerRecord:
    return verify_record(from_text(text), now_ms)
