"""The command line: help for every command, and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

import main as cli
from tests.conftest import REPO


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_top_level_help_lists_commands() -> None:
    result = run_main("--help")
    assert result.returncode == 0
    for name in cli.build_parser()._subparsers._group_actions[0].choices:
        assert name in result.stdout


@pytest.mark.parametrize("name", sorted(cli.build_parser()._subparsers._group_actions[0].choices))
def test_every_command_has_help(name: str) -> None:
    result = run_main(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
    assert "Traceback" not in result.stderr


def test_devices_without_a_sound_card_says_how_to_start_a_sound_server(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "devices"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path)},
    )
    if result.returncode == 0:
        pytest.skip("this machine has sound devices")
    assert result.returncode == 1
    assert "pulseaudio --start" in result.stderr and "pactl load-module" in result.stderr
    assert "aplay" not in result.stderr and "Traceback" not in result.stderr
