"""`main.py whoami`: prints the key and fingerprint, never creates a key, one-line errors."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from drivers.rendezvous.record import key_id
from pysnac.channel.identity import Identity, fingerprint
from pysnac.cli import resolve
from pysnac.contacts import decode_public_key
from tests.conftest import REPO


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_prints_public_key_and_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    me = Identity.generate()
    me.save(path)
    result = run_main("whoami", "--key-file", str(path))
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(":", 1) for line in result.stdout.splitlines())
    assert decode_public_key(fields["public key"].strip()) == me.signing_public
    assert fields["fingerprint"].strip() == fingerprint(me.signing_public)
    assert fields["key id"].split()[0] == key_id(me.signing_public)
    assert me.seed.hex() not in result.stdout


def test_missing_key_says_how_to_create_one_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none" / "identity.key"
    result = run_main("whoami", "--key-file", str(path))
    assert result.returncode == 1
    assert str(path) in result.stderr and "run" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not path.exists() and not path.parent.exists()


def test_loose_mode_and_corruption_are_one_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "identity.key"
    Identity.generate().save(path)
    path.chmod(0o644)
    result = run_main("whoami", "--key-file", str(path))
    assert result.returncode == 1
    assert "chmod 600" in result.stderr and "Traceback" not in result.stderr
    path.chmod(0o600)
    path.write_text("garbage\n")
    result = run_main("whoami", "--key-file", str(path))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_key_path_precedence(tmp_path: Path, monkeypatch) -> None:
    def args(**kw: str | None) -> argparse.Namespace:
        return argparse.Namespace(**{"key_file": None, "config": None, **kw})

    monkeypatch.delenv("PYSNAC_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = tmp_path / "etc" / "pysnac.toml"
    assert resolve.key_path(args()) == tmp_path / "home" / ".config" / "pysnac" / "identity.key"
    assert resolve.key_path(args(config=str(config))) == tmp_path / "etc" / "identity.key"
    explicit = tmp_path / "k"
    assert resolve.key_path(args(config=str(config), key_file=str(explicit))) == explicit
    config.parent.mkdir()
    config.write_text('[device]\nkey_file = "keys/me.key"\n')
    assert resolve.key_path(args(config=str(config))) == tmp_path / "etc" / "keys" / "me.key"
    monkeypatch.setenv("PYSNAC_CONFIG", str(config))
    assert resolve.key_path(args()) == tmp_path / "etc" / "keys" / "me.key"


def test_config_folder_key_is_used(tmp_path: Path) -> None:
    me = Identity.generate()
    me.save(tmp_path / "identity.key")
    result = run_main("--config", str(tmp_path / "pysnac.toml"), "whoami")
    assert result.returncode == 0, result.stderr
    assert fingerprint(me.signing_public) in result.stdout
