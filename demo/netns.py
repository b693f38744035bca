"""Two homes and an internet in network namespaces: the rig for NAT-traversal demos, tests
and benches (root only).

`NetRig(alice="nat", bob="symmetric-nat")` is a context manager. Entering it builds five
namespaces, named with this process's id and a counter so parallel runs never collide:

    alice (10.0.1.2) -- router A (10.0.1.1 | 198.18.0.2) --+
                                                            +-- internet 198.18.0.1: coturn
    bob   (10.0.2.2) -- router B (10.0.2.1 | 198.18.0.3) --+    (STUN + TURN) and the directory

Each router is one of `HOME_KINDS`:
- `open`: routes the home's addresses unchanged (no NAT, no firewall);
- `nat`: nftables `masquerade` (endpoint-independent mapping) plus a drop of unsolicited
  new inbound connections, as home routers do; simultaneous sends punch through. The drop
  is in the input chain too: a datagram to the router's own address that the router
  accepted would make conntrack move the next outbound mapping to another port;
- `symmetric-nat`: `masquerade random,fully-random`, a new port per destination: only the
  relay can work;
- `udp-blocked`: like `nat`, and UDP to anything but the TURN server is dropped: relay only.

The internet runs coturn (`turnserver`, long-term credentials on a private test realm, one
user per phone) and, with `directory=True` in `start_directory`, the Firebase protocol test
server. Leaving the context (also on an exception or Ctrl-C) kills every process started in
the rig and deletes every namespace (which removes their veth links).

`run_in(namespace, fn)` runs `fn` on a thread that entered the namespace (setns(2) is per
thread), so this process can open sockets there; `spawn(namespace, argv)` starts a process
in it.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pysnac.errors import PysnacError

HOME_KINDS = ("open", "nat", "symmetric-nat", "udp-blocked")
INTERNET_IP = "198.18.0.1"  # RFC 2544 benchmarking range: never a real internet address
INTERNET_IP2 = "198.18.0.4"  # coturn's second address: a second STUN server (mapping tests)
INTERNET_PREFIX = 24
ROUTER_WAN_IPS = {"alice": "198.18.0.2", "bob": "198.18.0.3"}
HOME_SUBNETS = {"alice": "10.0.1", "bob": "10.0.2"}  # .1 the router, .2 the phone
TURN_PORT = 3478  # RFC 8489 section 18.6 default
TURN_REALM = "pysnac.test"
TURN_RELAY_PORTS = (49160, 49260)  # coturn's relay port range in the rig
STUN_READY_S = 10.0  # coturn answers a binding request within this
STUN_PROBE_S = 0.2
COMMAND_TIMEOUT_S = 10.0
KILL_WAIT_S = 5.0
CLONE_NEWNET = 0x40000000  # <sched.h>

_counter = itertools.count()
T = TypeVar("T")


class RigError(PysnacError, RuntimeError):
    """The rig could not be built (not root, a tool missing, a command failed)."""


def missing_requirements() -> str | None:
    """Why the rig cannot be built here (one line), or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables)"
    for tool in ("ip", "nft", "turnserver"):
        if shutil.which(tool) is None:
            package = {"ip": "iproute2", "nft": "nftables", "turnserver": "coturn"}[tool]
            return f"needs {tool} (Debian package {package}; scripts/setup.sh installs it)"
    return None


def run_in(namespace: str, fn: Callable[[], T]) -> T:
    """`fn()` on a thread inside `namespace`; sockets it opens stay in that namespace."""
    result: list[Any] = []

    def enter_and_run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(f"/run/netns/{namespace}", "rb") as handle:
                if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                    raise RigError(f"setns {namespace}: {os.strerror(ctypes.get_errno())}")
            result.append((True, fn()))
        except BaseException as exc:  # handed to the caller's thread
            result.append((False, exc))

    thread = threading.Thread(target=enter_and_run, name=f"netns-{namespace}")
    thread.start()
    thread.join()
    ok, value = result[0]
    if not ok:
        raise value
    return value


def stun_binding(server: tuple[str, int], timeout_s: float, sock: socket.socket) -> tuple[str, int]:
    """One STUN binding request (RFC 8489 section 6) from `sock`; the mapped address."""
    transaction = secrets.token_bytes(12)
    sock.settimeout(timeout_s)
    sock.sendto(struct.pack(">HHI", 0x0001, 0, 0x2112A442) + transaction, server)
    while True:
        data, _ = sock.recvfrom(2048)
        if len(data) >= 20 and data[8:20] == transaction:
            break
    offset = 20
    while offset + 4 <= len(data):
        kind, length = struct.unpack_from(">HH", data, offset)
        value = data[offset + 4 : offset + 4 + length]
        if kind == 0x0020 and len(value) == 8:  # XOR-MAPPED-ADDRESS, IPv4
            port = struct.unpack(">H", value[2:4])[0] ^ 0x2112
            raw = struct.unpack(">I", value[4:8])[0] ^ 0x2112A442
            return socket.inet_ntoa(struct.pack(">I", raw)), port
        offset += 4 + length + (-length % 4)
    raise RigError("STUN answer without XOR-MAPPED-ADDRESS")


