"""The network model's statistics, one short simulated call with a MOS floor, and the
`simulate` command line (one-line errors, JSON keys)."""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys

import numpy as np
import pytest

from demo.netsim import Network, NetworkParams
from demo.simulate import SimConfig, align, run, run_seed
from demo.wavio import WavError, read_wav_48k
from pysnac.errors import UsageError
from pysnac.media import limits
from tests.media_helpers import SPEECH, clip

REPO_MAIN = SPEECH.parents[3] / "main.py"
PACKETS = 20000


def send_all(params: NetworkParams, seed: int = 1) -> list[float | None]:
    net = Network(params, seed)
    return [net.send(k * 0.02) for k in range(PACKETS)]


def test_random_loss_rate():
    arrivals = send_all(NetworkParams(loss=0.1))
    assert sum(a is None for a in arrivals) / PACKETS == pytest.approx(0.1, abs=0.01)


def test_gilbert_elliott_loss_rate_and_mean_burst():
    arrivals = send_all(NetworkParams(loss=0.1, burst_frames=3))
    lost = [a is None for a in arrivals]
    bursts, run_length = [], 0
    for is_lost in [*lost, False]:
        if is_lost:
            run_length += 1
        elif run_length:
            bursts.append(run_length)
            run_length = 0
    assert sum(lost) / PACKETS == pytest.approx(0.1, abs=0.015)
    assert statistics.mean(bursts) == pytest.approx(3, abs=0.3)


def test_delay_jitter_and_the_reordering_that_follows():
    arrivals = send_all(NetworkParams(delay_s=0.04, jitter_s=0.02))
    delays = [a - k * 0.02 for k, a in enumerate(arrivals)]
    assert statistics.mean(delays) == pytest.approx(0.04, abs=0.002)
    assert statistics.stdev(delays) == pytest.approx(0.02, abs=0.002)
    assert min(delays) > 0
    reordered = sum(b < a for a, b in itertools.pairwise(arrivals))
    assert reordered > 0.1 * PACKETS  # 20 ms spacing, 20 ms jitter: heavy reordering


def test_same_seed_same_network():
    assert send_all(NetworkParams(loss=0.2, jitter_s=0.01), 7) == send_all(
        NetworkParams(loss=0.2, jitter_s=0.01), 7
    )


def test_align_finds_a_known_delay():
    reference = clip()[:48000]
    delayed = np.concatenate([np.zeros(4321, np.int16), reference, np.zeros(48000, np.int16)])
    assert np.array_equal(align(reference, delayed), reference)


def test_short_lossy_call_keeps_a_mos_floor():
    config = SimConfig(network=NetworkParams(loss=0.1, delay_s=0.02, jitter_s=0.005))
    summary = run(clip(), config, seeds=3)
    assert summary.mos_mean >= 3.5  # whole calls from the first frame: 3.78; PLC alone ~2.2
    assert summary.redundancy_recovered > 0
    assert summary.delay_ms_p95 < 150


def test_clean_call_is_transparent_and_fast():
    result = run_seed(clip(), SimConfig(), seed=1)
    assert result.mos >= 4.3
    assert result.stats.concealed == 0
    assert result.mos_first >= 4.2  # scored from the first frame: the start sounds right
    # the stall margin, 20 ms of packetisation, 6.5 ms of codec lookahead, 1 ms of slack
    assert float(np.percentile(result.delays_ms, 50)) <= 1000 * limits.MIN_TARGET_S + 35


def test_wav_reader_resamples_and_rejects(tmp_path):
    assert len(read_wav_48k(SPEECH)) == 4 * 48000  # 16 kHz -> 48 kHz
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF1234WAVEnope")
    with pytest.raises(WavError) as caught:
        read_wav_48k(bad)
    assert isinstance(caught.value, UsageError)
    with pytest.raises(WavError):
        read_wav_48k(tmp_path / "missing.wav")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_MAIN), "simulate", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_json_has_the_promised_keys():
    result = cli("--clip", str(SPEECH), "--loss", "5", "--seeds", "1", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"mos_mean", "mos_std", "delay_ms_p50", "delay_ms_p95", "seeds"} <= data.keys()
    assert data["seeds"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--clip", "/no/such.wav"],
        ["--clip", __file__],
        ["--clip", str(SPEECH), "--loss", "ten"],
        ["--clip", str(SPEECH), "--burst", "0"],
        ["--clip", str(SPEECH), "--seeds", "2.5"],
        ["--loss", "5"],
    ],
)
def test_cli_bad_input_is_one_line(args):
    result = cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_both_ways_scores_each_direction_from_the_first_frame():
    config = SimConfig(network=NetworkParams(loss=0.1), both_ways=True, passes=2)
    result = run_seed(clip(), config, seed=2)
    assert result.reverse is not None
    for direction in (result, result.reverse):
        assert direction.mos >= 3.6  # measured ~4.0-4.2 each way
        assert direction.mos_first >= direction.mos - 0.5  # the start is protected
        assert direction.stats.redundancy_recovered > 0
        assert direction.wire_kbps <= 64.0  # lower-rate copies keep the wire honest
