"""`make bench`'s runner: misses are summarised and fail the run; stderr stays out of the
tables (it goes to a log file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import run_all


def bench(folder: Path, name: str, body: str) -> Path:
    script = folder / f"bench_{name}.py"
    script.write_text("import sys\n" + body)
    return script


def test_misses_are_collected_and_stderr_kept_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run_all, "RESULTS", tmp_path)
    script = bench(
        tmp_path,
        "x",
        "print('| row | 4.1 | met |')\n"
        "print('| row | 2.0 | NOT met |')\n"
        "print('ALSA lib pcm.c:2664: Unknown PCM cards.pcm.rear', file=sys.stderr)\n",
    )
    status, missed = run_all.run(script)
    assert status == 0
    assert missed == ["| row | 2.0 | NOT met |"]
    out = capsys.readouterr()
    assert "ALSA" not in out.out and "ALSA" not in out.err
    assert "ALSA lib" in (tmp_path / "bench_x.stderr.log").read_text()


def test_main_exits_1_with_a_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run_all, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    bench(tmp_path, "a", "print('ratio 4.0x (OVER the 3x target)')\n")
    bench(tmp_path, "b", "print('all fine')\n")
    assert run_all.main() == 1
    assert "missed: bench_a: ratio 4.0x (OVER the 3x target)" in capsys.readouterr().out
    (tmp_path / "bench_a.py").unlink()
    assert run_all.main() == 0
    assert "every target met" in capsys.readouterr().out
