"""MediaSession end to end (pure): payloads, loss measurement and report, the redundancy
policy reacting to it, DTX, malformed input, stats."""

from __future__ import annotations

import dataclasses

import pytest

from pysnac.errors import PysnacError
from pysnac.media import frames, limits
from pysnac.media.codec import CodecParams
from pysnac.media.redundancy import Protection, RedundancyPolicy
from pysnac.media.session import MalformedFrame, MediaSession
from tests.media_helpers import F, clip

N = 960


def pcm(k: int) -> bytes:
    samples = clip()
    k %= len(samples) // N
    return samples[k * N : (k + 1) * N].tobytes()


def test_payload_carries_seq_timestamp_and_opus():
    alice = MediaSession()
    first = frames.parse(alice.outgoing(pcm(0), 1.0))
    second = frames.parse(alice.outgoing(pcm(1), 1.02))
    assert (second.seq - first.seq, second.timestamp - first.timestamp) == (1, N)
    assert first.redundant == () and first.loss_report == 0
    assert alice.stats().frames_sent == 2


def test_malformed_raises_typed_error_and_changes_nothing():
    bob = MediaSession()
    alice = MediaSession()
    bob.incoming(alice.outgoing(pcm(0), 0.0), 0.01)
    before = dataclasses.replace(bob.stats(), malformed=0)
    for bad in (b"", b"\x40\x00", b"\xc0" + bytes(10)):
        with pytest.raises(MalformedFrame) as caught:
            bob.incoming(bad, 0.02)
        assert isinstance(caught.value, PysnacError)
    misaligned = frames.MediaFrame(1, 961, 0, b"\x08\x00").encode()
    with pytest.raises(MalformedFrame):
        bob.incoming(misaligned, 0.03)
    assert dataclasses.replace(bob.stats(), malformed=0) == before
    assert bob.stats().malformed == 4


def run_call(loss_every: int | None, frames_total: int = 400):
    """Alice talks to Bob over a link that drops every `loss_every`-th packet each way;
    the clock is stepped by hand; Bob's reports flow back on his own packets."""
    alice, bob = MediaSession(), MediaSession()
    silence = bytes(2 * N)
    for k in range(frames_total):
        now = k * F
        payload = alice.outgoing(pcm(k), now)
        if loss_every is None or k % loss_every:
            bob.incoming(payload, now + 0.010)
        reply = bob.outgoing(silence, now + 0.011)
        if loss_every is None or k % loss_every:
            alice.incoming(reply, now + 0.021)
        bob.playout(now + 0.015)
    return alice, bob


def test_clean_call_sends_no_redundancy_and_plays_everything():
    alice, bob = run_call(None)
    stats = bob.stats()
    assert stats.lost == 0 and stats.concealed == 0
    assert stats.received == 400
    assert alice.stats().redundant_frames_sending == 0
    per_packet = alice.stats().bytes_sent / alice.stats().frames_sent
    assert per_packet < 32000 / 8 * F + frames.overhead_bytes(0) + 30  # plain codec rate


def test_loss_is_measured_reported_and_answered_with_redundancy():
    alice, bob = run_call(10)  # 10 % loss both ways
    assert bob.stats().loss_percent_local == pytest.approx(10, abs=3)
    assert alice.stats().loss_percent_remote == pytest.approx(10, abs=3)
    assert alice.stats().redundant_frames_sending == 2
    stats = bob.stats()
    assert stats.lost == 39  # 40 dropped; packet 0 came before any sequence number was known
    assert stats.redundancy_recovered >= 35  # all but the first few, before it switched on
    assert stats.concealed <= 5


def test_duplicates_and_late_packets_are_counted():
    alice, bob = MediaSession(), MediaSession()
    payloads = [alice.outgoing(pcm(k), k * F) for k in range(60)]
    for k, p in enumerate(payloads[:50]):
        bob.incoming(p, k * F + 0.005)
        bob.incoming(p, k * F + 0.006)  # duplicated by the network
        bob.playout(k * F + 0.010)
    bob.incoming(payloads[5], 1.2)  # a straggler long after it was played
    stats = bob.stats()
    assert stats.duplicates == 51
    assert stats.received == 50


def test_dtx_sends_nothing_in_silence():
    alice = MediaSession(CodecParams(dtx=True))
    sent = [alice.outgoing(bytes(2 * N), k * F) for k in range(60)]
    assert sum(p is None for p in sent) > 40
    assert alice.stats().frames_sent == sum(p is not None for p in sent)


