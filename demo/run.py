"""`python3 main.py demo`: alice calls bob, two real phone processes on this machine.

Each phone is `main.py --config <tmp>/<name>/config.toml run --lcd stdio` with the other
pinned as a contact at its loopback UDP address and the `wav` sound driver: alice's
microphone plays `--clip` (a recorded speech clip by default), bob's a synthetic one, and
each speaker is recorded to `<out>/<name>_heard.wav`. The script presses the buttons a
person would (alice: Select, Select to call bob; bob: Select to answer; alice: Select to
hang up after `talk_s`), prints every LCD screen as it changes, and ends with the summary:
set-up times, frames per direction, delays, both SAS, and PESQ of what each side heard
against what the other said. `--interactive` opens the two terminal LCDs instead.

When an impairment is asked for, the phones reach each other through the impairment relay
(demo/impair.py: loss, bursts, delay, jitter, outages, from the first packet; static
addresses only); otherwise they talk directly. Each talker's clip repeats for the whole
call, and each direction is scored over the whole call from its first frame, start-up and
outages included, with what the relay did to it, the frames lost, recovered and
concealed, whether the call survived, and how soon after each outage the audio came back.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo.impair import A_TO_B, B_TO_A, ImpairedRelay, Impairment
from demo.network import NetworkDirectory, network_directory
from demo.phones import (
    REPO,
    DemoError,
    PhoneProcess,
    PhoneSpec,
    Record,
    make_phone_folder,
    write_config,
)
from demo.rendezvous import DemoDirectory, RendezvousChoice, demo_directory
from demo.sound import WAV_PATH, real_audio
from pysnac.media.codec import CodecParams
from pysnac.runtime.factory import CLOCK_SKEW_ENV

ALICE_CLIP = REPO / "assets" / "alice_arctic_a0007.wav"
BOB_CLIP = REPO / "assets" / "bob_espeak.wav"
DEFAULT_OUT = Path("out/demo")
TALK_S = 6.0
RING_S = 0.5  # let the ringing screen be seen before bob answers
START_TIMEOUT_S = 60.0  # two Python processes importing the media stack on a busy box
STEP_TIMEOUT_S = 10.0
HANGUP_SHOWN_S = 1.0  # the hang-up screen stays this long before Select dismisses it
# Each clip repeats this much longer than the talk: the media start to the hang-up. Not
# more: the WAV device reads the whole file as it opens, at the start of the call.
CLIP_MARGIN_S = 5.0
SURVIVED_REASONS = ("Hung up", "Call ended")  # how a call that was not lost ends
Address = tuple[str, int]


@dataclass
class Direction:
    """One way of the call: `talker` said `clip`, `listener` heard `recording`."""

    talker: str
    listener: str
    frames_sent: int
    frames_received: int
    frames_concealed: int
    frames_lost: int
    frames_late: int
    jitter_buffer_ms: float
    mouth_to_ear_ms: float | None
    pesq: float  # of the whole call from its first frame
    correlation: float
    pesq_first_6s: float | None = None  # of the call's first 6 s (None: a shorter call)
    mouth_to_ear_p50_ms: float | None = None  # median over the call, window by window
    # Of the media the listener received, the share in which the talker's speech was found
    # (the recording also runs before and after the call: those seconds are not counted).
    heard_fraction: float = 0.0
    frames_stretched: int = 0  # speech frames lengthened or shortened by a pitch period
    frames_recovered: int = 0  # redundant copies and in-band FEC
    survived: bool = True  # the listener's call ended by a hang-up, not "Call lost"
    end_reason: str = ""  # the listener's hang-up screen
    relay: dict[str, Any] = field(default_factory=dict)  # what the impairment did
    audio_back_ms: list[float | None] = field(default_factory=list)  # per outage, from the link


@dataclass
class DemoResult:
    ring_ms: float  # Select on alice -> bob's ringing screen (as the demo saw them)
    answer_to_in_call_ms: dict[str, float]
    answer_to_first_heard_ms: dict[str, float]  # from the call services' marks
    sas: dict[str, str]
    directions: list[Direction]
    recordings: dict[str, Path]
    cpu_percent: dict[str, float] = field(default_factory=dict)  # of one core, while talking
    wakeups_per_s: dict[str, float] = field(default_factory=dict)  # thread wake-ups, talking
    # MiB at the end of talking: resident then, and the peak since the process started
    rss_mib: dict[str, float] = field(default_factory=dict)
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    screens: dict[str, list[list[str]]] = field(default_factory=dict)
    audio_path: str = WAV_PATH  # which sound devices the phones used
    devices: dict[str, dict[str, int]] = field(default_factory=dict)  # AudioStats per phone
    clock_skew_s: float = 0.0  # bob's wall clock was off by this much
    call_back_ok: bool | None = None  # with a skew: bob called alice back, and it connected
    path: dict[str, str] = field(default_factory=dict)  # per phone: "direct" or "relay"
    rtt_ms: dict[str, float | None] = field(default_factory=dict)  # per phone: handshake RTT
    impairment: str = "direct"  # what the impairment relay did, or "direct" without one
    outages: list[tuple[float, float]] = field(default_factory=list)  # relay's, monotonic

    @property
    def survived(self) -> bool:
        return all(d.survived for d in self.directions)

    @property
    def sas_match(self) -> bool:
        values = set(self.sas.values())
        return len(values) == 1 and "" not in values


def format_screen(name: str, elapsed: float, lines: list[str]) -> str:
    top, bottom = ([*lines, "", ""])[:2]
    return f"{elapsed:7.2f} s  {name:<5} [{top:<16}] [{bottom:<16}]"


def check_clip(path: Path, flag: str = "--clip") -> None:
    """A clip that cannot be read is a one-line error, naming `flag`, before any phone
    starts."""
    from demo.score import load_16k
    from pysnac.errors import UsageError

    if not path.is_file():
        raise UsageError(f"{flag} {path}: no such file")
    from drivers.audio.base import AudioDeviceError

    try:
        samples = load_16k(path)
    except AudioDeviceError as exc:
        raise UsageError(f"{flag} {path}: {exc.problem}") from exc
    if len(samples) < 16000:
        raise UsageError(f"{flag} {path}: shorter than one second")


def repeat_clip(clip: Path, seconds: float, dest: Path) -> Path:
    """`clip` repeated to at least `seconds`, as a 48 kHz mono WAV: a talker who talks
    for the whole call, so the whole call can be scored."""
    import wave

    import numpy as np

    from drivers.audio.wav_device import load_wav_mono16

    rate = 48000
    samples = load_wav_mono16(clip, rate)
    repeats = max(1, int(np.ceil(seconds * rate / len(samples))))
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.tile(samples, repeats).tobytes())
    return dest


def prepare(
    root: Path,
    out: Path,
    clip: Path,
    directory: DemoDirectory | None = None,
    audio: str = "wav",
    *,
    relay: Callable[[PhoneSpec, PhoneSpec], tuple[Address, Address]] | None = None,
    clips: dict[str, Path] | None = None,
    peer_lost_s: float | None = None,
) -> tuple[PhoneSpec, PhoneSpec]:
    """Both phones' folders and configs. `relay(alice, bob)` gives the address alice
    calls bob at and the one bob calls alice at (the impairment relay's two sides)."""
    out.mkdir(parents=True, exist_ok=True)
    alice = make_phone_folder(root, "alice")
    bob = make_phone_folder(root, "bob")
    for name in ("alice", "bob"):
        (out / f"{name}_heard.wav").unlink(missing_ok=True)
    options = directory.config_options if directory else lambda _spec: {}
    said = clips or {"alice": clip.resolve(), "bob": BOB_CLIP}
    routes: dict[str, dict[str, Address]] = {"alice": {}, "bob": {}}
    if relay is not None:
        to_bob, to_alice = relay(alice, bob)
        routes = {"alice": {"bob": to_bob}, "bob": {"alice": to_alice}}
    for spec, peer in ((alice, bob), (bob, alice)):
        write_config(
            spec,
            [peer],
            audio=audio,
            input_wav=said[spec.name],
            output_wav=(out / f"{spec.name}_heard.wav").resolve(),
            addresses=routes[spec.name],
            peer_lost_s=peer_lost_s,
            **options(spec),
        )
    return alice, bob


def run_demo(
    clip: Path = ALICE_CLIP,
    out: Path = DEFAULT_OUT,
    talk_s: float = TALK_S,
    echo: Callable[[str], None] = print,
    rendezvous: RendezvousChoice | None = None,
    real: bool = False,
    lcd: str = "stdio",
    clock_skew_s: float = 0.0,
    network: str | None = None,
    bob_network: str | None = None,
    impairment: Impairment | None = None,
    peer_lost_s: float | None = None,
    bob_clip: Path = BOB_CLIP,
) -> DemoResult:
    """`real`: the phones use PyAudio on virtual devices (demo/sound.py); `lcd`: the phones'
    LCD kind (`plate-emulated` draws through the plate driver on the emulated plate).
    `clock_skew_s`: bob's wall clock is off by that much, and bob then calls alice back.
    `network`: both phones behind home routers of that kind (bob's of `bob_network` if
    given), in namespaces (demo/network.py). With an `impairment` (static addresses only,
    no `network`) the call goes through the impairment relay, else directly;
    `Impairment()` is the relay with a clean path (a bench's baseline row).
    `peer_lost_s` overrides how long the phones ride out an outage; `bob_clip` is bob's
    microphone."""
    check_clip(clip)
    check_clip(bob_clip, "--bob-clip")
    static = (rendezvous is None or rendezvous.kind == "static") and not network
    if impairment is not None and not static:
        from pysnac.errors import UsageError

        raise UsageError("an impaired path needs static addresses (--rendezvous static)")
    relays: list[ImpairedRelay] = []

    def through_relay(a: PhoneSpec, b: PhoneSpec) -> tuple[Address, Address]:
        assert impairment is not None
        relay = ImpairedRelay(("127.0.0.1", a.port), ("127.0.0.1", b.port), impairment)
        relays.append(relay.start())
        return relay.a_side, relay.b_side

    start = time.monotonic()
    printed: dict[str, list[str]] = {}
    lock = threading.Lock()

    def on_record(phone: PhoneProcess, at: float, record: Record) -> None:
        if record.get("type") == "screen" and printed.get(phone.name) != record["lines"]:
            with lock:
                printed[phone.name] = record["lines"]
                echo(format_screen(phone.name, at - start, record["lines"]))

    with (
        tempfile.TemporaryDirectory(prefix="pysnac-demo-") as tmp,
        (
            network_directory(network, echo, bob_network)
            if network
            else demo_directory(rendezvous, echo)
        ) as directory,
        real_audio(real, echo) as sound,
    ):
        audio = "pyaudio" if sound else "wav"
        out.mkdir(parents=True, exist_ok=True)
        seconds = talk_s + CLIP_MARGIN_S
        said = {
            name: repeat_clip(source, seconds, (out / f"{name}_said.wav").resolve())
            for name, source in (("alice", clip), ("bob", bob_clip))
        }
        alice_spec, bob_spec = prepare(
            Path(tmp),
            out,
            clip,
            directory,
            audio,
            relay=through_relay if impairment is not None else None,
            clips=said,
            peer_lost_s=peer_lost_s,
        )
        if network:
            echo(
                f"alice and bob in their homes, each on UDP port {alice_spec.port}/{bob_spec.port}"
            )
        else:
            echo(f"alice on 127.0.0.1:{alice_spec.port}, bob on 127.0.0.1:{bob_spec.port}")
        if relays:
            echo(
                f"impairment relay {relays[0].a_side[1]} <-> {relays[0].b_side[1]}: "
                f"{relays[0].impairment.describe()}"
            )
        env = sound.env_for if sound else lambda _name: None
        prefix = directory.prefix if isinstance(directory, NetworkDirectory) else lambda _n: ()
        alice = PhoneProcess(
            alice_spec, on_record=on_record, extra_env=env("alice"), lcd=lcd, prefix=prefix("alice")
        )
        skew = {CLOCK_SKEW_ENV: repr(clock_skew_s)} if clock_skew_s else {}
        bob_env = {**(env("bob") or {}), **skew}
        bob = PhoneProcess(
            bob_spec, on_record=on_record, extra_env=bob_env, lcd=lcd, prefix=prefix("bob")
        )
        talk = (lambda: sound.talk(said, out)) if sound else None
        try:
            directory.wait_online([alice, bob])  # both published: each can find the other
            timeline = _script(alice, bob, talk_s, talk)
            logs = {p.name: p.call_records() for p in (alice, bob)}  # the first call's
            kept = out.glob("*_heard.wav") if clock_skew_s else ()
            recordings = {path: path.read_bytes() for path in kept}
            call_back_ok = _call_back(bob, alice) if clock_skew_s else None
        finally:
            codes = {p.name: p.quit() for p in (alice, bob)}
            for relay in relays:
                relay.close()
        if clock_skew_s:  # the call back wrote its own recordings: score the first call's
            for path, data in recordings.items():
                path.write_bytes(data)
        failed = {name: code for name, code in codes.items() if code != 0}
        if failed:
            raise DemoError(f"phone processes exited with {failed}")
        screens = {p.name: p.screens() for p in (alice, bob)}
    relay_report = relays[0].report() if relays else None
    # With real audio the recordings start with the players, not with the media devices:
    # the marks say nothing of their offset (the players and recorders start together).
    result = _summarise(timeline, logs, screens, said, out, relay_report, marks=not sound)
    result.clock_skew_s, result.call_back_ok = clock_skew_s, call_back_ok
    if sound:
        result.audio_path = sound.path
    return result


def _script(
    alice: PhoneProcess,
    bob: PhoneProcess,
    talk_s: float,
    talk: Callable[[], Callable[[], None]] | None = None,
) -> dict[str, Any]:
    """Press the buttons a person would; the monotonic times of what happened. `talk`
    starts the people talking once both are in the call and returns how to stop them."""
    pause = threading.Event()
    alice.wait_ready(START_TIMEOUT_S)
    bob.wait_ready(START_TIMEOUT_S)
    started = {p.name: p.media_starts() for p in (alice, bob)}
    bob_mark = bob.mark
    dialled = alice.press("select")  # the home screen shows bob: one press calls him
    _, rang, _ = bob.wait_state("ringing", STEP_TIMEOUT_S, bob_mark)
    pause.wait(RING_S)
    answered = bob.press("select")
    alice_at, alice_in_call, _record = alice.wait_state("in_call", STEP_TIMEOUT_S)
    bob_at, bob_in_call, _ = bob.wait_state("in_call", STEP_TIMEOUT_S)
    in_call_at = {"alice": alice_at, "bob": bob_at}
    for phone in (alice, bob):  # InCall shows first; the sound devices open just after
        phone.wait_media(STEP_TIMEOUT_S, started[phone.name])
    stop_talking = talk() if talk else None
    cpu_start = {p.name: (time.monotonic(), p.cpu_seconds(), p.wakeups()) for p in (alice, bob)}
    pause.wait(talk_s)
    cpu, wakeups = {}, {}
    for p in (alice, bob):
        at, used, woken = cpu_start[p.name]
        elapsed = time.monotonic() - at
        cpu[p.name] = 100.0 * (p.cpu_seconds() - used) / elapsed
        wakeups[p.name] = (p.wakeups() - woken) / elapsed
    memory = {p.name: p.memory_mib() for p in (alice, bob)}
    marks = {p.name: p.mark for p in (alice, bob)}
    if stop_talking is not None:  # the recordings end with the call, not after it
        stop_talking()
    if alice.states()[-1] == "in_call":  # else the call was lost while they talked
        alice.press("select")
    end_reasons = {}
    for phone in (alice, bob):
        at, _, _ = phone.wait_state("hangup", STEP_TIMEOUT_S, in_call_at[phone.name])
        _, _, screen = phone.wait_for(
            lambda r: r.get("type") == "screen", STEP_TIMEOUT_S, at, "the hang-up screen"
        )
        end_reasons[phone.name] = screen["lines"][0].strip()
    pause.wait(HANGUP_SHOWN_S)
    for phone in (alice, bob):  # dismiss the hang-up screen, as a person would
        phone.press("select")
        phone.wait_state("idle", STEP_TIMEOUT_S, marks[phone.name])
    return {
        "dialled": dialled,
        "rang": rang,
        "answered": answered,
        "in_call": {"alice": alice_in_call, "bob": bob_in_call},
        "cpu_percent": cpu,
        "wakeups_per_s": wakeups,
        "end_reasons": end_reasons,
        "memory_mib": memory,
        "sas": {
            p.name: next(
                (r.get("sas") or "" for _, r in reversed(p.records) if r.get("state") == "in_call"),
                "",
            )
            for p in (alice, bob)
        },
    }


def _call_back(caller: PhoneProcess, callee: PhoneProcess) -> bool:
    """The other direction: `caller` calls `callee`, which answers; both hang up. True when
    both reached the call (a skewed clock must not matter either way)."""
    marks = {p.name: p.mark for p in (caller, callee)}
    try:
        caller.press("select")  # the home screen shows the only contact: one press calls
        callee.wait_state("ringing", STEP_TIMEOUT_S, marks[callee.name])
        callee.press("select")
        for phone in (caller, callee):
            phone.wait_state("in_call", STEP_TIMEOUT_S, marks[phone.name])
    except DemoError:
        return False
    caller.press("select")
    for phone in (caller, callee):
        phone.wait_state("hangup", STEP_TIMEOUT_S, marks[phone.name])
        phone.press("select")
        phone.wait_state("idle", STEP_TIMEOUT_S, marks[phone.name])
    return True


def _summarise(
    timeline: dict[str, Any],
    logs: dict[str, list[Record]],
    screens: dict[str, list[list[str]]],
    said: dict[str, Path],
    out: Path,
    relay: dict[str, Any] | None = None,
    *,
    marks: bool = True,
) -> DemoResult:
    """`marks`: the recordings start at the phones' media marks (the WAV devices), so the
    marks give the offset between the talker's and the listener's device."""
    from demo.score import heard_fraction, score_call

    calls = {}
    for name, records in logs.items():
        if not records:
            raise DemoError(f"{name} logged no call statistics")
        calls[name] = records[-1]
    directions = []
    outages = [tuple(o) for o in (relay or {}).get("outages", [])]
    ways = {("alice", "bob"): A_TO_B, ("bob", "alice"): B_TO_A}
    for talker, listener in (("alice", "bob"), ("bob", "alice")):
        recording = out / f"{listener}_heard.wav"
        heard = calls[listener]["media"]
        starts = (calls[talker]["marks"], calls[listener]["marks"])
        offset_ms = None
        if marks and "media_started" in starts[0] and "media_started" in starts[1]:
            offset_ms = 1000.0 * (starts[1]["media_started"] - starts[0]["media_started"])
        # Bounded by the marks only where they time the recording: with real audio the
        # players and recorders start apart by a varying amount (unbounded search there).
        score = score_call(said[talker], recording, offset_ms)
        mouth_to_ear = mouth_to_ear_p50 = None
        if offset_ms is not None:
            mouth_to_ear = score.lag_ms + offset_ms
            if not math.isnan(score.lag_p50_ms):
                mouth_to_ear_p50 = score.lag_p50_ms + offset_ms
        way = (relay or {}).get(ways[(talker, listener)], {})
        reason = timeline["end_reasons"].get(listener, "")
        directions.append(
            Direction(
                talker=talker,
                listener=listener,
                frames_sent=calls[talker]["media"]["frames_sent"],
                frames_received=heard["received"],
                frames_concealed=heard["concealed"],
                frames_lost=heard["lost"],
                frames_late=heard["late"],
                jitter_buffer_ms=heard["current_delay_ms"],
                mouth_to_ear_ms=mouth_to_ear,
                pesq=score.mos,
                correlation=score.correlation,
                pesq_first_6s=None if math.isnan(score.mos_first) else score.mos_first,
                mouth_to_ear_p50_ms=mouth_to_ear_p50,
                heard_fraction=heard_fraction(
                    score.heard_s, heard["received"] * CodecParams().frame_s
                ),
                frames_stretched=heard.get("accelerated", 0) + heard.get("expanded", 0),
                frames_recovered=heard["fec_recovered"] + heard["redundancy_recovered"],
                survived=reason in SURVIVED_REASONS,
                end_reason=reason,
                relay=way,
                audio_back_ms=_audio_back_ms(
                    way.get("first_after_outage", []), calls[listener].get("resumed_heard", [])
                ),
            )
        )
    answered = timeline["answered"]
    first_heard = {
        name: 1000.0 * (call["marks"]["first_heard"] - answered)
        for name, call in calls.items()
        if call["marks"].get("first_heard") is not None
    }
    return DemoResult(
        ring_ms=1000.0 * (timeline["rang"] - timeline["dialled"]),
        answer_to_in_call_ms={n: 1000.0 * (t - answered) for n, t in timeline["in_call"].items()},
        answer_to_first_heard_ms=first_heard,
        sas={name: timeline["sas"].get(name) or calls[name].get("sas", "") for name in calls},
        directions=directions,
        recordings={name: out / f"{name}_heard.wav" for name in calls},
        cpu_percent=timeline["cpu_percent"],
        wakeups_per_s=timeline["wakeups_per_s"],
        rss_mib={n: m.get("rss_mib", 0.0) for n, m in timeline["memory_mib"].items()},
        peak_rss_mib={n: m.get("peak_rss_mib", 0.0) for n, m in timeline["memory_mib"].items()},
        screens=screens,
        devices={name: call.get("audio", {}) for name, call in calls.items()},
        path={name: call.get("path", "direct") for name, call in calls.items()},
        rtt_ms={name: call.get("rtt_ms") for name, call in calls.items()},
        impairment=str(relay["impairment"]) if relay else "direct",
        outages=outages,
    )


def _audio_back_ms(link_back: list[float | None], resumed: list[float]) -> list[float | None]:
    """For each outage: from the first datagram the relay let through after it to the
    first frame the listener played from the network after that (None: never)."""
    back = []
    for at in link_back:
        heard = [t for t in resumed if at is not None and t >= at]
        back.append(None if at is None or not heard else 1000.0 * (min(heard) - at))
    return back


def format_summary(result: DemoResult) -> str:
    lines = [
        "",
        "Call summary (alice called bob on loopback UDP"
        + ("" if result.impairment == "direct" else f"; impaired: {result.impairment}")
        + ")",
        f"  Select on alice -> ringing on bob:   {result.ring_ms:6.1f} ms",
        "  answer -> in call:                   "
        + ", ".join(f"{n} {v:.1f} ms" for n, v in result.answer_to_in_call_ms.items()),
        "  answer -> first audio frame heard:   "
        + ", ".join(f"{n} {v:.1f} ms" for n, v in result.answer_to_first_heard_ms.items()),
        "  code on screen (SAS):                "
        + ", ".join(f"{n} {s}" for n, s in result.sas.items())
        + ("  (match)" if result.sas_match else "  (MISMATCH: someone is in the middle)"),
        "  media path:                          "
        + ", ".join(f"{n} {p}" for n, p in result.path.items()),
    ]
    for d in result.directions:
        m2e = "n/a" if d.mouth_to_ear_ms is None else f"{d.mouth_to_ear_ms:.0f} ms"
        if d.mouth_to_ear_p50_ms is not None:
            m2e += f" (median over the call {d.mouth_to_ear_p50_ms:.0f} ms)"
        lines += [
            f"  {d.talker} -> {d.listener}:",
            f"    frames sent {d.frames_sent}, received {d.frames_received}, "
            f"concealed {d.frames_concealed}, lost {d.frames_lost}, late {d.frames_late}",
            f"    pipeline delay: jitter buffer {d.jitter_buffer_ms:.0f} ms; "
            f"mouth-to-ear (from the recording) {m2e}",
            f"    PESQ-WB of the whole call, what {d.listener} heard vs what {d.talker} said: "
            f"{d.pesq:.2f} ("
            + ("" if d.pesq_first_6s is None else f"first 6 s {d.pesq_first_6s:.2f}; ")
            + f"correlation {d.correlation:.2f})",
            f"    frames lost {d.frames_lost}, recovered {d.frames_recovered}, "
            f"concealed {d.frames_concealed}; "
            + ("call survived" if d.survived else "call did NOT survive")
            + f" ({d.listener}: {d.end_reason or '?'})",
        ]
        if d.relay:
            r = d.relay
            lines.append(
                f"    impairment relay: {r['received']} datagrams in, {r['lost']} lost, "
                f"{r['outage_dropped']} dropped in outages, {r['delivered']} delivered, "
                f"{r['kbit_per_s']:.1f} kbit/s on the wire"
            )
        for i, back in enumerate(d.audio_back_ms):
            when = "never" if back is None else f"{back:.0f} ms after the link"
            lines.append(f"    outage {i + 1}: audio back {when}")
    lines.append(
        "  CPU while talking (% of one core):   "
        + ", ".join(
            f"{n} {v:.1f} % ({result.wakeups_per_s.get(n, 0.0):.0f} thread wake-ups/s)"
            for n, v in result.cpu_percent.items()
        )
    )
    lines.append(
        "  resident memory while talking:       "
        + ", ".join(
            f"{n} {v:.0f} MiB (peak {result.peak_rss_mib.get(n, 0.0):.0f} MiB)"
            for n, v in result.rss_mib.items()
        )
    )
    lines.append(
        "  sound devices:                       "
        + "; ".join(
            f"{n} {d.get('input_overflows', 0)} input overflows, "
            f"{d.get('output_underruns', 0)} output underruns"
            for n, d in result.devices.items()
        )
    )
    if result.clock_skew_s:
        back = "connected" if result.call_back_ok else "FAILED"
        lines.append(
            f"  bob's clock off by {result.clock_skew_s:+.0f} s: alice -> bob connected, "
            f"bob -> alice {back}"
        )
    lines.append(f"  audio path: {result.audio_path}")
    lines.append("  recordings: " + ", ".join(str(path) for path in result.recordings.values()))
    return "\n".join(lines)
