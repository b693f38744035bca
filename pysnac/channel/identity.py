"""The device's long-term identity: one Ed25519 key pair in a 0600 key file.

The Ed25519 public key is the identity users see, pin and exchange (base64, or as a
short fingerprint); the rendezvous signs its records with it. Its X25519 form
(libsodium's birational map, `crypto_sign_ed25519_pk_to_curve25519`) is the Noise
static key, so one secret serves both and a pinned signing key fixes the Noise key.

Key file (text, UTF-8, mode 0600, at most MAX_KEY_FILE_BYTES):

    # PySNAC device identity. Secret: anyone with this file can impersonate the device.
    pysnac-identity-v1
    seed <base64 of the 32-byte Ed25519 seed>
    public <base64 of the 32-byte Ed25519 public key, a check on the seed>

`load` refuses a file whose mode gives group/others any access, a non-regular file,
and any file that does not parse or whose public line does not match its seed. `save`
creates the file 0600 from the first byte (a temporary file linked into place, so a
crash never leaves half a key and an existing file is never overwritten).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import stat
from pathlib import Path

import nacl.bindings as sodium
import nacl.exceptions
import nacl.signing

from pysnac.channel.errors import (
    BadSignature,
    IdentityCorrupt,
    IdentityExists,
    IdentityFileMode,
    IdentityMissing,
    InvalidPublicKey,
)
from pysnac.channel.limits import (
    FINGERPRINT_CHARS,
    FINGERPRINT_GROUP_CHARS,
    KEY_DIR_MODE,
    KEY_FILE_MODE,
    MAX_KEY_FILE_BYTES,
)
from pysnac.channel.sas import encode_digest, keyed_digest
from pysnac.limits import PUBLIC_KEY_BYTES
from pysnac.noise.crypto import KeyPair

DEFAULT_KEY_PATH = Path.home() / ".config" / "pysnac" / "identity.key"
KEY_FILE_MAGIC = "pysnac-identity-v1"
KEY_FILE_COMMENT = (
    "# PySNAC device identity. Secret: anyone with this file can impersonate the device."
)
SEED_BYTES = 32
SIGNATURE_BYTES = 64
FINGERPRINT_PERSONAL = b"PySNAC-FPR-v1".ljust(16, b"\x00")


class Identity:
    """An Ed25519 signing key and its X25519 (Noise static) form. Private halves stay out
    of repr, str and logs."""

    __slots__ = ("signing_private", "signing_public", "static_private", "static_public")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_BYTES:
            raise ValueError(f"an Ed25519 seed is {SEED_BYTES} bytes")
        self.signing_public, self.signing_private = sodium.crypto_sign_seed_keypair(seed)
        self.static_private = sodium.crypto_sign_ed25519_sk_to_curve25519(self.signing_private)
        self.static_public = sodium.crypto_scalarmult_base(self.static_private)

    def __repr__(self) -> str:
        return f"Identity(fingerprint={fingerprint(self.signing_public)!r})"

    __str__ = __repr__

    @property
    def seed(self) -> bytes:
        return sodium.crypto_sign_ed25519_sk_to_seed(self.signing_private)

    @property
    def static_keypair(self) -> KeyPair:
        """The Noise static key pair (X25519)."""
        return KeyPair(public=self.static_public, private=self.static_private)

    @classmethod
    def generate(cls) -> Identity:
        return cls(os.urandom(SEED_BYTES))

    def sign(self, message: bytes) -> bytes:
        """A 64-byte Ed25519 signature (for rendezvous records)."""
        return sodium.crypto_sign(message, self.signing_private)[:SIGNATURE_BYTES]

    # --- the key file -------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write a new key file, mode 0600 from creation; refuses to overwrite anything."""
        path = Path(path)
        path.parent.mkdir(mode=KEY_DIR_MODE, parents=True, exist_ok=True)
        text = "\n".join(
            [
                KEY_FILE_COMMENT,
                KEY_FILE_MAGIC,
                f"seed {base64.b64encode(self.seed).decode()}",
                f"public {base64.b64encode(self.signing_public).decode()}",
                "",
            ]
        ).encode("utf-8")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(temporary, flags, KEY_FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), KEY_FILE_MODE)  # exact, whatever the umask
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)  # atomic, and fails if path exists
            except FileExistsError as exc:
                raise IdentityExists(
                    f"{path}: a key file already exists; not overwriting it"
                ) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)

    @classmethod
    def load(cls, path: Path) -> Identity:
        """Read a key file; IdentityMissing / IdentityFileMode / IdentityCorrupt otherwise."""
        path = Path(path)
        _check_key_folder(path)
        try:  # O_NONBLOCK: a FIFO at the path must not hang us (refused just below)
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError as exc:
            raise IdentityMissing(f"{path}: no identity key file") from exc
        except OSError as exc:
            raise IdentityCorrupt(f"{path}: cannot read ({exc.strerror})") from exc
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise IdentityCorrupt(f"{path}: not a regular file")
        with os.fdopen(fd, "rb") as handle:
            if info.st_mode & 0o077:
                raise IdentityFileMode(
                    f"{path}: mode {stat.S_IMODE(info.st_mode):04o} lets others read the key; "
                    f"run: chmod 600 {path}"
                )
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
        return cls(_parse_key_file(path, data))

    @classmethod
    def load_or_create(cls, path: Path) -> tuple[Identity, bool]:
        """(identity, created_now). Only a missing file is created; a bad one is refused."""
        try:
            return cls.load(path), False
        except IdentityMissing:
            pass
        identity = cls.generate()
        try:
            identity.save(path)
        except IdentityExists:  # another process created it meanwhile: use theirs
            return cls.load(path), False
        return identity, True


