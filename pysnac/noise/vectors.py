"""A runner for Noise test vectors in the common JSON format (cacophony, snow, noise-c).

A file is `{"vectors": [...]}`; each vector names its protocol, prologues, fixed
ephemeral and static keys, psks, and a list of messages (payload and expected
ciphertext, hex) that alternate initiator/responder through the handshake and continue
as transport messages (for one-way patterns only the initiator sends). Both parties are
run: the sender must produce the exact ciphertext and the receiver must recover the
payload; the handshake hash, when given, must match on both sides. A vector whose
protocol this implementation lacks (another suite, the fallback modifier) is skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pysnac.noise.cipherstate import CipherState
from pysnac.noise.crypto import KeyPair, NoiseError
from pysnac.noise.handshakestate import HandshakeState
from pysnac.noise.patterns import UnsupportedProtocol, parse_protocol_name

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"


class VectorFileError(ValueError):
    """The file is missing, not JSON, or not in the test-vector format."""


class VectorMismatch(Exception):
    """One check of one vector failed; the message says which."""


@dataclass(frozen=True)
class VectorResult:
    index: int
    protocol_name: str
    status: str
    detail: str = ""


def load_vectors(path: Path) -> list[dict[str, Any]]:
    """Read a vector file; raises VectorFileError with a one-line reason."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise VectorFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VectorFileError(f"{path}: not valid JSON ({exc})") from exc
    vectors = document.get("vectors") if isinstance(document, dict) else None
    if not isinstance(vectors, list) or not all(isinstance(v, dict) for v in vectors):
        raise VectorFileError(f'{path}: expected an object {{"vectors": [ ... ]}}')
    return vectors


def run_file(path: Path) -> list[VectorResult]:
    return [run_vector(index, vector) for index, vector in enumerate(load_vectors(path))]


def run_vector(index: int, vector: dict[str, Any]) -> VectorResult:
    """Run one vector; never raises for bad vector contents (they become FAILED)."""
    name = str(vector.get("protocol_name") or vector.get("name") or "?")
    if vector.get("fallback") or vector.get("fallback_pattern") or "hybrid" in vector:
        return VectorResult(index, name, SKIPPED, "fallback/hybrid not supported")
    try:
        parse_protocol_name(name)
    except UnsupportedProtocol as exc:
        return VectorResult(index, name, SKIPPED, str(exc))
    expect_failure = bool(vector.get("fail"))
    try:
        _run(name, vector)
    except (VectorMismatch, NoiseError) as exc:
        if expect_failure:
            return VectorResult(index, name, PASSED)
        return VectorResult(index, name, FAILED, str(exc))
    except (KeyError, TypeError, ValueError) as exc:
        return VectorResult(index, name, FAILED, f"malformed vector: {exc!r}")
    if expect_failure:
        return VectorResult(index, name, FAILED, "expected to fail but succeeded")
    return VectorResult(index, name, PASSED)


def _hex(vector: dict[str, Any], key: str) -> bytes | None:
    value = vector.get(key)
    return None if value is None else bytes.fromhex(value)


def _key_pair(vector: dict[str, Any], key: str) -> KeyPair | None:
    private = _hex(vector, key)
    return None if private is None else KeyPair.from_private(private)


def _psks(vector: dict[str, Any], side: str) -> list[bytes]:
    if f"{side}_psks" in vector:
        return [bytes.fromhex(p) for p in vector[f"{side}_psks"]]
    single = _hex(vector, f"{side}_psk")
    return [] if single is None else [single]


def _party(name: str, vector: dict[str, Any], side: str) -> HandshakeState:
    return HandshakeState(
        name,
        initiator=side == "init",
        prologue=_hex(vector, f"{side}_prologue") or b"",
        s=_key_pair(vector, f"{side}_static"),
        rs=_hex(vector, f"{side}_remote_static"),
        re=_hex(vector, f"{side}_remote_ephemeral"),
        psks=_psks(vector, side),
        ephemeral=_key_pair(vector, f"{side}_ephemeral"),
    )


def _run(name: str, vector: dict[str, Any]) -> None:
    init, resp = _party(name, vector, "init"), _party(name, vector, "resp")
    handshake_length = len(init.pattern.messages)
    transport: dict[str, CipherState] | None = None
    for number, message in enumerate(vector["messages"]):
        payload, expected = bytes.fromhex(message["payload"]), bytes.fromhex(message["ciphertext"])
        from_initiator = number % 2 == 0 or (init.pattern.one_way and number >= handshake_length)
        if number < handshake_length:
            sender, receiver = (init, resp) if from_initiator else (resp, init)
            ciphertext = sender.write_message(payload)
            _check(ciphertext == expected, f"message {number}: ciphertext differs")
            _check(receiver.read_message(ciphertext) == payload, f"message {number}: payload")
            continue
        if transport is None:
            transport = _after_handshake(vector, init, resp)
        send = transport["init_send" if from_initiator else "resp_send"]
        receive = transport["resp_receive" if from_initiator else "init_receive"]
        ciphertext = send.encrypt_with_ad(b"", payload)
        _check(ciphertext == expected, f"message {number} (transport): ciphertext differs")
        _check(receive.decrypt_with_ad(b"", ciphertext) == payload, f"message {number}: payload")
    if transport is None:
        _after_handshake(vector, init, resp)


def _after_handshake(
    vector: dict[str, Any], init: HandshakeState, resp: HandshakeState
) -> dict[str, CipherState]:
    """Check completion and the handshake hash; the four transport ciphers by role."""
    _check(init.complete and resp.complete, "handshake did not complete")
    expected_hash = _hex(vector, "handshake_hash")
    if expected_hash is not None:
        _check(init.handshake_hash == expected_hash, "initiator handshake hash differs")
        _check(resp.handshake_hash == expected_hash, "responder handshake hash differs")
    init_send, init_receive = init.split()
    resp_receive, resp_send = resp.split()
    return {
        "init_send": init_send,
        "init_receive": init_receive,
        "resp_send": resp_send,
        "resp_receive": resp_receive,
    }


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise VectorMismatch(problem)


def summary_line(results: list[VectorResult]) -> str:
    counts = {status: sum(r.status == status for r in results) for status in (PASSED, FAILED)}
    skipped = sum(r.status == SKIPPED for r in results)
    return f"{counts[PASSED]} passed, {counts[FAILED]} failed, {skipped} skipped"
