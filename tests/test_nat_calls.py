"""Calls between two homes, in namespaces the tests build (demo/netns.py; root only).

Each cell is a real call made by `demo/run.py` between two phone processes, each in its
home namespace behind a router of the cell's kinds, with coturn and the Firebase protocol
test server on the "internet": alice finds bob by key, the call offer goes through the
directory, ICE punches or relays, the SAS match and speech arrives both ways; and the
path each phone reports is the one the kinds allow (direct when a pair of candidates can
meet, the relay otherwise).

By default a representative set runs (EIM NAT on both sides: punched; symmetric NAT
against UDP blocked: relayed); the whole matrix of kinds is `make test-nat`
(`-m nat_matrix`).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from demo.netns import HOME_KINDS, missing_requirements
from demo.run import run_demo

REASON = missing_requirements()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
    pytest.mark.timeout(180),
]
TALK_S = 1.0
DEFAULT_CELLS = [("nat", "nat"), ("symmetric-nat", "udp-blocked")]
ALL_CELLS = [c for c in itertools.product(HOME_KINDS, HOME_KINDS) if c not in DEFAULT_CELLS]


def expected_path(alice: str, bob: str) -> str:
    """What the router kinds allow: UDP blocked on either side needs the relay; a
    symmetric NAT can only meet a side with no NAT at all (its packets arrive from a port
    the other router never saw, which a home router drops)."""
    kinds = {alice, bob}
    if "udp-blocked" in kinds:
        return "relay"
    if "symmetric-nat" in kinds and kinds - {"symmetric-nat"} != {"open"}:
        return "relay"
    return "direct"


def call_between(alice: str, bob: str, out: Path) -> None:
    result = run_demo(
        out=out, talk_s=TALK_S, echo=lambda _line: None, network=alice, bob_network=bob
    )
    assert result.sas_match, result.sas
    for direction in result.directions:  # speech arrived both ways
        assert direction.frames_received > 0.5 * TALK_S * 50, direction
    path = expected_path(alice, bob)
    assert result.path == {"alice": path, "bob": path}


@pytest.mark.parametrize(("alice", "bob"), DEFAULT_CELLS)
def test_call_between_homes(alice: str, bob: str, tmp_path: Path) -> None:
    call_between(alice, bob, tmp_path)


@pytest.mark.nat_matrix
@pytest.mark.parametrize(("alice", "bob"), ALL_CELLS)
def test_call_between_homes_full_matrix(alice: str, bob: str, tmp_path: Path) -> None:
    call_between(alice, bob, tmp_path)
