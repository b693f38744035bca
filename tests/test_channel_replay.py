"""The RFC 6479 replay window, by example and against a simple model (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pysnac.channel.limits import REJECT_AFTER_MESSAGES, REPLAY_WINDOW_PACKETS
from pysnac.channel.replay import ReplayWindow, Verdict

W = REPLAY_WINDOW_PACKETS


def accept(window: ReplayWindow, counter: int) -> Verdict:
    verdict = window.check(counter)
    if verdict is Verdict.FRESH:
        window.commit(counter)
    return verdict


def test_window_holds_at_least_1024_packets() -> None:
    assert W >= 1024


def test_in_order_duplicates_and_reordering() -> None:
    window = ReplayWindow()
    assert [accept(window, c) for c in (0, 1, 2)] == [Verdict.FRESH] * 3
    assert accept(window, 1) is Verdict.REPLAYED
    assert accept(window, 10) is Verdict.FRESH
    assert [accept(window, c) for c in (7, 3, 9, 8)] == [Verdict.FRESH] * 4
    assert [accept(window, c) for c in (7, 3, 10)] == [Verdict.REPLAYED] * 3
    assert window.greatest == 10


def test_window_edge_is_exact() -> None:
    window = ReplayWindow()
    top = 5 * W + 37
    accept(window, top)
    assert window.check(top - W) is Verdict.FRESH
    assert window.check(top - W - 1) is Verdict.TOO_OLD
    assert accept(window, top - W) is Verdict.FRESH
    assert accept(window, top - W) is Verdict.REPLAYED


def test_a_big_jump_forgets_old_bits_but_not_new_ones() -> None:
    window = ReplayWindow()
    for counter in range(0, 3 * W, 7):
        accept(window, counter)
    accept(window, 100 * W)
    assert window.check(100 * W - 1) is Verdict.FRESH
    assert window.check(3 * W - 7) is Verdict.TOO_OLD
    for counter in range(99 * W + 1, 100 * W, 3):  # the ring's reused words start clean
        assert accept(window, counter) is Verdict.FRESH


def test_counters_at_or_past_the_limit_are_invalid() -> None:
    window = ReplayWindow()
    assert window.check(REJECT_AFTER_MESSAGES) is Verdict.INVALID
    assert window.check(2**64 - 1) is Verdict.INVALID
    assert window.check(-1) is Verdict.INVALID
    assert accept(window, REJECT_AFTER_MESSAGES - 1) is Verdict.FRESH


def test_check_alone_changes_nothing() -> None:
    window = ReplayWindow()
    window.check(5000)
    assert window.greatest == -1
    assert accept(window, 0) is Verdict.FRESH


class Model:
    """What the window promises, with no bitmap: a set and the maximum."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.greatest = -1

    def verdict(self, counter: int) -> Verdict:
        if not 0 <= counter < REJECT_AFTER_MESSAGES:
            return Verdict.INVALID
        if counter > self.greatest:
            return Verdict.FRESH
        if self.greatest - counter > W:
            return Verdict.TOO_OLD
        return Verdict.REPLAYED if counter in self.seen else Verdict.FRESH

    def commit(self, counter: int) -> None:
        self.seen.add(counter)
        self.greatest = max(self.greatest, counter)


# Each step: how far from the current top (negative = older), and whether the packet
# authenticated (a forged one is checked but never committed).
steps = st.lists(
    st.tuples(
        st.one_of(
            st.integers(-70, 70),
            st.integers(-W - 70, -W + 70),
            st.integers(-3 * W, 3 * W),
            st.sampled_from([64, 128, 2048, 10**6, 2**63]),
        ),
        st.booleans(),
    ),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_window_matches_the_model(plan: list[tuple[int, bool]]) -> None:
    window, model = ReplayWindow(), Model()
    for offset, authentic in plan:
        counter = max(0, model.greatest + offset)
        expected = model.verdict(counter)
        assert window.check(counter) is expected, (counter, model.greatest)
        if expected is Verdict.FRESH and authentic:
            window.commit(counter)
            model.commit(counter)
        assert window.greatest == model.greatest
