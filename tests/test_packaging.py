"""`pip install .`: the wheel holds the phone's packages only, declares requirements.txt
(runtime only) as its dependencies, and its `pysnac` console command runs the same command
line as main.py from an installed copy. Offline: the wheel is built without build
isolation from a copy of the sources, and installed with `--no-deps --no-index` into a
fresh virtual environment that borrows this one's site-packages for the dependencies."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("pysnac", "pysnac_fsm", "states", "drivers")
BUILD_FILES = ("pyproject.toml", "requirements.txt")
NOT_AT_RUN_TIME = ("scipy", "pesq", "matplotlib", "pytest", "ruff", "graphviz", "hypothesis")
PIP_S = 120
PIP = (sys.executable, "-m", "pip", "-q", "--disable-pip-version-check")


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    source.mkdir()
    for name in BUILD_FILES:
        shutil.copy(REPO / name, source / name)
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    out = tmp_path / "dist"
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=PIP_S,
    )
    (wheel,) = out.glob("pysnac-*.whl")
    return wheel


def test_runtime_requirements_hold_no_dev_tools() -> None:
    runtime = {line.split("==")[0].lower() for line in requirement_lines(REPO / "requirements.txt")}
    assert runtime.isdisjoint(NOT_AT_RUN_TIME), runtime & set(NOT_AT_RUN_TIME)
    assert all("==" in line for line in requirement_lines(REPO / "requirements.txt"))
    assert {"smbus2", "numpy", "opuslib", "pynacl"} <= runtime


def test_the_wheel_and_its_pysnac_command(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
    assert {name.split("/")[0] for name in names} == {*PACKAGES, info}
    for module in ("pysnac/cli/main.py", "drivers/lcd/plate.py", "states/idle.py"):
        assert module in names
    assert "pysnac = pysnac.cli.main:main" in entry_points
    declared = [line[len("Requires-Dist: ") :] for line in metadata.splitlines()]
    declared = [line for line in declared if "==" in line]
    assert declared == requirement_lines(REPO / "requirements.txt")

    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=PIP_S
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=PIP_S,
    )
    # The dependencies come from this environment (offline); the code from the install.
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [str(python), "-c", "import pysnac, drivers; print(pysnac.__file__, drivers.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert str(REPO) not in where and str(venv) in where

    command = venv / "bin" / "pysnac"
    usage = subprocess.run(
        [str(command), "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=PIP_S
    )
    assert usage.returncode == 0, usage.stderr
    for name in ("run", "whoami", "contacts", "devices"):
        assert name in usage.stdout
    config = tmp_path / "config.toml"
    config.write_text('[device]\nname = "alice"\n')
    missing_key = subprocess.run(
        [str(command), "--config", str(config), "whoami"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=PIP_S,
    )
    assert missing_key.returncode != 0
    assert missing_key.stderr.startswith("pysnac: ") and "Traceback" not in missing_key.stderr
    demo = subprocess.run(
        [str(command), "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=PIP_S
    )
    assert demo.returncode == 2
    assert "needs the Python package 'demo'" in demo.stderr and "Traceback" not in demo.stderr
