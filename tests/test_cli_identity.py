"""One identity everywhere: every subcommand finds the config the same way (`--config`
anywhere, `$PYSNAC_CONFIG`, the default path) and `whoami` prints the key the phone uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pysnac.channel.identity import fingerprint
from pysnac.config import load_config
from pysnac.runtime.app import load_fingerprint
from tests.conftest import REPO

CONFIG = """\
[device]
name = 'alice'
key_file = "keys/me.key"

[lcd]
driver = "headless"
"""


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def phone_config(tmp_path: Path) -> tuple[Path, str]:
    """A config whose key_file is not the default name, and the key the phone created."""
    path = tmp_path / "etc" / "phone.toml"
    path.parent.mkdir()
    path.write_text(CONFIG)
    created_fingerprint, created = load_fingerprint(load_config(path))  # what `run` does
    assert created
    return path, created_fingerprint


def _fingerprint_printed(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(":", 1) for line in result.stdout.splitlines())
    return fields["fingerprint"].strip()


@pytest.mark.parametrize("where", ["before", "after"])
def test_whoami_prints_the_key_the_phone_uses(phone_config, where: str, tmp_path: Path) -> None:
    path, phone_fingerprint = phone_config
    args = (
        ["--config", str(path), "whoami"]
        if where == "before"
        else ["whoami", "--config", str(path)]
    )
    env = {"HOME": str(tmp_path / "home"), "PYSNAC_CONFIG": ""}
    assert _fingerprint_printed(run_main(*args, env=env)) == phone_fingerprint


def test_whoami_follows_the_environment(phone_config, tmp_path: Path) -> None:
    path, phone_fingerprint = phone_config
    env = {"HOME": str(tmp_path / "home"), "PYSNAC_CONFIG": str(path)}
    result = run_main("whoami", env=env)
    assert _fingerprint_printed(result) == phone_fingerprint
    assert str(path.parent / "keys" / "me.key") in result.stdout


def test_contacts_take_config_after_the_action(phone_config, tmp_path: Path) -> None:
    path, _ = phone_config
    env = {"HOME": str(tmp_path / "home"), "PYSNAC_CONFIG": ""}
    result = run_main("contacts", "list", "--config", str(path), "--log-level", "info", env=env)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "home").exists()  # nothing written at the default path


def test_missing_named_config_is_one_line(tmp_path: Path) -> None:
    result = run_main("contacts", "list", "--config", str(tmp_path / "none.toml"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"pysnac: {tmp_path / 'none.toml'}: no such file"


def test_version_and_log_level_checked() -> None:
    result = run_main("--version")
    assert result.returncode == 0 and result.stdout.split()[-1][0].isdigit()
    result = run_main("--log-level", "verbose", "whoami")
    assert (
        result.returncode == 2 and "verbose" in result.stderr and "Traceback" not in result.stderr
    )


def test_fingerprint_matches_file(phone_config) -> None:
    from pysnac.channel.identity import Identity

    path, phone_fingerprint = phone_config
    identity = Identity.load(path.parent / "keys" / "me.key")
    assert fingerprint(identity.signing_public) == phone_fingerprint
