"""The device identity and its key file: 0600 from creation, refusals, no overwrite."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from pysnac.channel import errors, identity
from pysnac.channel.identity import Identity, fingerprint, verify_signature
from pysnac.channel.sas import ALPHABET
from pysnac.noise import crypto

SEED = bytes(range(32))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_creates_0600_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "new" / "identity.key"
    old = os.umask(0)
    try:
        Identity.generate().save(path)
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["identity.key"]  # no temp left


def test_round_trip_keeps_every_key(tmp_path: Path) -> None:
    original = Identity(SEED)
    original.save(tmp_path / "k")
    loaded = Identity.load(tmp_path / "k")
    assert loaded.signing_public == original.signing_public
    assert loaded.static_public == original.static_public
    assert loaded.static_private == original.static_private
    assert loaded.seed == SEED


def test_static_key_is_the_x25519_form_and_does_dh() -> None:
    a, b = Identity.generate(), Identity.generate()
    assert identity.static_public_from_signing(a.signing_public) == a.static_public
    assert crypto.dh(a.static_keypair, b.static_public) == crypto.dh(
        b.static_keypair, a.static_public
    )


def test_private_keys_never_in_repr(tmp_path: Path) -> None:
    me = Identity(SEED)
    for text in (repr(me), str(me), repr(me.static_keypair), f"{me}"):
        for secret in (me.seed, me.signing_private, me.static_private):
            assert secret.hex() not in text
            assert base64.b64encode(secret).decode() not in text
    assert fingerprint(me.signing_public) in repr(me)


def test_save_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    first = Identity.generate()
    first.save(path)
    with pytest.raises(errors.IdentityExists):
        Identity.generate().save(path)
    assert Identity.load(path).signing_public == first.signing_public


def test_load_or_create_creates_once_then_loads(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "identity.key"
    created, was_created = Identity.load_or_create(path)
    again, created_again = Identity.load_or_create(path)
    assert was_created and not created_again
    assert again.signing_public == created.signing_public


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o660, 0o700 | 0o004, 0o666])
def test_loose_mode_is_refused_and_file_kept(tmp_path: Path, loose: int) -> None:
    path = tmp_path / "identity.key"
    Identity(SEED).save(path)
    before = path.read_bytes()
    path.chmod(loose)
    with pytest.raises(errors.IdentityFileMode, match="chmod 600"):
        Identity.load(path)
    with pytest.raises(errors.IdentityFileMode):
        Identity.load_or_create(path)  # never replaced by a new identity
    assert path.read_bytes() == before


def corrupt_variants(text: str) -> dict[str, bytes]:
    lines = text.splitlines()
    seed_line = lines[2]
    other_seed = base64.b64encode(bytes(32)).decode()
    return {
        "empty": b"",
        "binary": os.urandom(64) + b"\xff\xfe",
        "truncated": text[: len(text) // 2].encode(),
        "no magic": "\n".join(lines[2:]).encode(),
        "wrong magic": text.replace("pysnac-identity-v1", "pysnac-identity-v9").encode(),
        "bad base64": text.replace(seed_line, "seed !!!notbase64!!!").encode(),
        "short seed": text.replace(
            seed_line, "seed " + base64.b64encode(b"x" * 31).decode()
        ).encode(),
        "seed/public mismatch": text.replace(seed_line, "seed " + other_seed).encode(),
        "extra line": (text + "extra 1234\n").encode(),
        "huge": b"#" * 10_000,
    }


@pytest.mark.parametrize("variant", sorted(corrupt_variants("a\nb\nc\nd").keys()))
def test_corrupt_files_are_refused_with_a_clear_error(tmp_path: Path, variant: str) -> None:
    path = tmp_path / "identity.key"
    Identity(SEED).save(path)
    data = corrupt_variants(path.read_text())[variant]
    path.chmod(0o600)
    path.write_bytes(data)
    with pytest.raises(errors.IdentityCorrupt) as info:
        Identity.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(errors.IdentityCorrupt):
        Identity.load_or_create(path)
    assert path.read_bytes() == data


def test_missing_and_non_regular_files(tmp_path: Path) -> None:
    with pytest.raises(errors.IdentityMissing):
        Identity.load(tmp_path / "absent")
    folder = tmp_path / "folder"
    folder.mkdir(mode=0o700)
    with pytest.raises(errors.IdentityError):
        Identity.load(folder)


def test_errors_are_pysnac_errors_with_lcd_reasons() -> None:
    from pysnac.errors import PysnacError

    for cls in (
        errors.IdentityMissing,
        errors.IdentityFileMode,
        errors.IdentityCorrupt,
        errors.IdentityExists,
        errors.HandshakeFailed,
        errors.WrongPeerKey,
        errors.BadPacket,
        errors.ReplayedPacket,
        errors.KeyExhausted,
        errors.BadSignature,
    ):
        error = cls("detail")
        assert isinstance(error, PysnacError) and isinstance(error, errors.ChannelError)
        assert 0 < len(error.reason) <= 16
    assert issubclass(errors.WrongPeerKey, errors.HandshakeFailed)


def test_sign_and_verify() -> None:
    me = Identity.generate()
    signature = me.sign(b"record")
    assert len(signature) == 64
    verify_signature(me.signing_public, b"record", signature)
    bad = bytes([signature[0] ^ 1]) + signature[1:]
    for public, message, sig in (
        (me.signing_public, b"record", bad),
        (me.signing_public, b"recorD", signature),
        (Identity.generate().signing_public, b"record", signature),
        (me.signing_public, b"record", signature[:63]),
    ):
        with pytest.raises(errors.BadSignature):
            verify_signature(public, message, sig)
    with pytest.raises(errors.InvalidPublicKey):
        verify_signature(b"short", b"record", signature)


def test_fingerprint_is_short_stable_and_unambiguous() -> None:
    key = Identity(SEED).signing_public
    text = fingerprint(key)
    assert text == fingerprint(key)
    assert len(text) <= 16 and text.count("-") == 2
    assert set(text.replace("-", "")) <= set(ALPHABET)
    assert not set("01OIL") & set(text)
    others = {fingerprint(Identity.generate().signing_public) for _ in range(50)}
    assert text not in others and len(others) == 50


def test_invalid_public_keys_are_typed() -> None:
    for bad in (b"", bytes(31), b"\xff" * 32):
        with pytest.raises(errors.InvalidPublicKey):
            identity.static_public_from_signing(bad)


def test_a_fifo_at_the_key_path_is_refused_without_hanging(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    fifo = folder / "identity.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(errors.IdentityCorrupt, match="not a regular file"):
        Identity.load(fifo)  # returns at once: nobody will ever write to this FIFO
    with pytest.raises(errors.IdentityCorrupt):
        Identity.load_or_create(fifo)


def test_a_key_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    key = folder / "identity.key"
    Identity.generate().save(key)
    os.chmod(folder, 0o777)
    with pytest.raises(errors.IdentityFileMode, match="chmod 700"):
        Identity.load(key)
    os.chmod(folder, 0o755)  # readable folder: fine (the file itself is 0600)
    Identity.load(key)