def test_policy_ladder_and_hold_down():
    policy = RedundancyPolicy()
    policy.update(0.0, 0.0)
    t = limits.START_PROTECT_S  # after the protected start
    assert policy.update(0.0, t) == Protection((), 0)
    assert policy.update(0.003, t + 1.0) == Protection((), 1)  # light loss: FEC only
    assert policy.update(0.02, t + 2.0) == Protection((1,), 0)
    assert policy.update(0.10, t + 3.0, mean_burst=1.1) == Protection((1, 3), 0)
    assert policy.update(0.10, t + 4.0, mean_burst=3.0) == Protection((1, 3, 6), 0)  # bursty
    assert policy.update(0.0, t + 4.0 + limits.REDUNDANCY_HOLD_S / 2).redundant_frames == 3
    assert policy.update(0.0, t + 4.0 + limits.REDUNDANCY_HOLD_S).redundant_frames == 0
    fec_only = RedundancyPolicy(redundancy=False)
    assert fec_only.update(0.10, 0.0) == Protection((), 10)


def test_call_starts_protected_until_the_far_end_reports_a_clean_path():
    policy = RedundancyPolicy()
    start = 500.0  # any clock
    frames = [policy.update(0.0, start + k * F) for k in range(200)]  # 4 s, reports of 0
    protected = [p.redundant_frames for p in frames]
    first_clean = protected.index(0)
    assert protected[:first_clean] == [limits.START_REDUNDANT_FRAMES] * first_clean
    assert first_clean * F == pytest.approx(limits.START_PROTECT_S, abs=F)
    assert all(p == Protection((), 0) for p in frames[first_clean:])  # no hold-down
    lossy = RedundancyPolicy()
    lossy.update(0.0, start)
    assert lossy.update(0.10, start + 1.0).redundant_frames == 2  # loss within the start
    assert lossy.update(0.10, start + 3.0).redundant_frames == 2  # ... keeps it after


def test_protected_start_recovers_the_first_lost_packets_at_a_lower_rate():
    alice, bob = MediaSession(), MediaSession()
    payloads = [alice.outgoing(pcm(k), k * F) for k in range(40)]
    parsed = [frames.parse(p) for p in payloads]
    assert all(len(f.redundant) == limits.START_REDUNDANT_FRAMES for f in parsed[3:])
    copy, primary = parsed[10].redundant[0][1], parsed[9].opus
    assert len(copy) < len(primary)  # the copies come from the lower-rate encoder
    for k, p in enumerate(payloads):
        if k not in (5, 6):  # a burst of two in the first 150 ms
            bob.incoming(p, k * F + 0.005)
        bob.playout(k * F + 0.006)
    assert bob.stats().redundancy_recovered == 2
    assert bob.stats().concealed == 0


def test_jitter_buffer_is_seeded_from_the_handshake_round_trip():
    assert MediaSession().jitter_buffer.target_delay_s == limits.MIN_TARGET_S
    rtt = 0.090
    seeded = MediaSession(rtt_s=rtt).jitter_buffer
    expected = limits.SEED_JITTER_PER_RTT * rtt + limits.TARGET_MARGIN_S
    assert seeded.target_delay_s == pytest.approx(expected)
    huge = MediaSession(rtt_s=5.0).jitter_buffer  # a retransmitted handshake
    assert huge.target_delay_s <= limits.SEED_JITTER_MAX_S + limits.TARGET_MARGIN_S
    # The seed holds until the window has SEED_HOLD_PACKETS measurements, then the
    # measured (here: zero) jitter rules and the target falls to the floor.
    sender, session = MediaSession(), MediaSession(rtt_s=rtt)
    targets = []
    for k in range(limits.SEED_HOLD_PACKETS + 10):
        session.incoming(sender.outgoing(pcm(k), k * F), k * F + 0.003)
        session.playout(k * F + 0.004)
        targets.append(session.jitter_buffer.target_delay_s)
    held = limits.SEED_HOLD_PACKETS - 1
    assert targets[:held] == pytest.approx([expected] * held)
    assert targets[-1] == limits.MIN_TARGET_S


def test_mouth_to_ear_hint_includes_codec_lookahead():
    _, bob = run_call(None, 50)
    lookahead_ms = 1000 * limits.OPUS_LOOKAHEAD_SAMPLES / 48000
    assert bob.mouth_to_ear_hint_ms == pytest.approx(bob.stats().current_delay_ms + lookahead_ms)
