"""The call targets, measured on loopback with real phone processes (`make demo` runs).

Prints: Select on alice -> "ringing" on bob, answer -> first audio frame heard (each
side), PESQ-WB of what bob heard (alice's recorded clip) and alice heard (bob's synthetic
clip), and each phone process's CPU while talking, against the codec floor: bare libopus
encode + decode of one 20 ms frame plus seal + open of its packet, as a share of one core.
Targets: <= 50 ms, <= 100 ms, PESQ >= 4.0, CPU <= 2x the floor.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

if TYPE_CHECKING:
    from pysnac.media.codec import CodecParams

RUNS = 3
TALK_S = 6.0
FLOOR_FRAMES = 500


def clip_frames(params: CodecParams, count: int | None = None) -> list[bytes]:
    """Alice's demo clip as whole frames of `params`, repeated up to `count` frames."""
    from demo.run import ALICE_CLIP
    from drivers.audio.wav_device import load_wav_mono16

    samples = load_wav_mono16(ALICE_CLIP, params.sample_rate)
    n = params.frame_samples
    frames = [samples[i : i + n].tobytes() for i in range(0, len(samples) - n, n)]
    if count is None:
        return frames
    return (frames * (count // len(frames) + 1))[:count]


def codec_floor_percent() -> float:
    """CPU share of one core for the bare per-frame work of one full-duplex phone."""
    from pysnac.channel.transport import PacketOpener, PacketSealer
    from pysnac.media.codec import CodecParams, OpusDecoder, OpusEncoder

    params = CodecParams()
    frames = clip_frames(params, FLOOR_FRAMES)
    encoder, decoder = OpusEncoder(params), OpusDecoder(params)
    sealer, opener = PacketSealer(bytes(32)), PacketOpener(bytes(32))
    header = bytes(5)
    start = time.process_time()
    for pcm in frames:
        packet = encoder.encode(pcm)
        opener.open(sealer.seal(header, b"\x01" + packet), len(header))
        decoder.decode(packet)
    per_frame_s = (time.process_time() - start) / len(frames)
    print(
        f"codec floor: {per_frame_s * 1e6:.0f} us per {params.frame_ms} ms frame "
        f"(encode + seal + open + decode)"
    )
    return 100.0 * per_frame_s / params.frame_s


def paced_floor_percent() -> float:
    """The same bare work done once per frame period, as a call does it: after each 20 ms
    wait the caches are cold, which on this machine roughly doubles the cost per frame."""
    import threading

    from pysnac.channel.transport import PacketOpener, PacketSealer
    from pysnac.media.codec import CodecParams, OpusDecoder, OpusEncoder

    params = CodecParams()
    frames = clip_frames(params)
    encoder, decoder = OpusEncoder(params), OpusDecoder(params)
    sealer, opener = PacketSealer(bytes(32)), PacketOpener(bytes(32))
    tick = threading.Event()
    used = 0.0
    start = time.monotonic()
    for i, pcm in enumerate(frames):
        tick.wait(max(0.0, start + (i + 1) * params.frame_s - time.monotonic()))
        began = time.thread_time()
        packet = encoder.encode(pcm)
        opener.open(sealer.seal(bytes(5), b"\x01" + packet), 5)
        decoder.decode(packet)
        used += time.thread_time() - began
    per_frame_s = used / len(frames)
    print(f"codec floor at real-time pace: {per_frame_s * 1e6:.0f} us per frame")
    return 100.0 * per_frame_s / params.frame_s


def wake_cost_us(wakes: int = 250) -> float:
    """CPU one timed sleep-and-wake costs a thread here (an Event.wait of about a frame):
    what every pacing wait of the phone's threads pays on top of the work it wakes for."""
    import threading

    tick = threading.Event()
    start = time.monotonic()
    began = time.thread_time()
    for i in range(wakes):
        tick.wait(max(0.0, start + (i + 1) * 0.02 - time.monotonic()))
    per_wake_s = (time.thread_time() - began) / wakes
    print(f"one thread sleep + wake: {per_wake_s * 1e6:.0f} us of CPU")
    return per_wake_s * 1e6


def pipeline_percent() -> float:
    """The same per-frame work through MediaSession (jitter buffer, redundancy), no threads."""
    from pysnac.channel.transport import PacketOpener, PacketSealer
    from pysnac.media.codec import CodecParams
    from pysnac.media.session import MediaSession

    params = CodecParams()
    frames = clip_frames(params, FLOOR_FRAMES)
    sender, receiver = MediaSession(params), MediaSession(params)
    sealer, opener = PacketSealer(bytes(32)), PacketOpener(bytes(32))
    start = time.process_time()
    for i, pcm in enumerate(frames):
        now = i * params.frame_s
        payload = sender.outgoing(pcm, now)
        if payload is not None:
            _, _, plain = opener.open(sealer.seal(bytes(5), b"\x01" + payload), 5)
            receiver.incoming(plain[1:], now)
        receiver.playout(now)
    per_frame_s = (time.process_time() - start) / len(frames)
    print(f"media pipeline without threads: {per_frame_s * 1e6:.0f} us per frame")
    return 100.0 * per_frame_s / params.frame_s


def main() -> int:
    from demo.run import run_demo

    floor = codec_floor_percent()
    paced = paced_floor_percent()
    pipeline = pipeline_percent()
    wake_us = wake_cost_us()
    ring, heard_bob, heard_alice, pesq_bob, pesq_alice, cpu = [], [], [], [], [], []
    wakeups: list[float] = []
    for run in range(RUNS):
        with tempfile.TemporaryDirectory() as out:
            result = run_demo(out=Path(out), talk_s=TALK_S, echo=lambda _line: None)
        to_bob, to_alice = result.directions
        ring.append(result.ring_ms)
        heard_bob.append(result.answer_to_first_heard_ms.get("bob", float("nan")))
        heard_alice.append(result.answer_to_first_heard_ms.get("alice", float("nan")))
        pesq_bob.append(to_bob.pesq)
        pesq_alice.append(to_alice.pesq)
        cpu.extend(result.cpu_percent.values())
        wakeups.extend(result.wakeups_per_s.values())
        print(
            f"run {run + 1}: ring {result.ring_ms:.1f} ms, first heard bob "
            f"{heard_bob[-1]:.0f} ms / alice {heard_alice[-1]:.0f} ms, PESQ bob heard "
            f"{to_bob.pesq:.2f}, alice heard {to_alice.pesq:.2f}, CPU "
            + ", ".join(f"{n} {v:.1f} %" for n, v in result.cpu_percent.items())
            + f", SAS {'match' if result.sas_match else 'MISMATCH'}"
        )

    def row(name: str, values: list[float], unit: str, target: str) -> None:
        print(
            f"  {name:<40} median {statistics.median(values):7.2f} {unit:<3} "
            f"worst {max(values) if unit != 'MOS' else min(values):7.2f}  target {target}"
        )

    print(f"\ncall targets on loopback ({RUNS} demo calls of {TALK_S:.0f} s):")
    row("Select on alice -> ringing on bob", ring, "ms", "<= 50 ms")
    row("answer -> first audio heard (bob)", heard_bob, "ms", "<= 100 ms")
    row("answer -> first audio heard (alice)", heard_alice, "ms", "<= 100 ms")
    row("PESQ-WB bob heard (recorded speech)", pesq_bob, "MOS", ">= 4.0")
    row("PESQ-WB alice heard (synthetic speech)", pesq_alice, "MOS", "(espeak: ~0.8 lower)")
    row("CPU per phone process while talking", cpu, "%", f"<= {2 * floor:.1f} % (2x floor)")
    median = statistics.median(cpu)
    print(
        f"  codec floor {floor:.2f} % of one core in a hot loop, {paced:.2f} % at real-time "
        f"pace; media pipeline without threads {pipeline:.2f} %"
    )
    print(
        f"  phones (median) at {median / floor:.1f}x the hot-loop floor, "
        f"{median / paced:.1f}x the real-time floor"
    )
    woken = statistics.median(wakeups)
    waking = woken * wake_us / 1e4
    print(
        f"  each phone's threads wake {woken:.0f} times/s (capture, playout, socket); at "
        f"{wake_us:.0f} us per wake here that is {waking:.2f} % of a core by itself, "
        f"the work {median - waking:.2f} % ({(median - waking) / floor:.1f}x the floor)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
