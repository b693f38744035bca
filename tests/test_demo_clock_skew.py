"""`main.py demo --clock-skew SECONDS`: bob's wall clock a day off, and both directions of
calling still connect (replay protection needs no agreement between the two clocks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.run import run_demo

DAY_S = 86400.0


@pytest.mark.parametrize("skew_s", [DAY_S, -DAY_S])
def test_both_directions_connect_with_bob_a_day_off(tmp_path: Path, skew_s: float) -> None:
    lines: list[str] = []
    result = run_demo(out=tmp_path, talk_s=1.0, echo=lines.append, clock_skew_s=skew_s)
    assert result.sas_match  # alice called bob
    assert result.call_back_ok  # then bob called alice back
