"""The systemd service (deploy/pysnac.service) and its sd_notify side.

The unit passes `systemd-analyze verify`; its command line, run the way systemd would run
it (as an unprivileged user, the unit's environment, a read-only config folder, a private
state folder, a notify socket and a watchdog period), says READY=1 once the Idle screen is
up, sends WATCHDOG=1 from its state-machine thread, takes a call from a second phone
process, keeps its state out of the config folder and stops cleanly on SIGTERM. The
power-off polkit rule grants the pysnac user power-off and nothing else.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import queue
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.phones import PhoneProcess, PhoneSpec, free_udp_port, make_identity, write_config
from pysnac.config import load_config, parse_config, state_dir_from_env
from pysnac.runtime.loop import StateMachineLoop
from pysnac.runtime.sd_notify import Notifier, watchdog_period_s
from pysnac_fsm import table

REPO = Path(__file__).resolve().parent.parent
UNIT = REPO / "deploy" / "pysnac.service"
POLKIT_RULE = REPO / "deploy" / "50-pysnac-poweroff.rules"
WAIT_S = 60.0  # two phone processes importing the media stack on a busy 2-core machine
WATCHDOG_USEC = 1_000_000  # the test's watchdog period: a ping every 0.5 s
WATCHDOG_PINGS_IN_CALL = 2
NOTIFY_FLOOD = 5000  # far more datagrams than a Unix socket queues for a reader


def read_unit(path: Path) -> dict[str, list[str]]:
    """`section.key` -> values, in order (keys like Environment= repeat)."""
    values: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        values.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return values


def the(unit: dict[str, list[str]], key: str) -> str:
    (value,) = unit[f"Service.{key}"]
    return value


# --- the unit ---------------------------------------------------------------------------


def test_unit_settings() -> None:
    unit = read_unit(UNIT)
    assert the(unit, "Type") == "notify"
    assert int(the(unit, "WatchdogSec")) > 0
    assert the(unit, "Restart") == "on-failure"
    assert the(unit, "User") == "pysnac"
    assert the(unit, "StateDirectory") == "pysnac"
    assert the(unit, "ConfigurationDirectory") == "pysnac"
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert the(unit, key) == "yes", key
    assert the(unit, "ProtectSystem") == "strict"
    assert the(unit, "CapabilityBoundingSet") == ""
    assert "PYSNAC_CONFIG=/etc/pysnac/config.toml" in unit["Service.Environment"]
    assert unit["Install.WantedBy"] == ["multi-user.target"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify checks that ExecStart's program exists: point it at this checkout's
    # (scripts/install-pi.sh verifies the installed unit as it is).
    text = UNIT.read_text(encoding="utf-8")
    text = text.replace("/opt/pysnac/venv/bin/python", sys.executable)
    text = text.replace("/opt/pysnac/app", str(REPO))
    unit = tmp_path / "pysnac.service"
    unit.write_text(text, encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "pysnac.service" not in done.stderr, done.stderr  # no warnings about our unit


# --- sd_notify --------------------------------------------------------------------------


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    folder = tempfile.mkdtemp(prefix="pysnac-notify-")
    path = os.path.join(folder, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(WAIT_S)
    os.chmod(folder, 0o755)
    os.chmod(path, 0o777)  # the unprivileged phone must be able to send to it
    try:
        yield sock, path
    finally:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_watchdog_period() -> None:
    assert watchdog_period_s({"WATCHDOG_USEC": "30000000"}, 7) == 30.0
    assert watchdog_period_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "7"}, 7) == 30.0
    assert watchdog_period_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "8"}, 7) is None
    assert watchdog_period_s({"WATCHDOG_USEC": "0"}, 7) is None
    assert watchdog_period_s({"WATCHDOG_USEC": "soon"}, 7) is None
    assert watchdog_period_s({}, 7) is None


def test_notifier_sends_ready_and_paces_the_watchdog(notify_socket) -> None:
    sock, path = notify_socket
    now = [100.0]
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}
    notifier = Notifier(env, monotonic=lambda: now[0])
    assert notifier.ping_interval_s == 1.0
    notifier.ready("alice: idle")
    assert sock.recv(256) == b"READY=1\nSTATUS=alice: idle"
    notifier.heartbeat()  # due at once
    notifier.heartbeat()  # not again within the interval
    now[0] += 0.99
    notifier.heartbeat()
    now[0] += 0.01
    notifier.heartbeat()
    notifier.stopping()
    received = [sock.recv(256) for _ in range(3)]
    assert received == [b"WATCHDOG=1", b"WATCHDOG=1", b"STOPPING=1"]
    notifier.close()


def test_a_notify_socket_nobody_reads_never_blocks_the_phone(notify_socket) -> None:
    _sock, path = notify_socket  # bound, never read: its queue fills after a few messages
    notifier = Notifier({"NOTIFY_SOCKET": path})
    sent = [notifier.send("WATCHDOG=1") for _ in range(NOTIFY_FLOOD)]
    assert sent[0] and not sent[-1]  # the first went; the rest were dropped, not waited on
    notifier.close()


def test_notifier_speaks_to_abstract_sockets() -> None:
    name = f"pysnac-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(WAIT_S)
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        notifier.ready()
        assert sock.recv(64) == b"READY=1"
        notifier.close()


def test_notifier_without_systemd_does_nothing() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and notifier.ping_interval_s is None
    notifier.ready()
    notifier.heartbeat()
    notifier.stopping()
    assert not notifier.send("WATCHDOG=1")


def test_a_vanished_notify_socket_never_stops_the_phone(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock"), "WATCHDOG_USEC": "10"})
    notifier.ready()
    notifier.heartbeat()
    assert not notifier.send("WATCHDOG=1")


class _Quiet:
    """The least a loop needs from model, LCD and timers to idle."""

    state = "idle"
    service = None

    def cancel_all(self) -> None: ...


def test_the_state_machine_thread_beats_while_idle() -> None:
    beats = threading.Semaphore(0)
    quiet = _Quiet()
    loop = StateMachineLoop(quiet, lcd=None, timers=quiet)  # type: ignore[arg-type]
    loop.heartbeat, loop.heartbeat_s = beats.release, 0.01
    loop.render = lambda now: None  # type: ignore[method-assign]
    loop.start()
    try:
        assert all(beats.acquire(timeout=WAIT_S) for _ in range(3))  # no event was posted
    finally:
        loop.stop()


# --- config and state folders --------------------------------------------------------------


def test_state_folder_comes_from_the_environment(tmp_path: Path) -> None:
    assert state_dir_from_env({}) is None
    assert state_dir_from_env({"STATE_DIRECTORY": "/var/lib/pysnac:/var/lib/x"}) == Path(
        "/var/lib/pysnac"
    )
    both = {"STATE_DIRECTORY": "/var/lib/pysnac", "PYSNAC_STATE_DIR": str(tmp_path)}
    assert state_dir_from_env(both) == tmp_path


def test_the_key_is_relative_to_the_state_folder(tmp_path: Path) -> None:
    config_path = tmp_path / "etc" / "config.toml"
    text = '[device]\nkey_file = "identity.key"\n'
    in_state = parse_config(config_path, text, tmp_path / "state")
    assert in_state.device.key_file == tmp_path / "state" / "identity.key"
    assert in_state.state_folder == tmp_path / "state"
    beside = parse_config(config_path, text)
    assert beside.device.key_file == tmp_path / "etc" / "identity.key"
    assert beside.state_folder == tmp_path / "etc"
    absolute = parse_config(config_path, '[device]\nkey_file = "/k/id.key"\n', tmp_path)
    assert absolute.device.key_file == Path("/k/id.key")


def test_load_config_reads_the_state_folder_from_the_environment(tmp_path, monkeypatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    monkeypatch.delenv("PYSNAC_STATE_DIR", raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    assert load_config(path).device.key_file == tmp_path / "state" / "identity.key"


# --- the unit's command line, run as the service would be ----------------------------------


class ServiceUser:
    """An unprivileged user to run the phone as: a fresh system user when we are root
    (removed afterwards), else ourselves (already unprivileged)."""

    def __init__(self) -> None:
        self.created = os.geteuid() == 0
        if self.created:
            self.name = f"pysnac-t{os.getpid()}"
            subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                 "/nonexistent", "--shell", "/usr/sbin/nologin", self.name],
                check=True, capture_output=True, timeout=30,
            )  # fmt: skip
        else:
            self.name = pwd.getpwuid(os.geteuid()).pw_name
        entry = pwd.getpwnam(self.name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def remove(self) -> None:
        if self.created:
            subprocess.run(["userdel", self.name], capture_output=True, timeout=30)
            try:
                grp.getgrnam(self.name)
                subprocess.run(["groupdel", self.name], capture_output=True, timeout=30)
            except KeyError:
                pass


def interpreter_for(user: ServiceUser) -> tuple[str, dict[str, str]]:
    """This venv's Python when `user` may run it; else the system's Python of the same
    version with this venv's packages on PYTHONPATH (a venv built on a Python under a
    private home folder cannot be run by another user)."""
    try:
        subprocess.run(
            [sys.executable, "-c", "pass"], user=user.uid, group=user.gid, extra_groups=[],
            check=True, capture_output=True, timeout=WAIT_S,
        )  # fmt: skip
        return sys.executable, {}
    except (PermissionError, subprocess.CalledProcessError):
        system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
        if not os.access(system, os.X_OK):
            pytest.skip(f"no Python the unprivileged user {user.name} may run")
        return system, {"PYTHONPATH": sysconfig.get_paths()["purelib"]}


def service_command(
    unit: dict[str, list[str]], config_dir: Path, state_dir: Path, python: str
) -> tuple[list[str], dict[str, str]]:
    """ExecStart and the environment systemd would give it, with the unit's paths moved
    to this checkout and the test's folders."""
    moves = [
        ("/opt/pysnac/venv/bin/python", python),
        ("/opt/pysnac/app", str(REPO)),
        ("/etc/pysnac", str(config_dir)),
        ("/var/lib/pysnac", str(state_dir)),
    ]

    def move(text: str) -> str:
        for old, new in moves:
            text = text.replace(old, new)
        return text

    command = [move(word) for word in shlex.split(the(unit, "ExecStart"))]
    env = dict(
        move(assignment).split("=", 1)
        for line in unit["Service.Environment"]
        for assignment in shlex.split(line)
    )
    return command, env


