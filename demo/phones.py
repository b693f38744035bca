"""Phone processes for the demo and the end-to-end tests: set up, spawn, drive, watch.

`make_phone_folder` writes one phone's folder (identity key, mode 0600, and a config that
pins the other phones at their loopback addresses). `PhoneProcess` runs
`main.py --config FOLDER/config.toml run --lcd stdio`, presses buttons by writing their
names to its stdin, and collects the JSON lines it prints (screens and state changes) with
the `time.monotonic()` at which each arrived; CLOCK_MONOTONIC is system-wide on Linux, so
these times compare with the marks the phones' call services log.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pysnac.errors import PysnacError

REPO = Path(__file__).resolve().parent.parent
QUIT_WAIT_S = 10.0
POLL_S = 0.05  # how often the call log is looked at while a phone starts
CALL_LOG_NAME = "calls.jsonl"
STDERR_NAME = "stderr.log"


class DemoError(PysnacError, RuntimeError):
    """The demo could not go on: a phone died or never reached a state; says which."""


@dataclass(frozen=True)
class PhoneSpec:
    name: str
    port: int
    public_key: bytes
    folder: Path


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A port that is free now (the phone binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def make_identity(folder: Path) -> bytes:
    """A fresh identity key in `folder`; returns its public key."""
    from pysnac.channel.identity import Identity

    identity = Identity.generate()
    identity.save(folder / "identity.key")
    return identity.signing_public


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def write_config(
    spec: PhoneSpec,
    peers: list[PhoneSpec],
    *,
    audio: str = "wav",
    input_wav: Path | None = None,
    output_wav: Path | None = None,
    pinned_keys: dict[str, bytes] | None = None,
    input_device: str = "default",
    output_device: str = "default",
    backends: tuple[str, ...] = ("static",),
    firebase_config: Path | None = None,
    frame_ms: int | None = None,
    bind: str = "127.0.0.1",
    network_lines: tuple[str, ...] = (),
    addresses: dict[str, tuple[str, int]] | None = None,
    peer_lost_s: float | None = None,
) -> Path:
    """The phone's config.toml; `frame_ms` sets the codec's frame (else its default);
    `pinned_keys` overrides a peer's key (a MITM test);
    `input_device`/`output_device` name pyaudio devices (e.g. the rig's `pysnac_mic_a`).
    The peers get their loopback address only when `backends` has "static" (else the
    rendezvous finds them: demo/rendezvous.py); `addresses` puts something else there
    for a peer (the impairment relay, demo/impair.py). `peer_lost_s` shortens how long a
    call rides out an outage (tests of "Call lost" that should not wait 30 s)."""
    from pysnac.contacts import encode_public_key

    lines = [
        "[device]",
        f"name = {toml_string(spec.name)}",
        'key_file = "identity.key"',
        "[network]",
        f"bind = {toml_string(bind)}",
        f"udp_port = {spec.port}",
        *network_lines,
        *([f"peer_lost_s = {peer_lost_s}"] if peer_lost_s is not None else []),
        "[audio]",
        f"driver = {toml_string(audio)}",
        f"input_wav = {toml_string(str(input_wav or ''))}",
        f"output_wav = {toml_string(str(output_wav or ''))}",
        f"input_device = {toml_string(input_device)}",
        f"output_device = {toml_string(output_device)}",
        "[lcd]",
        'driver = "headless"',
        "[rendezvous]",
        f"backends = {json.dumps(list(backends))}",
        f"firebase_config = {toml_string(str(firebase_config or ''))}",
    ]
    if frame_ms is not None:
        lines += ["[codec]", f"frame_ms = {frame_ms}"]
    for peer in peers:
        key = (pinned_keys or {}).get(peer.name, peer.public_key)
        lines += [
            "[[contacts]]",
            f"name = {toml_string(peer.name)}",
            f"public_key = {toml_string(encode_public_key(key))}",
        ]
        if "static" in backends:
            host, port = (addresses or {}).get(peer.name, ("127.0.0.1", peer.port))
            lines.append(f'address = "{host}:{port}"')
    path = spec.folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_phone_folder(root: Path, name: str) -> PhoneSpec:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    return PhoneSpec(name, free_udp_port(), make_identity(folder), folder)


Record = dict[str, Any]
KIB_PER_MIB = 1024


class PhoneProcess:
    """One running phone process, driven through its stdio LCD."""

    def __init__(
        self,
        spec: PhoneSpec,
        *,
        on_record: Callable[[PhoneProcess, float, Record], None] | None = None,
        extra_env: dict[str, str] | None = None,
        lcd: str = "stdio",
        prefix: tuple[str, ...] = (),
    ) -> None:
        """`lcd`: a kind that speaks the stdio protocol (stdio, plate-emulated);
        `prefix` runs the phone inside something (`ip netns exec NS`)."""
        self.spec = spec
        self.name = spec.name
        self.call_log = spec.folder / CALL_LOG_NAME
        self.records: list[tuple[float, Record]] = []
        self._on_record = on_record
        self._cond = threading.Condition()
        self._stderr = (spec.folder / STDERR_NAME).open("w", encoding="utf-8")
        env = {**os.environ, "PYSNAC_CALL_LOG": str(self.call_log), **(extra_env or {})}
        env.pop("PYSNAC_CONFIG", None)
        self.process = subprocess.Popen(
            [
                *prefix,
                sys.executable,
                str(REPO / "main.py"),
                "--config",
                str(spec.folder / "config.toml"),
                "run",
                "--lcd",
                lcd,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
            cwd=REPO,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, name=f"read-{self.name}", daemon=True)
        self._reader.start()

    # ---- driving ----------------------------------------------------------------------

    def press(self, button: str) -> float:
        """Press a button (select, up, down, left, right); the monotonic time of the press."""
        assert self.process.stdin is not None
        at = time.monotonic()
        try:
            self.process.stdin.write(button + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise DemoError(f"{self.name} is not running ({self.stderr_tail()})") from exc
        return at

    def wait_for(
        self, predicate: Callable[[Record], bool], timeout: float, start: int = 0, what: str = ""
    ) -> tuple[int, float, Record]:
        """The first record from index `start` that matches: (index, time, record)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            index = start
            while True:
                while index < len(self.records):
                    at, record = self.records[index]
                    if predicate(record):
                        return index, at, record
                    index += 1
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise DemoError(f"{self.name} exited: {self.stderr_tail()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DemoError(f"{self.name} never showed {what or 'the expected screen'}")
                self._cond.wait(remaining)

    def wait_state(self, state: str, timeout: float, start: int = 0) -> tuple[int, float, Record]:
        return self.wait_for(
            lambda r: r.get("type") == "state" and r.get("state") == state,
            timeout,
            start,
            what=f"state {state!r}",
        )

    @property
    def mark(self) -> int:
        """The index of the next record (wait for something newer than now)."""
        with self._cond:
            return len(self.records)

    def states(self) -> list[str]:
        with self._cond:
            return [r["state"] for _, r in self.records if r.get("type") == "state"]

    def screens(self) -> list[list[str]]:
        with self._cond:
            return [r["lines"] for _, r in self.records if r.get("type") == "screen"]

    def log_records(self) -> list[Record]:
        """What the phone's call service logged (PYSNAC_CALL_LOG)."""
        if not self.call_log.exists():
            return []
        lines = self.call_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def call_records(self) -> list[Record]:
        return [r for r in self.log_records() if r.get("event") == "call"]

    def media_starts(self) -> int:
        """How many calls' sound devices have opened so far (the call log says)."""
        return sum(1 for r in self.log_records() if r.get("event") == "media_started")

    def wait_media(self, timeout: float, before: int) -> None:
        """Until the call's sound device is open: InCall shows as soon as the keys are
        agreed, and the device opens on its own thread after that. `before` is
        `media_starts()` from before the call."""
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while self.media_starts() <= before:
            if self.process.poll() is not None:
                raise DemoError(f"{self.name} exited: {self.stderr_tail()}")
            if time.monotonic() > deadline:
                raise DemoError(f"{self.name}: its sound device never started")
            pause.wait(POLL_S)

    def wait_ready(self, timeout: float) -> None:
        """Until the phone shows a screen and its call service has loaded the media stack."""
        self.wait_for(lambda r: r.get("type") == "screen", timeout, what="a screen")
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while not any(r.get("event") == "preloaded" for r in self.log_records()):
            if self.process.poll() is not None:
                raise DemoError(f"{self.name} exited: {self.stderr_tail()}")
            if time.monotonic() > deadline:
                raise DemoError(
                    f"{self.name}: its call service did not come up ({self.stderr_tail()})"
                )
            pause.wait(POLL_S)

    # ---- ending -----------------------------------------------------------------------

    def quit(self) -> int:
        """Ask the phone to stop (`quit` on stdin); kill it if it will not."""
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write("quit\n")
                self.process.stdin.close()
            except (BrokenPipeError, ValueError, OSError):
                pass
            try:
                self.process.wait(QUIT_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(QUIT_WAIT_S)
        self._reader.join(QUIT_WAIT_S)
        self._stderr.close()
        return self.process.returncode

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wakeups(self) -> int:
        """Times the process's threads have gone to sleep and been woken so far (the sum of
        their voluntary context switches, Linux /proc); 0 when it has exited."""
        total = 0
        try:
            tasks = list(Path(f"/proc/{self.process.pid}/task").iterdir())
        except OSError:
            return 0
        for task in tasks:
            try:
                status = (task / "status").read_text()
            except OSError:  # the thread ended meanwhile
                continue
            for line in status.splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
        return total

    def memory_mib(self) -> dict[str, float]:
        """Resident memory now (`rss_mib`) and its peak so far (`peak_rss_mib`, the kernel's
        high-water mark), in MiB (Linux /proc); empty when the process has exited."""
        keys = {"VmRSS:": "rss_mib", "VmHWM:": "peak_rss_mib"}
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return {}
        return {
            keys[line.split()[0]]: int(line.split()[1]) / KIB_PER_MIB
            for line in status.splitlines()
            if line.split()[:1] and line.split()[0] in keys
        }

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to say goodbye."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(QUIT_WAIT_S)

    def stderr_tail(self, lines: int = 5) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        path = self.spec.folder / STDERR_NAME
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or f"exit status {self.process.poll()}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            at = time.monotonic()
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = {"type": "text", "text": line.rstrip("\n")}
            with self._cond:
                self.records.append((at, record))
                self._cond.notify_all()
            if self._on_record is not None:
                self._on_record(self, at, record)
        with self._cond:
            self._cond.notify_all()


def connect(caller: PhoneProcess, callee: PhoneProcess, timeout: float) -> None:
    """`caller` calls `callee`, its only contact (shown on the home screen: one press),
    which answers; both are then in a call with their sound devices running."""
    started = {phone.name: phone.media_starts() for phone in (caller, callee)}
    caller.press("select")
    callee.wait_state("ringing", timeout)
    callee.press("select")
    caller.wait_state("in_call", timeout)
    callee.wait_state("in_call", timeout)
    for phone in (caller, callee):
        phone.wait_media(timeout, started[phone.name])
