"""`main.py demo --rendezvous static|firebase|lan` completes a call.

Each run is the real command: two phone processes that find each other through the
chosen backend -- the config's addresses, the Firebase PROTOCOL TEST SERVER the demo
starts on loopback, or mDNS inside the private network namespace the demo creates
(root only; never on the host's network: the namespace it names must not be ours).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

DEMO_TIMEOUT_S = 120.0


def run_demo(*args: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "main.py"),
            "demo",
            "--talk-s",
            "0.5",
            "--out",
            str(out),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        cwd=REPO,
    )


def frames_received(stdout: str) -> list[int]:
    return [int(n) for n in re.findall(r"frames sent \d+, received (\d+)", stdout)]


def completed_a_call(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "(match)" in result.stdout  # both SAS equal
    received = frames_received(result.stdout)
    assert len(received) == 2 and min(received) > 0, result.stdout


@pytest.mark.parametrize("kind", ["static", "firebase"])
def test_demo_finds_the_other_phone(kind: str, tmp_path: Path) -> None:
    result = run_demo("--rendezvous", kind, out=tmp_path)
    completed_a_call(result)
    first = result.stdout.splitlines()[0]
    if kind == "firebase":  # said plainly: a test server, not Firebase
        assert "PROTOCOL TEST SERVER" in first and "NOT Firebase" in first
        assert "http://127.0.0.1:" in first
    else:
        assert first.startswith("rendezvous: static")


def test_demo_over_lan_runs_in_a_private_network_namespace(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the lan demo needs root to create its network namespace")
    result = run_demo("--rendezvous", "lan", out=tmp_path)
    completed_a_call(result)
    match = re.search(r"private network namespace (net:\[\d+\])", result.stdout)
    assert match is not None, result.stdout[:500]
    assert match.group(1) != os.readlink("/proc/self/ns/net")  # not the host's network


def test_demo_firebase_options_need_firebase(tmp_path: Path) -> None:
    result = run_demo("--rendezvous", "lan", "--firebase-url", "http://x", out=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pysnac: --firebase-url/--firebase-config need --rendezvous firebase"
    ]


@pytest.mark.parametrize(
    ("content", "mode", "expected"),
    [
        ('{"apiKey": "k", "databaseURL": "http://127.0.0.1:9"}', 0o600, "key 'auth'"),
        ('{"apiKey": "k"}', 0o644, "holds a password: run 'chmod 600"),
    ],
)
def test_demo_firebase_config_error_is_the_loaders_line(
    tmp_path: Path, content: str, mode: int, expected: str
) -> None:
    project = tmp_path / "project.json"
    project.write_text(content)
    project.chmod(mode)
    result = run_demo("--rendezvous", "firebase", "--firebase-config", str(project), out=tmp_path)
    assert result.returncode == 2, result.stdout[-1000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pysnac: {project}"), lines
    assert expected in lines[0]


def test_run_with_a_bad_firebase_file_stops_with_the_loaders_line(tmp_path: Path) -> None:
    project = tmp_path / "fb.json"
    project.write_text("{}")
    project.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(
        "[lcd]\ndriver = 'headless'\n[audio]\ndriver = 'silence'\n"
        "[rendezvous]\nbackends = ['firebase']\nfirebase_config = 'fb.json'\n"
    )
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"pysnac: {project}: key 'apiKey': missing (copy it from the Firebase console)"
    )
    assert not (tmp_path / "identity.key").exists()  # stopped before anything started
