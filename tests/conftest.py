"""Shared test fixtures and paths."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures_audio"]

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture
def repo() -> Path:
    return REPO
