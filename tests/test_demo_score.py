"""The demo's scoring of a whole call: the delay found in the right place, followed through
the call window by window, and the start-up scored on its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from demo.score import (
    FIRST_SCORED_S,
    PESQ_RATE_HZ,
    find_lag,
    heard_fraction,
    load_16k,
    score,
    window_lags,
)

SPEECH = Path(__file__).parent / "data" / "speech" / "arctic_a0007.wav"
MS = PESQ_RATE_HZ // 1000
BOUNDS = (0, 2000 * MS)  # the delay is somewhere in the first two seconds


def talk(seconds: float) -> np.ndarray:
    """The clip repeated for `seconds`, as a demo talker says it."""
    clip = load_16k(SPEECH)
    return np.tile(clip, int(np.ceil(seconds * PESQ_RATE_HZ / len(clip))))[
        : round(seconds * PESQ_RATE_HZ)
    ]


def delayed(reference: np.ndarray, delay_ms: int) -> np.ndarray:
    return np.concatenate([np.zeros(delay_ms * MS), reference])


def test_bounds_keep_the_lag_off_the_next_repetition_of_the_clip() -> None:
    reference = talk(16.0)
    period = len(load_16k(SPEECH))
    # The listener's device started late and missed the first repetition's start: without
    # bounds a whole repetition later fits almost as well.
    recording = reference[period - 120 * MS :]
    lag, _ = find_lag(reference[: len(recording)], recording, bounds=(-period, -period + 400 * MS))
    assert lag == -(period - 120 * MS)


def test_a_steady_delay_gives_the_same_median_and_a_first_six_seconds_score() -> None:
    reference = talk(10.0)
    result = score(reference, delayed(reference, 130), BOUNDS)
    assert round(result.lag_ms) == 130
    assert round(result.lag_p50_ms) == 130
    assert result.heard_s >= 9.0  # of 10 s
    assert score(reference, np.zeros(len(reference) + 130 * MS), BOUNDS).heard_s == 0
    assert result.mos > 4.0 and result.mos_first > 4.0


def test_the_median_follows_a_delay_that_grows_during_the_call() -> None:
    reference = talk(12.0)
    cut = 8 * PESQ_RATE_HZ  # 100 ms for 8 s, then 180 ms (the buffer grew by 80 ms)
    recording = np.concatenate(
        [np.zeros(100 * MS), reference[:cut], np.zeros(80 * MS), reference[cut:]]
    )
    lags = window_lags(reference, recording, lag=100 * MS)
    assert lags.count(100 * MS) >= 6 and lags.count(180 * MS) >= 2
    # Without bounds a repetition earlier fits this repeated clip best: the demo bounds it.
    assert round(score(reference, recording).lag_ms) != 100
    assert round(score(reference, recording, BOUNDS).lag_p50_ms) == 100  # most of the call


def test_a_bad_start_shows_in_the_first_six_seconds_not_hidden_by_the_rest() -> None:
    reference = talk(24.0)
    recording = delayed(reference, 100).copy()
    start = 100 * MS
    rng = np.random.default_rng(1)
    first = round(FIRST_SCORED_S * PESQ_RATE_HZ)
    for k in range(start, start + first, 40 * MS):  # every other 20 ms lost at the start
        recording[k : k + 20 * MS] = 0.0
    recording[start:] += rng.normal(0.0, 1.0, len(recording) - start)
    result = score(reference, recording, BOUNDS)
    assert result.mos_first < result.mos - 0.3


def test_heard_fraction_counts_only_windows_that_fit_in_the_media_received() -> None:
    # 3 s of media: wherever the 1 s windows fall, two fit whole (the edges are half silence)
    assert heard_fraction(2.0, 3.04) == 1.0
    assert heard_fraction(1.0, 3.04) == 0.5
    assert heard_fraction(0.0, 3.04) == 0.0
    assert heard_fraction(14.0, 30.0) < 0.5  # half of a 30 s call missing
