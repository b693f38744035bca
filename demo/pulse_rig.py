"""A private PulseAudio sound server with virtual microphones and speakers, for tests and demos.

This machine has no sound card, but PulseAudio null sinks give PortAudio a real-time audio
path (recipe measured on a machine with no sound card). `PulseRig` starts a PRIVATE server (its own
XDG_RUNTIME_DIR and HOME under a temporary folder, anonymous auth on a unix socket) with one
null sink per virtual device: `spk_a`, `spk_b` (what each phone plays) and `mic_a`, `mic_b`
(what a test plays into each phone's microphone; the phone reads `mic_a.monitor`).

Each phone also has its own server socket (`phone_a.native`, `phone_b.native`), so a test can
`unplug("a")` -- drop phone a's connection, as when a USB sound card is pulled -- without
touching phone b or the rig. (Unloading a null sink does NOT fail a stream: PulseAudio
moves its streams to another device.)

Two ways for a phone to reach its devices:
- environment (`env_for("a")`): PULSE_SERVER, PULSE_SOURCE, PULSE_SINK for a child process
  whose ALSA `default` PCM goes through the pulse plugin;
- named ALSA PCMs (`pysnac_mic_a`, `pysnac_spk_a`, ...; see alsa_pcms.py) in a private
  config that carries the server address, so ONE process can open both phones' devices
  (ALSA_CONFIG_PATH, set in `env_for` and, in-process, by `activate_alsa_config()`).

A null sink with no low-latency reader renders in 2 s blocks, so the first stream could
stall for up to 2 s: one `parec --latency-msec` reader per sink, started with the server,
keeps every sink ticking in small blocks. The server is up when `pactl info` answers
(polled with a deadline, never a fixed sleep). `stop()` is idempotent and also runs at
interpreter exit. `reuse_running=True` loads the sinks into an already running server
(a Raspberry Pi desktop runs PipeWire's PulseAudio bridge) and unloads only those.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from drivers.audio import alsa_pcms
from pysnac.errors import PysnacError

SAMPLE_RATE_HZ = 48000
SINKS = ("spk_a", "spk_b", "mic_a", "mic_b")
PHONES = ("a", "b")
START_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.05
STOP_TIMEOUT_S = 5.0
PACTL_TIMEOUT_S = 5.0
KEEPALIVE_READER_LATENCY_MS = 20


def _dies_with_us(command: list[str]) -> list[str]:
    """Run `command` so the kernel kills it when the thread that started it dies: atexit
    stops the rig on a normal exit, and this covers a crash, SIGKILL or timeout, so no
    private sound server outlives its tests (util-linux setpriv; PR_SET_PDEATHSIG). Start
    a rig from a thread that lives as long as the rig (the main thread, a fixture)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *command] if setpriv else command


class PulseRigError(PysnacError, RuntimeError):
    """The private sound server could not be started or driven."""


@dataclass
class _Recording:
    """A running `parec` that writes a WAV file; `stop()` finalises the file."""

    process: subprocess.Popen[bytes]
    path: Path

    def stop(self) -> Path:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # pacat closes the WAV header cleanly
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.path


