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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The full NAT matrix and the longer NAT scenarios (minutes of calls) run only when
    asked: `-m nat_matrix` (make test-nat)."""
    if "nat_matrix" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="a longer NAT run: make test-nat (-m nat_matrix)")
    for item in items:
        if "nat_matrix" in item.keywords:
            item.add_marker(skip)
