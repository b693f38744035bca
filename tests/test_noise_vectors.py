"""The Noise core against the public cacophony vectors, through the API and the CLI."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pysnac.noise import vectors
from tests.conftest import REPO, SHARED

VECTOR_FILE = REPO / "tests" / "data" / "noise" / "cacophony_25519_ChaChaPoly_BLAKE2b.json"
SHARED_VECTOR_FILES = sorted((SHARED / "testdata" / "noise").glob("*.json"))
VECTOR_COUNT = 59


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), "noise-vectors", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def load() -> list[dict]:
    return vectors.load_vectors(VECTOR_FILE)


@pytest.mark.parametrize("index", range(VECTOR_COUNT))
def test_every_vector_passes(index: int) -> None:
    vector = load()[index]
    result = vectors.run_vector(index, vector)
    assert result.status == vectors.PASSED, result.detail


def test_file_covers_every_pattern_family() -> None:
    names = {v["protocol_name"].split("_")[1] for v in load()}
    assert {"N", "K", "X", "NN", "IK", "XX", "I1K1", "XXpsk3", "NNpsk0", "IKpsk2"} <= names
    assert len(load()) == VECTOR_COUNT


@pytest.mark.parametrize("field", ["ciphertext", "payload"])
def test_a_changed_byte_in_a_vector_is_reported(field: str) -> None:
    vector = copy.deepcopy(load()[0])
    original = bytes.fromhex(vector["messages"][1][field])
    vector["messages"][1][field] = (bytes([original[0] ^ 1]) + original[1:]).hex()
    result = vectors.run_vector(0, vector)
    assert result.status == vectors.FAILED
    assert "message 1" in result.detail


def test_wrong_handshake_hash_and_transport_message_are_reported() -> None:
    vector = copy.deepcopy(load()[0])
    vector["handshake_hash"] = "00" * 64
    assert "handshake hash" in vectors.run_vector(0, vector).detail
    vector = copy.deepcopy(load()[0])
    last = vector["messages"][-1]
    last["ciphertext"] = last["ciphertext"][:-2] + "00"
    assert "transport" in vectors.run_vector(0, vector).detail


def test_other_suites_are_skipped_and_malformed_vectors_fail() -> None:
    other = dict(load()[0], protocol_name="Noise_NN_448_AESGCM_SHA512")
    assert vectors.run_vector(0, other).status == vectors.SKIPPED
    broken = dict(load()[0], init_ephemeral="zz")
    result = vectors.run_vector(1, broken)
    assert result.status == vectors.FAILED
    assert "malformed" in result.detail


def test_cli_passes_the_repository_copy() -> None:
    result = run_cli(str(VECTOR_FILE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"{VECTOR_COUNT} passed, 0 failed, 0 skipped"


@pytest.mark.skipif(not SHARED_VECTOR_FILES, reason="no ../shared/testdata/noise here")
@pytest.mark.parametrize("path", SHARED_VECTOR_FILES, ids=lambda p: p.name)
def test_cli_passes_the_shared_vectors(path: Path) -> None:
    result = run_cli(str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith(" 0 failed, 0 skipped") and not last.startswith("0 passed")


def test_cli_reports_failures_one_line_each(tmp_path: Path) -> None:
    document = {"vectors": copy.deepcopy(load()[:3])}
    for vector in document["vectors"][:2]:
        vector["handshake_hash"] = "11" * 64
    document["vectors"].append(dict(load()[3], protocol_name="Noise_XX_25519_AESGCM_SHA256"))
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    result = run_cli(str(path))
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 1
    assert lines[-1] == "1 passed, 2 failed, 1 skipped"
    assert len(lines) == 3 and all(line.startswith("FAILED") for line in lines[:2])


@pytest.mark.parametrize("content", [None, "not json", '{"vectors": 3}', "[1, 2]"])
def test_cli_bad_file_is_one_line_exit_2(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "vectors.json"
    if content is not None:
        path.write_text(content)
    result = run_cli(str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
