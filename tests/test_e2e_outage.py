"""Real phone processes over the impairment relay (demo/impair.py): outages and hang-up.

Each test is one `main.py demo` call (two `main.py run` processes, WAV clips as
microphones) whose path the relay impairs from the first packet. What the relay did
(its log of each outage and of the first datagram through after it) is compared with what
the phones did (their LCDs, their call logs: the first frame played after a silence).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.impair import Impairment, Outage
from demo.run import DemoResult, run_demo
from pysnac.call.limits import PEER_LOST_MIN_S

AUDIO_BACK_MS = 200.0  # after an outage, audio plays this soon after the link is back


def screens_of(result: DemoResult, name: str) -> list[str]:
    return [" | ".join(lines) for lines in result.screens[name]]


@pytest.mark.slow
def test_five_second_outage_is_survived_and_audio_returns_at_once(tmp_path: Path) -> None:
    path = Impairment(outages=(Outage(4.0, 5.0),))
    result = run_demo(out=tmp_path, talk_s=11.0, echo=lambda _l: None, impairment=path)
    assert result.survived and result.sas_match
    assert [d.end_reason for d in result.directions] == ["Call ended", "Hung up"]
    for direction in result.directions:
        assert direction.relay["outage_dropped"] > 100  # the outage hit a flowing call
        (back_ms,) = direction.audio_back_ms
        assert back_ms is not None and 0.0 <= back_ms <= AUDIO_BACK_MS, direction
    for name in ("alice", "bob"):  # the LCD said so, with the seconds counting up
        shown = [s for s in screens_of(result, name) if "Reconnecting" in s]
        seconds = [int(s.rsplit("Reconnecting", 1)[1].strip().rstrip("s")) for s in shown]
        assert seconds == sorted(seconds) and seconds[-1] >= 3, shown
        assert not any("Call lost" in s for s in screens_of(result, name))


@pytest.mark.slow
def test_long_outage_ends_with_call_lost_on_both_sides(tmp_path: Path) -> None:
    """A config with the shortest peer-lost time stands in for the default's 30 s (the
    stepped-clock test in test_call_outage.py covers 40 s against the default)."""
    path = Impairment(outages=(Outage(3.0, 2 * PEER_LOST_MIN_S + 3.0),))
    result = run_demo(
        out=tmp_path,
        talk_s=PEER_LOST_MIN_S + 6.0,
        echo=lambda _l: None,
        impairment=path,
        peer_lost_s=PEER_LOST_MIN_S,
    )
    assert not result.survived
    assert [d.end_reason for d in result.directions] == ["Call lost", "Call lost"]
    for name in ("alice", "bob"):
        assert any("Reconnecting" in s for s in screens_of(result, name))


@pytest.mark.slow
def test_hang_up_under_thirty_percent_loss_shows_call_ended(tmp_path: Path) -> None:
    """One seed here (a call costs seconds); twenty on the pure endpoints."""
    path = Impairment(loss=0.3, seed=2)
    result = run_demo(out=tmp_path, talk_s=2.0, echo=lambda _l: None, impairment=path)
    to_bob, to_alice = result.directions
    assert (to_bob.end_reason, to_alice.end_reason) == ("Call ended", "Hung up")
    assert to_bob.relay["lost"] > 0 and to_alice.relay["lost"] > 0
    assert result.survived
