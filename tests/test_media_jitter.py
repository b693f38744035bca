"""The jitter buffer on crafted arrival traces, with the real Opus decoder.

Each test builds (arrival time, frame index) events and ticks the buffer on a stepped clock;
nothing sleeps. The speech clip gives real packets with real pauses, so quiet-frame drift
handling is tested on speech, not on silence.
"""

from __future__ import annotations

import random

import pytest

from pysnac.media import limits
from pysnac.media.jitter import Put, Recovery
from tests.media_helpers import F, energy_dbfs, new_buffer, play, speech_packets

DELAY_S = 0.030


def in_order(frames: int, delay_s: float = DELAY_S, period_s: float = F) -> list:
    return [(i * period_s + delay_s, i) for i in range(frames)]


def played(out) -> list[int]:
    return [index for source, index, _ in out if index is not None]


def test_in_order_plays_every_frame_once_in_order():
    jb = new_buffer()
    out = play(jb, in_order(150), 160)
    assert played(out) == list(range(150))
    assert jb.stats.concealed == 0 and jb.stats.late == 0
    assert jb.stats.accepted == 150
    assert jb.target_delay_s == limits.MIN_TARGET_S  # no jitter: the stall margin alone
    assert jb.current_delay_s <= jb.target_delay_s + F


def test_reordered_pairs_play_in_order_once_the_target_covers_them():
    arrivals = in_order(150)
    for i in range(10, 140, 7):  # swap neighbours: i arrives 5 ms after i+1
        arrivals[i] = (arrivals[i + 1][0] + 0.005, i)
    jb = new_buffer()
    out = play(jb, arrivals, 170)
    # The first swaps come before the quantile has seen enough jitter (target ~0): the buffer
    # waits for the late frame (expand, nothing lost) and later drops a quiet frame to win
    # the time back; from then on the target covers the 25 ms and nothing waits.
    order = played(out)
    assert order == sorted(set(order))
    assert jb.stats.late == 0
    assert [s for s, _, _ in out[30:]].count("concealed") == 0
    assert len(order) + jb.stats.dropped_quiet == 150
    assert jb.target_delay_s >= 0.025


def test_duplicates_are_ignored_and_counted():
    jb = new_buffer()
    assert jb.put(0, speech_packets()[0], (), 0.0) is Put.ACCEPTED
    assert jb.put(0, speech_packets()[0], (), 0.001) is Put.DUPLICATE
    arrivals = in_order(100) + [(t + 0.002, i) for t, i in in_order(100)[20:30]]
    jb = new_buffer()
    out = play(jb, arrivals, 110)
    assert played(out) == list(range(100))
    assert jb.stats.duplicates == 10


def test_late_packet_is_dropped_counted_and_concealed():
    arrivals = in_order(100)
    arrivals[50] = (arrivals[50][0] + 0.200, 50)  # far past its playout
    jb = new_buffer(Recovery.PLC)
    jb.expect_loss = True  # as the session sets it on a lossy path
    out = play(jb, arrivals, 110)
    assert jb.stats.late == 1
    assert 50 not in played(out)
    assert played(out) == [i for i in range(100) if i != 50]
    assert jb.stats.concealed == 1


def test_burst_of_two_recovered_from_redundancy():
    arrivals = [a for a in in_order(120) if a[1] not in (60, 61)]
    jb = new_buffer(Recovery.OURS)
    jb.lookahead_frames = 2  # the session sets this from the redundancy it sees
    jb.expect_loss = True
    out = play(jb, arrivals, 130, offsets=(1, 2))
    assert jb.stats.redundancy_recovered == 2
    assert jb.stats.concealed == 0
    assert played(out) == list(range(120))
    assert [s for s, i, _ in out if i in (60, 61)] == ["redundant", "redundant"]


def test_burst_of_three_recovered_from_copies_of_n_minus_1_and_3():
    arrivals = [a for a in in_order(120) if a[1] not in (60, 61, 62)]
    jb = new_buffer(Recovery.OURS)
    jb.lookahead_frames = 3
    jb.expect_loss = True
    out = play(jb, arrivals, 130, offsets=(1, 3))
    assert jb.stats.redundancy_recovered == 3 and jb.stats.concealed == 0
    assert played(out) == list(range(120))