class ServiceProcess:
    """The phone as the service runs it; its LCD is `stdio` (set in its config)."""

    def __init__(self, command: list[str], env: dict[str, str], user: ServiceUser, cwd: Path):
        self.records: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []
        self.process = subprocess.Popen(
            command, env=env, cwd=cwd, user=user.uid, group=user.gid, extra_groups=[],
            umask=0o077, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.records.put(json.loads(line))
            except json.JSONDecodeError:
                continue

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self.stderr.extend(self.process.stderr)

    def journal(self) -> str:
        """Everything it logged (systemd sends stderr to the journal), once it has exited."""
        self._stderr_reader.join(WAIT_S)
        return "".join(self.stderr)

    def press(self, button: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(button + "\n")
        self.process.stdin.flush()

    def wait_state(self, state: str, source: str | None = None) -> dict:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                record = self.records.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                ours = [line for line in self.stderr if "transitions.core" not in line]
                tail = "".join(ours[-20:])
                raise AssertionError(f"the service never showed {state!r}: {tail}") from None
            self.seen.append(record)
            if (record.get("type"), record.get("state")) == ("state", state) and (
                source is None or record.get("from") == source
            ):
                return record


class NotifyListener:
    """Reads the notify socket as systemd does: at once, on its own thread."""

    def __init__(self, sock: socket.socket) -> None:
        self.messages: queue.Queue[str] = queue.Queue()
        self._sock = sock
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                self.messages.put(self._sock.recv(4096).decode())
            except TimeoutError:
                continue
            except OSError:  # closed: the test is over
                return

    def drain(self) -> None:
        while not self.messages.empty():
            self.messages.get_nowait()

    def receive(self, wanted: str) -> list[str]:
        """Messages up to and including the first that holds the line `wanted`."""
        got = []
        while True:
            try:
                message = self.messages.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError(f"no {wanted} from the phone; got {got}") from None
            got.append(message)
            if wanted in message.split("\n"):
                return got


@pytest.mark.slow
def test_the_units_command_line_takes_a_call(notify_socket) -> None:
    sock, notify_path = notify_socket
    notify = NotifyListener(sock)
    unit = read_unit(UNIT)
    user = ServiceUser()
    root = Path(tempfile.mkdtemp(prefix="pysnac-service-"))
    os.chmod(root, 0o755)
    service = bob = None
    try:
        # systemd's folders: config owned by root, readable by the service's group only;
        # state owned by the service user, private.
        config_dir, state_dir = root / "etc-pysnac", root / "var-lib-pysnac"
        config_dir.mkdir(mode=0o755)
        state_dir.mkdir(mode=0o700)
        phone = PhoneSpec("pi", free_udp_port(), make_identity(state_dir), config_dir)
        bob_folder = root / "bob"
        bob_folder.mkdir()
        bob_spec = PhoneSpec("bob", free_udp_port(), make_identity(bob_folder), bob_folder)
        config = write_config(phone, [bob_spec], audio="silence")
        config.write_text(
            config.read_text().replace('driver = "headless"', 'driver = "stdio"'), "utf-8"
        )
        write_config(bob_spec, [phone], audio="silence")
        os.chown(state_dir / "identity.key", user.uid, user.gid)
        os.chown(state_dir, user.uid, user.gid)
        os.chown(config, os.geteuid(), user.gid)
        os.chmod(config, 0o640)
        if not user.created:
            os.chmod(config_dir, 0o555)  # we own it: read-only by mode instead

        python, python_env = interpreter_for(user)
        command, unit_env = service_command(unit, config_dir, state_dir, python)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(state_dir),
            "USER": user.name,
            "LOGNAME": user.name,
            "LANG": "C.UTF-8",
            "STATE_DIRECTORY": str(state_dir),
            "CONFIGURATION_DIRECTORY": str(config_dir),
            "NOTIFY_SOCKET": notify_path,
            "WATCHDOG_USEC": str(WATCHDOG_USEC),
            **python_env,
            **unit_env,
        }
        assert env["PYSNAC_CONFIG"] == str(config)
        cwd = Path(the(unit, "WorkingDirectory").replace("/var/lib/pysnac", str(state_dir)))
        service = ServiceProcess(command, env, user, cwd)
        notify.receive("READY=1")  # the Idle screen is up

        bob = PhoneProcess(bob_spec)
        bob.wait_ready(WAIT_S)
        bob.press("select")  # the home screen dials its only contact: the service
        service.wait_state("ringing")
        service.press("select")
        service.wait_state("in_call")
        bob.wait_state("in_call", WAIT_S)
        notify.drain()  # pings sent before the call
        pings = 0
        while pings < WATCHDOG_PINGS_IN_CALL:  # the state-machine thread beats in a call too
            pings += len([m for m in notify.receive("WATCHDOG=1") if m == "WATCHDOG=1"])
        bob.press("select")  # hang up
        ended = service.wait_state(table.HANGUP, source="in_call")
        assert ended["peer"] == "bob"
        assert ended["link"]["frames_received"] > 0, ended

        service.process.send_signal(signal.SIGTERM)  # systemctl stop
        assert service.process.wait(WAIT_S) == 0, "".join(service.stderr[-5:])
        notify.receive("STOPPING=1")
        journal = service.journal()
        assert '"from": "in_call", "state": "hangup"' in journal  # one line per state change
        assert "transitions.core" not in journal  # not several more per callback

        assert sorted(p.name for p in config_dir.iterdir()) == ["config.toml"]
        written = {p.name: p for p in state_dir.iterdir()}
        assert "identity.key" in written and "history.json" in written, sorted(written)
        for path in written.values():
            assert path.stat().st_uid == user.uid, path  # written by the service user
        assert (state_dir / "identity.key").stat().st_mode & 0o077 == 0
        assert state_dir.stat().st_mode & 0o077 == 0  # StateDirectoryMode=0700
        history = json.loads((state_dir / "history.json").read_text())
        assert history and "bob" in json.dumps(history)
    except AssertionError as exc:
        if bob is None:
            raise
        states = [r for _, r in bob.records if r.get("type") == "state"]
        raise AssertionError(f"{exc}\nbob: {states} {bob.stderr_tail(30)}") from None
    finally:
        if service is not None and service.process.poll() is None:
            service.process.kill()
            service.process.wait(WAIT_S)
        if bob is not None:
            bob.quit()
        user.remove()
        shutil.rmtree(root, ignore_errors=True)


# --- power off ----------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("node") is None, reason="node (to run the polkit rule) absent")
def test_the_polkit_rule_allows_power_off_for_pysnac_only() -> None:
    harness = """
    const rules = [];
    const polkit = {Result: {YES: "yes", NO: "no", NOT_HANDLED: null},
                    addRule: (rule) => rules.push(rule)};
    eval(require("fs").readFileSync(process.argv[1], "utf8"));
    const ask = (id, user) => rules.map((rule) => rule({id}, {user})).find((r) => r) ?? null;
    console.log(JSON.stringify([
      ask("org.freedesktop.login1.power-off", "pysnac"),
      ask("org.freedesktop.login1.power-off-multiple-sessions", "pysnac"),
      ask("org.freedesktop.login1.reboot", "pysnac"),
      ask("org.freedesktop.login1.power-off-ignore-inhibit", "pysnac"),
      ask("org.freedesktop.systemd1.manage-units", "pysnac"),
      ask("org.freedesktop.login1.power-off", "mallory"),
    ]));
    """
    done = subprocess.run(
        ["node", "-e", harness, str(POLKIT_RULE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["yes", "yes", None, None, None, None]


def test_a_config_error_is_not_restarted(tmp_path: Path) -> None:
    """A bad config exits with the status the unit does not restart on, in one line."""
    unit = read_unit(UNIT)
    (tmp_path / "config.toml").write_text("[device]\nname = 5\n", encoding="utf-8")
    command, unit_env = service_command(unit, tmp_path, tmp_path / "state", sys.executable)
    done = subprocess.run(
        command, env={**os.environ, **unit_env}, capture_output=True, text=True, timeout=WAIT_S
    )
    assert str(done.returncode) in the(unit, "RestartPreventExitStatus").split()
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "device.name" in done.stderr


def test_whoami_reads_the_key_from_the_state_folder(tmp_path, monkeypatch) -> None:
    import argparse

    from pysnac.cli.resolve import key_path

    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    config.write_text("", encoding="utf-8")
    monkeypatch.delenv("PYSNAC_STATE_DIR", raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    assert key_path(argparse.Namespace(config=str(config))) == tmp_path / "identity.key"
    monkeypatch.delenv("STATE_DIRECTORY")
    assert key_path(argparse.Namespace(config=str(config))) == tmp_path / "etc" / "identity.key"


def test_the_installers_default_config_names_the_usb_card(tmp_path: Path) -> None:
    """scripts/install-pi.sh writes /etc/pysnac/config.toml once, from the default config
    with the sound devices set to the USB card; run its snippet against this checkout."""
    script = (REPO / "scripts" / "install-pi.sh").read_text(encoding="utf-8")
    snippet = script.split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0]
    path = tmp_path / "config.toml"
    done = subprocess.run(
        [sys.executable, "-", str(path), "USB Audio"],
        input=snippet, text=True, capture_output=True, cwd=REPO, timeout=WAIT_S,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = load_config(path, state_dir=tmp_path / "state")
    assert (config.audio.input_device, config.audio.output_device) == ("USB Audio", "USB Audio")
    assert config.device.key_file == tmp_path / "state" / "identity.key"
    assert "# " in path.read_text(encoding="utf-8")  # the commented default
