"""Media pipeline benchmark: whole-call PESQ-WB table, MOS against loss, CPU per frame.

Runs the offline simulator (demo/simulate.py: real Opus, seeded network, real jitter
buffer on a simulated clock, both phones talking recorded speech) and prints, and writes
to results/:
  media_table.md   the target table as measured: 30 s calls scored from their first frame
                   each way, their first 6 s, the settled last pass (labelled), mouth-to-ear
                   delay and wire bitrate per row; the comparison of recovery modes; the
                   CPU cost per frame
  mos_vs_loss.png  MOS against random loss for silence fill, Opus PLC, in-band FEC, ours
Environment: BENCH_CALL_SEEDS (default 6) 30 s calls per row of the target table,
BENCH_SEEDS (default 20) 8 s calls per cell of the recovery-mode table.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo.netsim import NetworkParams  # noqa: E402
from demo.simulate import SimConfig, Summary, run, run_seed, summarise  # noqa: E402
from demo.wavio import read_wav_48k  # noqa: E402
from pysnac.media.codec import CodecParams, OpusDecoder, OpusEncoder  # noqa: E402
from pysnac.media.jitter import Recovery  # noqa: E402
from pysnac.media.session import MediaSession  # noqa: E402

SEEDS = int(os.environ.get("BENCH_SEEDS", "20"))
CALL_SEEDS = int(os.environ.get("BENCH_CALL_SEEDS", "6"))
CALL_S = 30.0  # each call of the target table talks at least this long
FIRST_WITHIN = 0.3  # the first 6 s must score within this of the whole call
CLIP = REPO / "tests" / "data" / "speech" / "arctic_a0007.wav"
RESULTS = REPO / "results"
CPU_FRAMES = 1500

# (label, network, target whole-call MOS each way, target mouth-to-ear p50 ms or None)
ROWS = [
    ("clean", NetworkParams(), 4.3, None),
    ("10 % random loss", NetworkParams(loss=0.10), 4.0, None),
    ("20 % random loss", NetworkParams(loss=0.20), 3.6, None),
    ("bursty 10 %, mean burst 3", NetworkParams(loss=0.10, burst_frames=3), 3.3, None),
    ("40 +- 20 ms jitter", NetworkParams(delay_s=0.04, jitter_s=0.02), 4.1, 130),
]
WIRE_TARGET_KBPS = 64.0  # per direction, at 10 % loss
PLOT_LOSSES = (0.0, 0.05, 0.10, 0.20)
MODES = (Recovery.SILENCE, Recovery.PLC, Recovery.FEC, Recovery.OURS)


def simulate(clip, network: NetworkParams, recovery: Recovery = Recovery.OURS) -> Summary:
    return run(clip, SimConfig(network=network, recovery=recovery), SEEDS)


def target_table(clip) -> list[str]:
    passes = math.ceil(CALL_S * 48000 / len(clip))
    lines = [
        f"| condition | whole call A->B / B->A (mean +- std, {CALL_SEEDS} calls) | target |"
        " first 6 s A->B / B->A (within 0.3?) | settled A->B / B->A |"
        " mouth-to-ear p50 / p95 | wire kbit/s A->B / B->A |"
        " lost / recovered / concealed per call A->B |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, network, target, p50_target in ROWS:
        config = SimConfig(network=network, passes=passes, both_ways=True)
        results = [run_seed(clip, config, s) for s in range(1, CALL_SEEDS + 1)]
        ab = summarise(results)
        ba = summarise([r.reverse for r in results if r.reverse is not None])
        met = ab.mos_mean >= target and ba.mos_mean >= target
        first_ok = all(abs(s.mos_first_mean - s.mos_mean) <= FIRST_WITHIN for s in (ab, ba))
        delay_note = ""
        if p50_target is not None:
            ok = max(ab.delay_ms_p50, ba.delay_ms_p50) <= p50_target
            delay_note = f" (p50 <= {p50_target}: {'met' if ok else 'NOT met'})"
        wire_note = ""
        if label.startswith("10 % random"):
            ok = max(ab.wire_kbps, ba.wire_kbps) <= WIRE_TARGET_KBPS
            wire_note = f" (<= {WIRE_TARGET_KBPS:g}: {'met' if ok else 'NOT met'})"
        recovered = (ab.redundancy_recovered + ab.fec_recovered) / ab.seeds
        lines.append(
            f"| {label} | {ab.mos_mean:.2f} +- {ab.mos_std:.2f} / {ba.mos_mean:.2f} +-"
            f" {ba.mos_std:.2f} | >= {target} ({'met' if met else 'NOT met'}) |"
            f" {ab.mos_first_mean:.2f} / {ba.mos_first_mean:.2f}"
            f" ({'yes' if first_ok else 'NO'}) |"
            f" {ab.mos_settled_mean:.2f} / {ba.mos_settled_mean:.2f} |"
            f" {ab.delay_ms_p50:.0f} / {ab.delay_ms_p95:.0f} ms{delay_note} |"
            f" {ab.wire_kbps:.1f} / {ba.wire_kbps:.1f}{wire_note} |"
            f" {ab.lost / ab.seeds:.1f} / {recovered:.1f} / {ab.concealed / ab.seeds:.1f} |"
        )
        print(lines[-1], flush=True)
    return lines


def mode_table(clip) -> tuple[list[str], dict[Recovery, list[float]], dict[Recovery, float]]:
    """The table, the MOS curves against loss, and each mode's wire kbit/s with no loss."""
    conditions = [(f"{p:.0%} random", NetworkParams(loss=p)) for p in PLOT_LOSSES[1:]]
    conditions.append(("10% bursty (3)", NetworkParams(loss=0.10, burst_frames=3)))
    curves: dict[Recovery, list[float]] = {mode: [] for mode in MODES}
    header = "| recovery | " + " | ".join(c for c, _ in conditions) + " |"
    lines = [header, "| --- " * (len(conditions) + 1) + "|"]
    clean = {}
    rates: dict[Recovery, float] = {}
    for mode in MODES:
        lossless = simulate(clip, NetworkParams(), mode)
        clean[mode], rates[mode] = lossless.mos_mean, lossless.wire_kbps
        curves[mode].append(clean[mode])
        cells = []
        for label, network in conditions:
            s = simulate(clip, network, mode)
            cells.append(f"{s.mos_mean:.2f} ({s.wire_kbps:.0f} kbit/s)")
            if "random" in label:
                curves[mode].append(s.mos_mean)
        lines.append(f"| {mode.value} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return lines, curves, rates


def cpu_table(clip) -> list[str]:
    params = CodecParams()
    n = params.frame_samples
    frames = [clip[(k % 200) * n : (k % 200 + 1) * n].tobytes() for k in range(CPU_FRAMES)]

    def bare() -> float:
        enc, dec = OpusEncoder(params), OpusDecoder(params)
        start = time.process_time()
        for pcm in frames:
            dec.decode(enc.encode(pcm))
        return (time.process_time() - start) / CPU_FRAMES

    def pipeline(lossy: bool) -> float:
        alice, bob = MediaSession(params), MediaSession(params)
        if lossy:  # bob reports 10 % loss: alice carries two redundant frames
            alice._remote_loss = 0.10
        start = time.process_time()
        for k, pcm in enumerate(frames):
            now = k * params.frame_s
            payload = alice.outgoing(pcm, now)
            if not lossy or k % 10:
                bob.incoming(payload, now + 0.01)
            bob.playout(now + 0.015)
        return (time.process_time() - start) / CPU_FRAMES

    floor = min(bare() for _ in range(3))
    clean = min(pipeline(False) for _ in range(3))
    lossy = min(pipeline(True) for _ in range(3))
    lines = [
        "| per 20 ms frame, one direction (encode + decode) | CPU us | x bare |",
        "| --- | --- | --- |",
        f"| bare libopus encode + decode (complexity {params.complexity}) |"
        f" {floor * 1e6:.0f} | 1.00 |",
        f"| whole pipeline, clean | {clean * 1e6:.0f} | {clean / floor:.2f} |",
        f"| whole pipeline, 10 % loss, 2 redundant frames | {lossy * 1e6:.0f} |"
        f" {lossy / floor:.2f} |",
    ]
    for line in lines:
        print(line, flush=True)
    return lines


def plot(curves: dict[Recovery, list[float]], path: Path, rates: dict[Recovery, float]) -> None:
    """Each curve is labelled with its wire bitrate: the modes do not cost the same."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    x = [100 * p for p in PLOT_LOSSES]
    for mode, ys in curves.items():
        ax.plot(x, ys, marker="o", label=f"{mode.value} ({rates[mode]:.0f} kbit/s on the wire)")
    ax.set_xlabel("random packet loss (%)")
    ax.set_ylabel(f"PESQ-WB MOS (mean of {SEEDS} seeds)")
    codec_kbps = CodecParams().bitrate // 1000
    ax.set_title(f"MOS against loss, Opus at {codec_kbps} kbit/s")
    ax.set_ylim(1, 4.6)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    clip = read_wav_48k(CLIP)
    RESULTS.mkdir(exist_ok=True)
    started = time.time()
    print(f"## Targets: {CALL_SEEDS} whole 30 s calls per row, offline simulator", flush=True)
    targets = target_table(clip)
    print("\n## Recovery modes: PESQ-WB (wire kbit/s)", flush=True)
    modes, curves, rates = mode_table(clip)
    print("\n## CPU", flush=True)
    cpu = cpu_table(clip)
    plot(curves, RESULTS / "mos_vs_loss.png", rates)
    text = "\n".join(
        [
            "# Media pipeline, measured (`make bench`, bench/bench_media.py)",
            "",
            "Measured offline: demo/simulate.py (two real media sessions, seeded network"
            " model, simulated clocks), not over the impairment relay between two phone"
            " processes.",
            f"Targets: {CALL_SEEDS} calls per row, each at least {CALL_S:g} s of {CLIP.name}"
            " (4 s of recorded speech, repeated) talked both ways at once, scored with PESQ-WB"
            " from the first frame (whole), over the first 6 s, and over the last 4 s"
            f" (settled). Recovery modes: {SEEDS} 8 s calls per cell, whole call scored."
            f" 48 kHz, 20 ms, Opus {CodecParams().bitrate // 1000} kbit/s complexity"
            f" {CodecParams().complexity}.",
            "Wire kbit/s = media payload + 29 channel header bytes per packet, per direction.",
            "",
            "## Targets",
            *targets,
            "",
            "## Recovery modes",
            *modes,
            "",
            "## CPU",
            *cpu,
            "",
        ]
    )
    (RESULTS / "media_table.md").write_text(text)
    elapsed = time.time() - started
    print(f"\nwrote results/media_table.md and results/mos_vs_loss.png in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