def test_lost_frame_rebuilt_from_next_packets_fec():
    packets = speech_packets(10)  # encoded with a 10 % loss hint: LBRR present
    arrivals = [a for a in in_order(120) if a[1] != 70]
    jb = new_buffer(Recovery.FEC)
    jb.lookahead_frames = 1
    jb.expect_loss = True
    out = play(jb, arrivals, 130, packets=packets)
    assert jb.stats.fec_recovered == 1
    assert [s for s, i, _ in out if i == 70] == ["fec"]
    assert jb.stats.concealed == 0


def test_without_lbrr_a_lost_frame_is_concealed_not_fec():
    arrivals = [a for a in in_order(120) if a[1] != 70]
    jb = new_buffer(Recovery.FEC)
    jb.lookahead_frames = 1
    jb.expect_loss = True
    play(jb, arrivals, 130, packets=speech_packets(0))
    assert jb.stats.fec_recovered == 0
    assert jb.stats.concealed == 1


def test_silence_mode_fills_zeros():
    arrivals = [a for a in in_order(120) if a[1] != 70]
    jb = new_buffer(Recovery.SILENCE)
    jb.expect_loss = True
    out = play(jb, arrivals, 130)
    zeros = [pcm for source, _, pcm in out if source == "concealed"]
    assert len(zeros) == 1 and not any(zeros[0])


@pytest.mark.parametrize("gap_frames", [30, 100])
def test_long_gap_resumes_at_once_with_the_delay_it_had(gap_frames):
    # The sender keeps sending but nothing arrives for 0.6 s or 2 s (a dead Wi-Fi link).
    # The buffer conceals while it waits, then skips the gap (or re-primes past
    # MAX_BUFFER_S) instead of playing out the whole gap late.
    end = 100 + gap_frames
    arrivals = [a for a in in_order(end + 100) if not 100 <= a[1] < end]
    jb = new_buffer()
    out = play(jb, arrivals, end + 120)
    resumed = next(k for k, (s, i, _) in enumerate(out) if i == end)
    assert resumed <= end + 4  # within a couple of frames of its arrival
    assert all(s == "primary" for s, _, _ in out[resumed:])
    waited = round(limits.MIN_TARGET_S / F)  # frames concealed before the gap was seen
    assert jb.stats.skipped_gap >= gap_frames - 1 - waited or jb.stats.resets == 1
    assert jb.current_delay_s < jb.target_delay_s + 2 * F
    assert played(out)[-1] == end + 99


@pytest.mark.parametrize("ppm", [+500, -500])
def test_clock_drift_stays_bounded_adjusting_only_in_pauses(ppm):
    # The sender's clock runs `ppm` fast (+) or slow (-) against the receiver's: 2 minutes.
    ticks = 6000
    period = F / (1 + ppm * 1e-6)
    jb = new_buffer()
    arrivals = in_order(ticks, period_s=period)
    adjust_ticks: list[int] = []
    delays = []
    counters = (0, 0)
    out = []
    events = iter(sorted(arrivals))
    pending = next(events)
    packets = speech_packets()
    for tick in range(ticks - 20):
        now = 0.007 + tick * F
        while pending is not None and pending[0] <= now:
            jb.put(pending[1], packets[pending[1] % len(packets)], (), pending[0])
            pending = next(events, None)
        pcm = jb.get(now)
        out.append(pcm)
        delays.append(jb.current_delay_s)
        now_counters = (jb.stats.dropped_quiet, jb.stats.stretched_quiet)
        if now_counters != counters:
            adjust_ticks.append(tick)
            counters = now_counters
    drift_frames = abs(ppm) * 1e-6 * ticks  # 3 frames over 2 minutes
    assert sum(counters) >= int(drift_frames)
    assert jb.stats.concealed == 0  # never a gap in speech
    assert max(delays[500:]) <= jb.target_delay_s + 1.5 * F  # 60 ms of drift absorbed
    assert min(delays[500:]) >= 0.0
    for tick in adjust_ticks:
        assert energy_dbfs(out[tick]) < limits.QUIET_DBFS + 6


def test_target_follows_jitter_and_keeps_late_rare():
    rng = random.Random(3)
    arrivals = [(i * F + max(0.0005, rng.gauss(0.040, 0.020)), i) for i in range(1000)]
    jb = new_buffer()
    out = play(jb, arrivals, 1010)
    assert 0.030 < jb.target_delay_s < 0.120
    assert jb.stats.late < 0.04 * 1000
    assert len(played(out)) >= 960


def test_far_future_packet_resets_the_buffer():
    jb = new_buffer()
    play(jb, in_order(20), 22)
    jb.put(5000, speech_packets()[0], (), 0.5)
    assert jb.stats.resets == 1
