"""The link score: the E-model's monotonicity, its reading at 15 % loss that redundancy
recovers, bursts, delay, outages, the 4-bit report, and both directions through sessions."""

from __future__ import annotations

import itertools
import random

import pytest

from pysnac.media import limits, link_score
from pysnac.media.session import MediaSession
from tests.media_helpers import F, clip

N = 960
GOOD_BARS = link_score.BARS_MAX


def r(concealed=0.0, recovered=0.0, burst=1.0, loss=0.0, delay_ms=80.0) -> float:
    return link_score.r_factor(concealed, recovered, burst, loss, delay_ms)


def test_score_falls_with_every_impairment():
    steps = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4]
    for a, b in itertools.pairwise(steps):
        assert r(concealed=a) > r(concealed=b)  # more concealed frames
        assert r(recovered=a) > r(recovered=b)  # more frames rebuilt at a lower rate
        assert r(concealed=0.05, burst=1 + 10 * a, loss=0.05) >= r(
            concealed=0.05, burst=1 + 10 * b, loss=0.05
        )  # burstier loss (G.107: bursts hurt more than their share)
    for a, b in itertools.pairwise([0, 50, 100, 150, 200, 300, 400]):
        assert r(delay_ms=a) > r(delay_ms=b)
    for a, b in itertools.pairwise([0, 20, 40, 60, 70, 80, 90, 93.2]):
        assert link_score.mos_from_r(a) < link_score.mos_from_r(b)
        assert link_score.bars_from_r(a) <= link_score.bars_from_r(b)


def test_recovered_loss_reads_good_and_the_same_loss_concealed_reads_bad():
    recovered = link_score.score(r(recovered=0.15, loss=0.15, delay_ms=100))
    concealed = link_score.score(r(concealed=0.15, loss=0.15, delay_ms=100))
    assert recovered.bars == GOOD_BARS and recovered.mos >= 4.0
    assert concealed.bars <= 1 and concealed.mos < 3.0
    clean = link_score.score(r(delay_ms=100))
    assert clean.bars == GOOD_BARS and clean.mos > recovered.mos


def test_outage_is_zero():
    assert link_score.score(90.0, outage=True) == link_score.LinkScore(0.0, 1.0, 0, True)


def test_report_round_trips_within_one_step():
    assert link_score.encode_report(None) == 0 and link_score.decode_report(0) is None
    for value in range(0, 101):
        report = link_score.encode_report(value)
        assert 1 <= report <= 15
        decoded = link_score.decode_report(report)
        assert decoded is not None
        assert abs(decoded - value) <= 100 / 14 / 2 + 1e-9


def pcm(k: int) -> bytes:
    samples = clip()
    k %= len(samples) // N
    return samples[k * N : (k + 1) * N].tobytes()


def call(loss: float, frames: int, outage: range = range(0), seed: int = 4):
    """Both phones talk over a link losing `loss` of packets each way (and everything
    during `outage`); returns both sessions and each tick's (alice, bob) stats."""
    rng = random.Random(seed)
    alice, bob = MediaSession(rtt_s=0.04), MediaSession(rtt_s=0.04)
    history = []
    for k in range(frames):
        now = k * F
        for me, other in ((alice, bob), (bob, alice)):
            payload = me.outgoing(pcm(k), now)
            if k not in outage and rng.random() >= loss:
                other.incoming(payload, now + 0.020)
        alice.playout(now + 0.021)
        bob.playout(now + 0.022)
        history.append((alice.stats(), bob.stats()))
    return alice, bob, history


def test_fifteen_percent_loss_recovered_by_redundancy_shows_good_both_ways():
    _, _, history = call(0.15, 600)
    for stats in history[-1]:
        assert stats.loss_percent_local == pytest.approx(15, abs=8)
        assert stats.redundancy_recovered > 40
        assert stats.link_bars == GOOD_BARS
        assert stats.link_mos_rx >= 4.0 and stats.link_mos_tx >= 3.9  # tx: reported, 4 bits
        assert not stats.link_outage


def test_outage_shows_within_a_second_and_recovers():
    start, length = 300, 150  # 3 s without a packet either way
    *_, history = call(0.0, 600, outage=range(start, start + length))
    assert history[start - 1][1].link_bars == GOOD_BARS
    zero_at = next(k for k in range(start, 600) if history[k][1].link_bars == 0)
    outage_at = next(k for k in range(start, 600) if history[k][1].link_outage)
    assert (zero_at - start) * F <= 1.0 and (outage_at - start) * F <= 1.0
    assert all(h[1].link_bars == 0 for h in history[outage_at : start + length])
    assert history[outage_at][1].link_mos_tx == 1.0  # no reports either: both directions
    assert not history[start + length + 5][1].link_outage
    assert history[start + length + 50][1].link_bars == GOOD_BARS  # back within a second
    assert not history[-1][1].link_outage


def test_no_score_before_anything_played():
    stats = MediaSession().stats()
    assert (stats.link_r_rx, stats.link_r_tx, stats.link_bars) == (-1.0, -1.0, 0)
    assert limits.LINK_OUTAGE_S < 1.0