@dataclass
class Home:
    """One side: its phone's namespace and address, its router's namespace and kind."""

    name: str
    kind: str
    namespace: str
    router: str
    ip: str
    gateway: str
    wan_ip: str
    turn_user: str
    turn_password: str


@dataclass
class NetRig:
    """Build on `__enter__`, remove everything on `__exit__`."""

    alice: str = "nat"
    bob: str = "nat"
    turn: bool = True  # start coturn (a test of "the relay is down" starts without)
    tag: str = field(default_factory=lambda: f"{os.getpid()}x{next(_counter)}")
    homes: dict[str, Home] = field(default_factory=dict)
    internet: str = ""
    folder: Path | None = None
    _namespaces: list[str] = field(default_factory=list)
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    # ---- life cycle -------------------------------------------------------------------

    def __enter__(self) -> NetRig:
        why = missing_requirements()
        if why:
            raise RigError(why)
        for kind in (self.alice, self.bob):
            if kind not in HOME_KINDS:
                raise RigError(f"unknown home network {kind!r}; one of {', '.join(HOME_KINDS)}")
        self.folder = Path(tempfile.mkdtemp(prefix=f"pysnac-rig-{self.tag}-"))
        try:
            self._build()
            if self.turn:
                self.start_turn()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop what was started here, delete the namespaces. Idempotent."""
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer()
        self._closers.clear()
        for process in self._processes:
            self._kill(process)
        self._processes.clear()
        for namespace in reversed(self._namespaces):
            self._kill_namespace_pids(namespace)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
        self._namespaces.clear()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    # ---- what others use --------------------------------------------------------------

    @property
    def turn_address(self) -> tuple[str, int]:
        return INTERNET_IP, TURN_PORT

    def spawn(self, namespace: str, argv: list[str], **popen: Any) -> subprocess.Popen[bytes]:
        """Start `argv` inside `namespace` in its own process group; killed at close."""
        process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, *argv], start_new_session=True, **popen
        )
        self._processes.append(process)
        return process

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run `closer` at close, before processes and namespaces go (LIFO)."""
        self._closers.append(closer)

    def start_turn(self) -> subprocess.Popen[bytes]:
        """coturn in the internet namespace: STUN and TURN on UDP 3478, one long-term
        credential per home, relay ports in a small range, no TLS, no CLI, own files."""
        assert self.folder is not None
        argv = [
            "turnserver",
            "--listening-ip", INTERNET_IP,
            "--listening-ip", INTERNET_IP2,
            "--relay-ip", INTERNET_IP,
            "--listening-port", str(TURN_PORT),
            "--min-port", str(TURN_RELAY_PORTS[0]),
            "--max-port", str(TURN_RELAY_PORTS[1]),
            "--realm", TURN_REALM,
            "--lt-cred-mech",
            "--fingerprint",
            "--no-tls", "--no-dtls", "--no-cli", "--no-tcp-relay", "--no-multicast-peers",
            "--user-quota", "4",
            "--total-quota", "16",
            "--userdb", str(self.folder / "turndb"),
            "--pidfile", str(self.folder / "turnserver.pid"),
            "--log-file", str(self.folder / "turnserver.log"),
            "--simple-log",
        ]  # fmt: skip
        for home in self.homes.values():
            argv += ["--user", f"{home.turn_user}:{home.turn_password}"]
        process = self.spawn(
            self.internet, argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.wait_for_stun("alice")
        return process

    def stop_turn(self) -> None:
        """Take the relay down (a test of the relay failing)."""
        for process in list(self._processes):
            if process.args[3] == "turnserver":  # type: ignore[index]
                self._kill(process)
                self._processes.remove(process)

    def wait_for_stun(self, home: str, timeout_s: float = STUN_READY_S) -> tuple[str, int]:
        """Ask coturn for `home`'s mapped address until it answers; that address."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.mapped_address(home, ("0.0.0.0", 0))
            except OSError:
                if time.monotonic() > deadline:
                    raise RigError(f"coturn did not answer STUN within {timeout_s:.0f} s") from None

    def mapped_address(
        self, home: str, bind: tuple[str, int], server: tuple[str, int] | None = None
    ) -> tuple[str, int]:
        """The address the internet sees for a UDP socket bound to `bind` in `home`."""

        def probe() -> tuple[str, int]:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind(bind)
                return stun_binding(server or self.turn_address, STUN_PROBE_S, sock)

        return run_in(self.homes[home].namespace, probe)

    def unplug(self, home: str) -> None:
        """Take the phone's network away (cable out: no address, no route)."""
        namespace = self.homes[home].namespace
        self._ip("addr", "flush", "dev", "eth0", namespace=namespace)
        self._ip("link", "set", "eth0", "down", namespace=namespace)

    def plug(self, home: str) -> None:
        """Give it back, as DHCP would: address, link, default route."""
        found = self.homes[home]
        self._ip("addr", "replace", f"{found.ip}/24", "dev", "eth0", namespace=found.namespace)
        self._ip("link", "set", "eth0", "up", namespace=found.namespace)
        self._ip("route", "replace", "default", "via", found.gateway, namespace=found.namespace)

    def renumber(self, home: str, host: int) -> str:
        """The phone gets another address in its home network (a DHCP change): the old one
        is gone at once, as is the route through it. Returns the new address."""
        found = self.homes[home]
        subnet = HOME_SUBNETS[home]
        found.ip = f"{subnet}.{host}"
        self._ip("addr", "flush", "dev", "eth0", namespace=found.namespace)
        self._ip("addr", "add", f"{found.ip}/24", "dev", "eth0", namespace=found.namespace)
        self._ip("route", "replace", "default", "via", found.gateway, namespace=found.namespace)
        return found.ip

    # ---- building ---------------------------------------------------------------------

    def _ip(self, *args: str, namespace: str | None = None) -> None:
        argv = ["ip", *(["-n", namespace] if namespace else []), *args]
        self._run(argv)

    def _run(self, argv: list[str], stdin: str | None = None) -> None:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S
        )
        if done.returncode != 0:
            raise RigError(f"{' '.join(argv)}: {done.stderr.strip()}")

    def _namespace(self, role: str) -> str:
        name = f"pysnac-{role}-{self.tag}"
        self._ip("netns", "add", name)
        self._namespaces.append(name)
        self._ip("link", "set", "lo", "up", namespace=name)
        return name

    def _build(self) -> None:
        self.internet = self._namespace("inet")
        self._ip("link", "add", "br0", "type", "bridge", namespace=self.internet)
        # the internet routes between homes with no NAT (their own addresses)
        self._run(["ip", "netns", "exec", self.internet, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        for address in (INTERNET_IP, INTERNET_IP2):
            self._ip(
                "addr", "add", f"{address}/{INTERNET_PREFIX}", "dev", "br0", namespace=self.internet
            )
        self._ip("link", "set", "br0", "up", namespace=self.internet)
        for name, kind in (("alice", self.alice), ("bob", self.bob)):
            self._build_home(name, kind)

    def _build_home(self, name: str, kind: str) -> None:
        subnet, wan_ip = HOME_SUBNETS[name], ROUTER_WAN_IPS[name]
        router, phone = self._namespace(f"r{name[0]}"), self._namespace(name)
        uplink = f"up{name[0]}"  # the router's cable, as seen in the internet namespace
        self._ip(
            "link",
            "add",
            "wan",
            "type",
            "veth",
            "peer",
            "name",
            uplink,
            "netns",
            self.internet,
            namespace=router,
        )
        self._ip("link", "set", uplink, "master", "br0", "up", namespace=self.internet)
        self._ip("addr", "add", f"{wan_ip}/{INTERNET_PREFIX}", "dev", "wan", namespace=router)
        self._ip("link", "set", "wan", "up", namespace=router)
        self._ip(
            "link",
            "add",
            "lan",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            phone,
            namespace=router,
        )
        self._ip("addr", "add", f"{subnet}.1/24", "dev", "lan", namespace=router)
        self._ip("link", "set", "lan", "up", namespace=router)
        self._ip("addr", "add", f"{subnet}.2/24", "dev", "eth0", namespace=phone)
        self._ip("link", "set", "eth0", "up", namespace=phone)
        self._ip("route", "add", "default", "via", f"{subnet}.1", namespace=phone)
        self._run(["ip", "netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        self._ip("route", "add", "default", "via", INTERNET_IP, namespace=router)
        if kind == "open":  # the home's addresses are routed as they are
            self._ip("route", "add", f"{subnet}.0/24", "via", wan_ip, namespace=self.internet)
        else:
            self._run(["ip", "netns", "exec", router, "nft", "-f", "-"], stdin=router_rules(kind))
        self.homes[name] = Home(
            name=name,
            kind=kind,
            namespace=phone,
            router=router,
            ip=f"{subnet}.2",
            gateway=f"{subnet}.1",
            wan_ip=wan_ip,
            turn_user=f"{name}-phone",
            turn_password=secrets.token_urlsafe(18),
        )

    # ---- tearing down -----------------------------------------------------------------

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(KILL_WAIT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(KILL_WAIT_S)

    @staticmethod
    def _kill_namespace_pids(namespace: str) -> None:
        listed = subprocess.run(
            ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False
        )
        for pid in listed.stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)


def router_rules(kind: str) -> str:
    """The nftables ruleset of a home router of `kind` (not `open`)."""
    masquerade = "masquerade random,fully-random" if kind == "symmetric-nat" else "masquerade"
    blocked = (
        f'oifname "wan" meta l4proto udp ip daddr != {INTERNET_IP} drop'
        if kind == "udp-blocked"
        else ""
    )
    return f"""
table ip nat {{
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" {masquerade}
  }}
}}
table inet filter {{
  chain forward {{
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    iifname "wan" ct state new drop
    {blocked}
  }}
  chain input {{
    type filter hook input priority filter; policy accept;
    ct state established,related accept
    iifname "wan" ct state new drop
  }}
}}
"""
