"""PySNAC next to baresip (the C phone people run on a Pi), in one run, through one sound server.

Two PySNAC phone processes (`main.py run`, the `pyaudio` driver) call each other on
loopback; then two baresip 1.0 agents do the same (SIP on loopback, no registrar, Opus
48 kHz mono 20 ms, complexity 9, 32 kbit/s, SDES-SRTP mandatory, the `pulse` module). Both
pairs use the same private PulseAudio server and the same clips played into their
microphones (`mic_a`, `mic_b`). While each pair talks, per process: CPU (% of one core,
/proc/PID/stat), thread wake-ups per second (voluntary + non-voluntary context switches of
every thread, /proc/PID/task/*/status), resident memory (VmRSS) and its peak (VmHWM).

Mouth-to-ear, a -> b: a `probe` sink receives both what is played into a's microphone and
what b's speaker plays (two `module-loopback`s with the same latency setting), so one
recording holds the clip and its copy one mouth-to-ear delay later; the clip is
cross-correlated with it (the second peak after the first). Both loopbacks have the same
latency setting, so their own delay cancels to within a few ms.

    python3 bench/bench_peers.py [--talk-s S] [--json]

baresip is installed with apt when missing (root). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo.phones import (
    PhoneProcess,
    connect,
    free_udp_port,
    make_phone_folder,
    write_config,
)
from demo.pulse_rig import SINKS, PulseRig

REPO = Path(__file__).resolve().parent.parent
CLIPS = {"a": REPO / "assets" / "alice_arctic_a0007.wav", "b": REPO / "assets" / "bob_espeak.wav"}
CLIP_REPEATS = 4  # the talk window is filled with speech, not silence
TALK_S = 10.0
SETTLE_S = 1.0  # after the call is up, before measuring (stream start-up)
START_TIMEOUT_S = 60.0
PROBE_SINK = "probe"
LOOPBACK_LATENCY_MS = 20
MOUTH_TO_EAR_MIN_MS = 5.0  # the copy is searched this far after the clip ...
MOUTH_TO_EAR_MAX_MS = 1500.0  # ... up to this
PROBE_RATE_HZ = 16000
WINDOW_S = 0.5
WINDOW_MATCH_MIN = 0.5  # a window's copy counts when it correlates at least this well
SPEECH_RMS_MIN = 300.0  # int16 scale: quieter half-seconds are pauses
KIB_PER_MIB = 1024
BARESIP_MODULES = ("account", "menu", "opus", "srtp", "pulse")  # no console UI
OPUS_BITRATE_BPS = 32000
OPUS_COMPLEXITY = 9
BARESIP_READY_S = 20.0
BARESIP_MUST_SAY = (
    "SRTP is Enabled",
    "audio encoder: opus 48000Hz 1ch",
    "decoder: opus 48000Hz 1ch",
)


@dataclass
class ProcessUse:
    cpu_percent: float
    wakeups_per_s: float
    rss_mib: float
    peak_rss_mib: float


@dataclass
class PairResult:
    name: str
    processes: dict[str, ProcessUse]
    mouth_to_ear_ms: float | None
    probe_correlation: float
    link: dict[str, dict] = field(default_factory=dict)  # PySNAC: each phone's call stats

    def mean(self, key: str) -> float:
        values = [getattr(p, key) for p in self.processes.values()]
        return sum(values) / len(values)


# --- /proc ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                total += int(line.split()[1])
    return total


def memory_mib(pid: int) -> tuple[float, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line.split(":")[0]] = int(line.split()[1]) / KIB_PER_MIB
    return values["VmRSS"], values["VmHWM"]


def measure(pids: dict[str, int], seconds: float) -> dict[str, ProcessUse]:
    start = {n: (time.monotonic(), cpu_seconds(p), context_switches(p)) for n, p in pids.items()}
    threading.Event().wait(seconds)
    used = {}
    for name, pid in pids.items():
        at, cpu, switches = start[name]
        elapsed = time.monotonic() - at
        rss, peak = memory_mib(pid)
        used[name] = ProcessUse(
            cpu_percent=100.0 * (cpu_seconds(pid) - cpu) / elapsed,
            wakeups_per_s=(context_switches(pid) - switches) / elapsed,
            rss_mib=rss,
            peak_rss_mib=peak,
        )
    return used


# --- sound ------------------------------------------------------------------------------------


def repeated_clip(clip: Path, out: Path, repeats: int) -> Path:
    with wave.open(str(clip), "rb") as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    with wave.open(str(out), "wb") as sink:
        sink.setparams(params)
        sink.writeframes(frames * repeats)
    return out


class Talk:
    """Clips into both microphones, and the probe recording of a's mouth and b's ear."""

    def __init__(self, rig: PulseRig, folder: Path) -> None:
        self.rig, self.folder = rig, folder
        self.clips = {
            p: repeated_clip(c, folder / f"talk_{p}.wav", CLIP_REPEATS) for p, c in CLIPS.items()
        }
        self.modules = [
            rig.pactl(
                "load-module",
                "module-loopback",
                f"source={source}",
                f"sink={PROBE_SINK}",
                f"latency_msec={LOOPBACK_LATENCY_MS}",
                "source_dont_move=true",
                "sink_dont_move=true",
            ).strip()
            for source in ("mic_a.monitor", "spk_b.monitor")
        ]
        self.probe = folder / "probe.wav"
        self.recording = rig.record(PROBE_SINK, self.probe)
        self.players = [rig.play_into(f"mic_{p}", clip) for p, clip in self.clips.items()]

    def stop(self) -> Path:
        for player in self.players:
            if player.poll() is None:
                player.terminate()
            player.wait(10)
            if player.stderr is not None:
                player.stderr.close()
        self.recording.stop()
        for module in self.modules:
            self.rig.pactl("unload-module", module)
        return self.probe


def _cross(signal, reference):  # numpy arrays in, numpy array out
    import numpy as np

    size = 1 << int(np.ceil(np.log2(len(signal) + len(reference))))
    spectrum = np.fft.rfft(signal, size) * np.conj(np.fft.rfft(reference, size))
    return np.fft.irfft(spectrum, size)[: max(1, len(signal) - len(reference) + 1)]


def mouth_to_ear_ms(clip: Path, probe: Path) -> tuple[float | None, float]:
    """The delay from the clip in the probe recording (a's microphone) to its copy (b's
    speaker): the median over half-second windows of the clip, each searched for on its
    own (a jitter buffer that stretches time moves the copy by a frame or two within a
    call), and the median normalised correlation of those matches. The microphone's copy
    is subtracted first: speech correlates with itself a pitch period later."""
    import numpy as np

    from demo.score import load_16k

    reference, recording = load_16k(clip), load_16k(probe)
    if len(recording) <= len(reference):
        return None, 0.0
    first = int(np.argmax(_cross(recording, reference)[: len(recording) - len(reference)]))
    mouth = recording[first : first + len(reference)]
    gain = float(np.dot(mouth, reference)) / float(np.dot(reference, reference))
    residual = recording.copy()
    residual[first : first + len(reference)] -= gain * reference
    window = int(WINDOW_S * PROBE_RATE_HZ)
    low_lag = int(MOUTH_TO_EAR_MIN_MS * PROBE_RATE_HZ / 1000)
    high_lag = int(MOUTH_TO_EAR_MAX_MS * PROBE_RATE_HZ / 1000)
    lags, correlations = [], []
    for start in range(0, len(reference) - window + 1, window):
        piece = reference[start : start + window]
        if float(np.sqrt(np.mean(piece**2))) < SPEECH_RMS_MIN:
            continue  # a pause matches anything
        base = first + start + low_lag
        searched = residual[base : first + start + high_lag + window]
        if len(searched) < window:
            break
        lag = int(np.argmax(_cross(searched, piece)))
        found = searched[lag : lag + window]
        norm = float(np.linalg.norm(found) * np.linalg.norm(piece)) or 1.0
        lags.append(low_lag + lag)
        correlations.append(float(np.dot(found, piece)) / norm)
    good = [lag for lag, c in zip(lags, correlations, strict=True) if c >= WINDOW_MATCH_MIN]
    if not good:
        return None, float(np.median(correlations)) if correlations else 0.0
    return 1000.0 * float(np.median(good)) / PROBE_RATE_HZ, float(np.median(correlations))


# --- the two pairs ----------------------------------------------------------------------------


def run_pysnac(rig: PulseRig, folder: Path, talk_s: float) -> PairResult:
    a, b = make_phone_folder(folder, "a"), make_phone_folder(folder, "b")
    for spec, peer in ((a, b), (b, a)):
        config = write_config(spec, [peer], audio="pyaudio")
        with config.open("a", encoding="utf-8") as file:  # the same bit rate as baresip's
            file.write(f"[codec]\nbitrate = {OPUS_BITRATE_BPS}\n")
    phones = {
        "a": PhoneProcess(a, extra_env=rig.env_for("a")),
        "b": PhoneProcess(b, extra_env=rig.env_for("b")),
    }
    try:
        for phone in phones.values():
            phone.wait_ready(START_TIMEOUT_S)
        connect(phones["a"], phones["b"], START_TIMEOUT_S)
        talk = Talk(rig, folder)
        threading.Event().wait(SETTLE_S)
        used = measure({n: p.process.pid for n, p in phones.items()}, talk_s)
        probe = talk.stop()
        marks = {n: p.mark for n, p in phones.items()}
        phones["a"].press("select")  # hang up
        link = {
            n: p.wait_state("hangup", START_TIMEOUT_S, marks[n])[2].get("link", {})
            for n, p in phones.items()
        }
    finally:
        for phone in phones.values():
            phone.quit()
    delay, correlation = mouth_to_ear_ms(CLIPS["a"], probe)
    return PairResult("pysnac", used, delay, correlation, link)


BARESIP_CONFIG = """\
poll_method epoll
sip_listen 127.0.0.1:{sip_port}
module_path /usr/lib/baresip/modules
{modules}
module_app account.so
module_app menu.so
# The menu redraws a call status line several times a second; a phone on a shelf has no
# terminal (and PySNAC prints nothing while talking).
statmode_default off
audio_player pulse,spk_{phone}
audio_source pulse,mic_{phone}.monitor
audio_alert pulse,spk_{phone}
audio_srate 48000
audio_channels 1
opus_bitrate {bitrate}
opus_stereo no
opus_sprop_stereo no
opus_complexity {complexity}
opus_application voip
opus_samplerate 48000
rtp_ports {rtp_low}-{rtp_high}
"""


def baresip_folder(folder: Path, phone: str, sip_port: int) -> Path:
    home = folder / f"baresip_{phone}"
    home.mkdir()
    rtp = free_udp_port()
    modules = "\n".join(f"module {m}.so" for m in BARESIP_MODULES if m not in ("account", "menu"))
    (home / "config").write_text(
        BARESIP_CONFIG.format(
            sip_port=sip_port,
            modules=modules,
            phone=phone,
            bitrate=OPUS_BITRATE_BPS,
            complexity=OPUS_COMPLEXITY,
            rtp_low=rtp,
            rtp_high=rtp + 9,
        ),
        encoding="utf-8",
    )
    (home / "accounts").write_text(
        f"<sip:{phone}@127.0.0.1:{sip_port}>;regint=0;answermode=auto;"
        "audio_codecs=opus/48000/1;mediaenc=srtp-mand;ptime=20\n",
        encoding="utf-8",
    )
    (home / "contacts").write_text("", encoding="utf-8")
    return home


class Baresip:
    """One baresip agent; its console output is watched for a line."""

    def __init__(self, home: Path, env: dict[str, str], commands: tuple[str, ...] = ()) -> None:
        argv = ["baresip", "-f", str(home)]
        for command in commands:
            argv += ["-e", command]
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.process = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._cond:
                self.lines.append(line.rstrip())
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    tail = " | ".join(self.lines[-8:])
                    raise RuntimeError(f"baresip never said {text!r}: {tail}")
                self._cond.wait(left)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def udp_port_bound(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def run_baresip(rig: PulseRig, folder: Path, talk_s: float) -> PairResult:
    ports = {"a": free_udp_port(), "b": free_udp_port()}
    homes = {p: baresip_folder(folder, p, port) for p, port in ports.items()}
    b = Baresip(homes["b"], rig.env_for("b"))
    a = None
    try:
        b.wait_for("baresip is ready", BARESIP_READY_S)
        dial = f"/dial sip:b@127.0.0.1:{ports['b']}"
        a = Baresip(homes["a"], rig.env_for("a"), (dial,))
        a.wait_for("Call established", START_TIMEOUT_S)
        b.wait_for("Call established", START_TIMEOUT_S)
        talk = Talk(rig, folder)
        threading.Event().wait(SETTLE_S)
        used = measure({"a": a.process.pid, "b": b.process.pid}, talk_s)
        probe = talk.stop()
        for agent in (a, b):  # the comparison holds only for this call set-up
            for wanted in BARESIP_MUST_SAY:
                agent.wait_for(wanted, BARESIP_READY_S)
    finally:
        for agent in (a, b):
            if agent is not None:
                agent.stop()
    delay, correlation = mouth_to_ear_ms(CLIPS["a"], probe)
    return PairResult("baresip", used, delay, correlation)


def ensure_baresip() -> None:
    if shutil.which("baresip"):
        return
    if os.geteuid() != 0:
        raise SystemExit("bench_peers: baresip is not installed (apt-get install baresip)")
    print("bench_peers: installing baresip with apt", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "baresip"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def report(results: list[PairResult]) -> str:
    lines = [f"{'per phone, while talking':<28}" + "".join(f"{r.name:>14}" for r in results)]
    rows = [
        ("CPU, % of one core", "cpu_percent", "{:.2f}"),
        ("thread wake-ups/s", "wakeups_per_s", "{:.0f}"),
        ("resident memory, MiB", "rss_mib", "{:.1f}"),
        ("peak resident, MiB", "peak_rss_mib", "{:.1f}"),
    ]
    for label, key, fmt in rows:
        lines.append(f"{label:<28}" + "".join(f"{fmt.format(r.mean(key)):>14}" for r in results))
    lines.append(
        f"{'mouth-to-ear a->b, ms':<28}"
        + "".join(
            f"{'n/a' if r.mouth_to_ear_ms is None else f'{r.mouth_to_ear_ms:.0f}':>14}"
            for r in results
        )
    )
    lines.append(
        f"{'  (probe correlation)':<28}" + "".join(f"{r.probe_correlation:>14.2f}" for r in results)
    )
    for r in results:
        for name, stats in r.link.items():
            extra = stats.get("extra", {})
            lines.append(
                f"  {r.name} {name}: jitter buffer {extra.get('delay_ms', 0):.0f} ms, "
                f"{stats.get('output_underruns', 0)} underruns, "
                f"{stats.get('input_overflows', 0)} overflows, "
                f"{stats.get('frames_concealed', 0)} frames concealed"
            )
    by = {r.name: r for r in results}
    if "pysnac" in by and "baresip" in by:
        ratio = by["pysnac"].mean("cpu_percent") / max(by["baresip"].mean("cpu_percent"), 1e-9)
        lines.append(f"PySNAC CPU / baresip CPU: {ratio:.2f}x (target <= 1.25x)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talk-s", type=float, default=TALK_S)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=("pysnac", "baresip"))
    args = parser.parse_args()
    ensure_baresip()
    results = []
    with tempfile.TemporaryDirectory(prefix="pysnac-peers-") as tmp:
        rig = PulseRig(sinks=(*SINKS, PROBE_SINK))
        rig.start()
        try:
            for name, run in (("pysnac", run_pysnac), ("baresip", run_baresip)):
                if args.only in (None, name):
                    folder = Path(tmp) / name
                    folder.mkdir()
                    results.append(run(rig, folder, args.talk_s))
        finally:
            rig.stop()
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
