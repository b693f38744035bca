"""Media pipeline benchmark: PESQ-WB table, MOS against loss, CPU per frame.

Runs the offline simulator (demo/simulate.py: real Opus, seeded network, real
jitter buffer on a simulated clock) over many seeds and prints, and writes to results/:
  media_table.md   the target table as measured (MOS, delay, wire bitrate per row),
                   the comparison of recovery modes, and the CPU cost per frame
  mos_vs_loss.png  MOS against random loss for silence fill, Opus PLC, in-band FEC, ours
Environment: BENCH_SEEDS (default 30) seeds per cell.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from demo.netsim import NetworkParams  # noqa: E402
from demo.simulate import SimConfig, Summary, run  # noqa: E402
from demo.wavio import read_wav_48k  # noqa: E402
from pysnac.media.codec import CodecParams, OpusDecoder, OpusEncoder  # noqa: E402
from pysnac.media.jitter import Recovery  # noqa: E402
from pysnac.media.session import MediaSession  # noqa: E402

SEEDS = int(os.environ.get("BENCH_SEEDS", "30"))
CLIP = REPO / "tests" / "data" / "speech" / "arctic_a0007.wav"
RESULTS = REPO / "results"
CPU_FRAMES = 1500

# (label, network, target MOS, target p95 delay ms or None, reference from the issue)
ROWS = [
    ("no loss, no jitter", NetworkParams(), 4.3, None, "codec alone 4.39"),
    ("40 ms +- 20 ms jitter", NetworkParams(delay_s=0.04, jitter_s=0.02), 4.2, 120, ""),
    ("10 % random loss", NetworkParams(loss=0.10), 3.9, None, "FEC 3.36, 1 prev 3.94, 2 prev 4.38"),
    ("20 % random loss", NetworkParams(loss=0.20), 3.5, None, "FEC 2.43, 2 prev 4.01"),
    (
        "10 % bursty loss, burst 3",
        NetworkParams(loss=0.10, burst_frames=3),
        3.2,
        None,
        "FEC 2.69, 2 prev 3.36",
    ),
]
PLOT_LOSSES = (0.0, 0.05, 0.10, 0.20)
MODES = (Recovery.SILENCE, Recovery.PLC, Recovery.FEC, Recovery.OURS)


def simulate(clip, network: NetworkParams, recovery: Recovery = Recovery.OURS) -> Summary:
    return run(clip, SimConfig(network=network, recovery=recovery), SEEDS)


def target_table(clip) -> list[str]:
    lines = [
        f"| condition | PESQ-WB mean +- std ({SEEDS} seeds) | target | mouth-to-ear p50 / p95"
        " | wire kbit/s | lost / late / concealed / FEC / redundancy (per seed) | reference |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, network, target, p95_target, reference in ROWS:
        s = simulate(clip, network)
        met = "met" if s.mos_mean >= target else "NOT met"
        delay_note = ""
        if p95_target is not None:
            delay_note = f" (target p95 <= {p95_target}: "
            delay_note += "met)" if s.delay_ms_p95 <= p95_target else "NOT met)"
        elif label.startswith("no loss"):
            delay_note = " (target <= 50: " + ("met)" if s.delay_ms_p50 <= 50 else "NOT met)")
        counts = " / ".join(
            f"{v / s.seeds:.1f}"
            for v in (s.lost, s.late, s.concealed, s.fec_recovered, s.redundancy_recovered)
        )
        lines.append(
            f"| {label} | {s.mos_mean:.2f} +- {s.mos_std:.2f} | >= {target} ({met}) |"
            f" {s.delay_ms_p50:.0f} / {s.delay_ms_p95:.0f} ms{delay_note} |"
            f" {s.wire_kbps:.1f} | {counts} | {reference} |"
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
    print("## Targets, our pipeline", flush=True)
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
            f"Clip: {CLIP.name} (4 s recorded speech), played twice per call, second pass"
            f" scored; {SEEDS} seeds per cell; 48 kHz, 20 ms, Opus"
            f" {CodecParams().bitrate // 1000} kbit/s complexity {CodecParams().complexity}.",
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