@dataclass
class PulseRig:
    """A private (or reused) PulseAudio server with the phones' virtual devices."""

    root: Path | None = None
    reuse_running: bool = False
    sinks: tuple[str, ...] = SINKS
    _server: str = ""
    _daemon: subprocess.Popen[bytes] | None = None
    _helpers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _modules: list[str] = field(default_factory=list)
    _phone_modules: dict[str, str] = field(default_factory=dict)
    _own_root: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _started: bool = False

    # ---- lifecycle ---------------------------------------------------------------------

    def start(self) -> PulseRig:
        """Start the server (or attach to a running one), create the sinks, wait until ready."""
        with self._lock:
            if self._started:
                return self
            if self.root is None:
                self.root = Path(tempfile.mkdtemp(prefix="pysnac-pulse-"))
                self._own_root = True
            self.root.mkdir(parents=True, exist_ok=True)
            self._started = True
            atexit.register(self.stop)
            try:
                if self.reuse_running and self._running_server() is not None:
                    self._server = self._running_server() or ""
                    for sink in self.sinks:
                        self._modules.append(self._load_null_sink(sink))
                else:
                    self._start_private()
                for phone in PHONES:
                    self.replug(phone)
                self._write_alsa_config()
                for sink in self.sinks:
                    self._helpers.append(self._keepalive_reader(sink))
                self._wait_readers_connected()
                self._restart_sink_clocks()
            except BaseException:
                self._stop_locked()
                raise
            return self

    def stop(self) -> None:
        """Stop the helpers and the private server; idempotent, safe at interpreter exit."""
        with self._lock:
            self._stop_locked()

    def __enter__(self) -> PulseRig:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def server(self) -> str:
        """The PULSE_SERVER address clients use."""
        return self._server

    @property
    def alsa_config(self) -> Path:
        assert self.root is not None
        return self.root / "asound.conf"

    @property
    def running(self) -> bool:
        return self._started and (self._daemon is None or self._daemon.poll() is None)

    # ---- what a phone or a test uses --------------------------------------------------

    def env_for(self, phone: str) -> dict[str, str]:
        """Environment for phone `phone` ("a" or "b"): its mic and speaker through pulse."""
        if phone not in PHONES:
            raise ValueError(f"phone must be one of {PHONES}, not {phone!r}")
        env = self.client_env()
        env["PULSE_SERVER"] = self.phone_server(phone)
        env["PULSE_SOURCE"] = f"mic_{phone}.monitor"
        env["PULSE_SINK"] = f"spk_{phone}"
        return env

    def client_env(self) -> dict[str, str]:
        """Environment any client of this server needs (no device choice)."""
        env = {
            "PULSE_SERVER": self._server,
            "ALSA_CONFIG_PATH": alsa_pcms.config_search_path(self.alsa_config),
        }
        return env

    def phone_server(self, phone: str) -> str:
        """The server address phone `phone` uses (its own socket, so it can be unplugged)."""
        if phone not in self._phone_modules:
            return self._server
        return f"unix:{self._phone_socket(phone)}"

    def unplug(self, phone: str) -> None:
        """Drop every stream phone `phone` has open, like pulling its USB sound card."""
        module = self._phone_modules.pop(phone, None)
        if module is None:
            raise PulseRigError(f"phone {phone} is not plugged in")
        self.pactl("unload-module", module)

    def replug(self, phone: str) -> None:
        """Give phone `phone` its own server socket again (after `unplug`)."""
        if phone in self._phone_modules:
            return
        socket_path = self._phone_socket(phone)
        socket_path.unlink(missing_ok=True)
        try:
            module = self.pactl(
                "load-module",
                "module-native-protocol-unix",
                "auth-anonymous=1",
                f"socket={socket_path}",
            ).strip()
        except PulseRigError:
            if self._daemon is not None:
                raise
            return  # a reused server that refuses extra sockets: phones share its socket
        self._phone_modules[phone] = module
        self._modules.append(module)

    def _phone_socket(self, phone: str) -> Path:
        assert self.root is not None
        return self.root / f"phone_{phone}.native"

    @staticmethod
    def device_names(phone: str) -> tuple[str, str]:
        """The (input, output) ALSA PCM names of phone `phone` for `AudioParams`."""
        return alsa_pcms.device_names(phone)

    @staticmethod
    def tester_names(phone: str) -> tuple[str, str]:
        """The (mouth, ear) ALSA PCM names a test uses to speak to and hear phone `phone`."""
        return alsa_pcms.tester_names(phone)

    def activate_alsa_config(self) -> None:
        """Make THIS process see the rig's PCMs; call before PyAudio() is created."""
        os.environ.update(self.client_env())

    def play_into(self, sink: str, wav: Path) -> subprocess.Popen[bytes]:
        """Play a WAV file into `sink` (e.g. "mic_a"); the caller waits on the process."""
        return subprocess.Popen(
            _dies_with_us(["paplay", "-d", sink, str(wav)]),
            env=self._tool_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def record(self, sink: str, out: Path, latency_ms: int = 20) -> _Recording:
        """Record what is played into `sink` (e.g. "spk_b") to a 48 kHz mono WAV file."""
        process = subprocess.Popen(
            _dies_with_us(
                [
                    "parec",
                    "-d",
                    f"{sink}.monitor",
                    f"--latency-msec={latency_ms}",
                    "--file-format=wav",
                    f"--rate={SAMPLE_RATE_HZ}",
                    "--channels=1",
                    "--format=s16le",
                    str(out),
                ]
            ),
            env=self._tool_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return _Recording(process, out)

    def pactl(self, *args: str) -> str:
        """Run `pactl` against this server; raises PulseRigError on failure."""
        result = subprocess.run(
            ["pactl", *args],
            env=self._tool_env(),
            capture_output=True,
            text=True,
            timeout=PACTL_TIMEOUT_S,
        )
        if result.returncode != 0:
            raise PulseRigError(f"pactl {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def unload_sink(self, sink: str) -> None:
        """Remove a virtual device, as if its USB sound card were unplugged."""
        for line in self.pactl("list", "short", "modules").splitlines():
            parts = line.split("\t")
            if (
                len(parts) >= 3
                and parts[1] == "module-null-sink"
                and f"sink_name={sink} " in (parts[2] + " ")
            ):
                self.pactl("unload-module", parts[0])
                return
        raise PulseRigError(f"no null sink named {sink}")

    def load_sink(self, sink: str) -> None:
        """(Re)create a virtual device removed by `unload_sink`."""
        self._modules.append(self._load_null_sink(sink))
        self.pactl("suspend-sink", sink, "1")
        self.pactl("suspend-sink", sink, "0")

    # ---- internals ---------------------------------------------------------------------

    def _tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.client_env())
        if self.root is not None and self._daemon is not None:
            env["HOME"] = str(self.root / "home")
            env["XDG_RUNTIME_DIR"] = str(self.root / "runtime")
        return env

    def _running_server(self) -> str | None:
        """The address of a server the current environment already reaches, if any."""
        if shutil.which("pactl") is None:
            return None
        try:
            result = subprocess.run(
                ["pactl", "info"], capture_output=True, text=True, timeout=PACTL_TIMEOUT_S
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if result.returncode != 0:
            return None
        for line in result.stdout.splitlines():
            if line.startswith("Server String:"):
                address = line.split(":", 1)[1].strip()
                return address if ":" in address else f"unix:{address}"
        return None

    def _start_private(self) -> None:
        if shutil.which("pulseaudio") is None:
            raise PulseRigError("the pulseaudio binary is missing: apt-get install pulseaudio")
        assert self.root is not None
        runtime = self.root / "runtime"
        home = self.root / "home"
        for folder in (runtime, home):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        socket_path = runtime / "pulse" / "native"
        self._server = f"unix:{socket_path}"
        script = self.root / "rig.pa"
        lines = [f"load-module module-native-protocol-unix auth-anonymous=1 socket={socket_path}"]
        lines += [self._null_sink_args(sink) for sink in self.sinks]
        script.write_text("\n".join(f"{line}" for line in lines) + "\n")
        (runtime / "pulse").mkdir(mode=0o700, exist_ok=True)
        env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HOME=str(home))
        for inherited in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "PULSE_SINK", "PULSE_SOURCE"):
            env.pop(inherited, None)  # e.g. another rig's, activated in this process
        self._daemon = subprocess.Popen(
            _dies_with_us(
                [
                    "pulseaudio",
                    "--daemonize=no",
                    "-n",
                    "-F",
                    str(script),
                    "--exit-idle-time=-1",
                    "--use-pid-file=no",
                    "--disallow-exit",
                    f"--log-target=file:{self.root / 'pulse.log'}",
                ]
            ),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self._daemon is not None
            if self._daemon.poll() is not None:
                raise PulseRigError(f"pulseaudio exited at start: {self._log_tail()}")
            result = subprocess.run(
                ["pactl", "info"],
                env=self._tool_env(),
                capture_output=True,
                timeout=PACTL_TIMEOUT_S,
            )
            if result.returncode == 0:
                return
            if time.monotonic() >= deadline:
                raise PulseRigError(
                    f"pulseaudio not ready after {START_TIMEOUT_S} s: {self._log_tail()}"
                )
            # Polling a child we cannot wait on for readiness; not a test synchronisation.
            time.sleep(POLL_INTERVAL_S)

    def _log_tail(self) -> str:
        assert self.root is not None
        try:
            lines = (self.root / "pulse.log").read_text(errors="replace").splitlines()
        except OSError:
            return "no log"
        errors = [line for line in lines if line.startswith("E:")]
        return " | ".join((errors or lines)[-3:]) or "empty log"

    @staticmethod
    def _null_sink_args(sink: str) -> str:
        return (
            f"load-module module-null-sink sink_name={sink} rate={SAMPLE_RATE_HZ} channels=1 "
            f"format=s16le sink_properties=device.description={sink}"
        )

    def _load_null_sink(self, sink: str) -> str:
        args = self._null_sink_args(sink).split()  # "load-module module-null-sink ..."
        return self.pactl(*args).strip()

    def _keepalive_reader(self, sink: str) -> subprocess.Popen[bytes]:
        """A low-latency reader that stops the null sink rendering in 2 s blocks."""
        return subprocess.Popen(
            _dies_with_us(
                [
                    "parec",
                    "-d",
                    f"{sink}.monitor",
                    f"--latency-msec={KEEPALIVE_READER_LATENCY_MS}",
                    "--raw",
                ]
            ),
            env=self._tool_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _wait_readers_connected(self) -> None:
        """The keepalive readers must be attached before a phone opens a stream."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(self.pactl("list", "short", "source-outputs").splitlines()) < len(self.sinks):
            if time.monotonic() >= deadline:
                raise PulseRigError("the keepalive parec readers did not connect")
            time.sleep(POLL_INTERVAL_S)

    def _restart_sink_clocks(self) -> None:
        """A new null sink renders in 2 s blocks until its current block ends, even with a
        low-latency reader attached: suspending and resuming restarts its timer at the
        readers' latency, so the first phone stream does not stall ~2 s."""
        for sink in self.sinks:
            self.pactl("suspend-sink", sink, "1")
            self.pactl("suspend-sink", sink, "0")

    def _write_alsa_config(self) -> None:
        alsa_pcms.write_config(self.alsa_config, {p: self.phone_server(p) for p in PHONES})

    def _stop_locked(self) -> None:
        if not self._started:
            return
        self._started = False
        for helper in self._helpers:
            _terminate(helper)
        self._helpers.clear()
        if self._daemon is None:
            for module in reversed(self._modules):
                with contextlib.suppress(PulseRigError, OSError, subprocess.TimeoutExpired):
                    self.pactl("unload-module", module)
        else:
            _terminate(self._daemon)
            self._daemon = None
        self._modules.clear()
        self._phone_modules.clear()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
            self._own_root = False


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