def _check_key_folder(path: Path) -> None:
    """Refuse a key whose folder others may write to: they could swap the key file."""
    try:
        info = os.stat(path.parent)
    except OSError:
        return  # no folder: the open below says "missing"
    if info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        raise IdentityFileMode(
            f"{path.parent}: mode {stat.S_IMODE(info.st_mode):04o} lets others replace the "
            f"key file; run: chmod 700 {path.parent}"
        )


def _parse_key_file(path: Path, data: bytes) -> bytes:
    """The seed from a key file's bytes, after every check."""
    if len(data) > MAX_KEY_FILE_BYTES:
        raise IdentityCorrupt(f"{path}: too large to be a key file")
    try:
        lines = [
            line.strip()
            for line in data.decode("utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        ]
    except UnicodeDecodeError as exc:
        raise IdentityCorrupt(f"{path}: not a PySNAC key file (not text)") from exc
    if len(lines) != 3 or lines[0] != KEY_FILE_MAGIC:
        raise IdentityCorrupt(f"{path}: not a PySNAC key file ({KEY_FILE_MAGIC} expected)")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(" ")
        try:
            fields[name] = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise IdentityCorrupt(f"{path}: the {name!r} line is not base64") from exc
    seed, public = fields.get("seed"), fields.get("public")
    if seed is None or public is None or len(seed) != SEED_BYTES:
        raise IdentityCorrupt(f"{path}: seed or public line missing or the wrong length")
    if sodium.crypto_sign_seed_keypair(seed)[0] != public:
        raise IdentityCorrupt(f"{path}: the public key does not match the seed (file damaged)")
    return seed


def _check_public(signing_public: bytes) -> None:
    if len(signing_public) != PUBLIC_KEY_BYTES:
        raise InvalidPublicKey(
            f"a public key is {PUBLIC_KEY_BYTES} bytes, not {len(signing_public)}"
        )


def verify_signature(signing_public: bytes, message: bytes, signature: bytes) -> None:
    """Raises BadSignature unless `signature` is signing_public's Ed25519 signature."""
    _check_public(signing_public)
    if len(signature) != SIGNATURE_BYTES:
        raise BadSignature(f"a signature is {SIGNATURE_BYTES} bytes, not {len(signature)}")
    try:
        nacl.signing.VerifyKey(signing_public).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError) as exc:
        raise BadSignature("signature does not verify") from exc


def static_public_from_signing(signing_public: bytes) -> bytes:
    """The X25519 (Noise static) form of an Ed25519 public key; InvalidPublicKey if none."""
    _check_public(signing_public)
    try:
        return sodium.crypto_sign_ed25519_pk_to_curve25519(signing_public)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError) as exc:
        raise InvalidPublicKey("not a valid Ed25519 public key") from exc


def fingerprint(signing_public: bytes) -> str:
    """A short human fingerprint: 12 base-31 characters in groups of 4, "F3KQ-9XMA-7TRE"
    (about 59 bits: enough to compare by eye, not a replacement for the full key)."""
    _check_public(signing_public)
    text = encode_digest(keyed_digest(signing_public, FINGERPRINT_PERSONAL), FINGERPRINT_CHARS)
    groups = range(0, FINGERPRINT_CHARS, FINGERPRINT_GROUP_CHARS)
    return "-".join(text[i : i + FINGERPRINT_GROUP_CHARS] for i in groups)
