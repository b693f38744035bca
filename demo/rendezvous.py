"""How the demo's two phones find each other: `demo --rendezvous static|lan|firebase`.

- `static` (the default, `make demo`): each phone's contact carries the other's loopback
  address; no rendezvous traffic at all.
- `lan`: mDNS/DNS-SD. mDNS must never go out on the host's real network, so the whole
  demo re-runs itself (`rerun_in_private_netns`) inside a new network namespace made by
  `unshare --net` with only `lo` up (multicast on); both phone processes inherit it, and
  the kernel removes the namespace when the last of them exits. Needs root.
- `firebase`: with `--firebase-config FILE` (optionally `--firebase-url URL`), the user's
  own project, both phones signing in with that file's account (its rules must let that
  account write both demo phones' nodes: docs/rendezvous.md). Without either, the demo
  starts the PROTOCOL TEST SERVER of `tests/firebase_server.py` on loopback -- a stand-in
  that speaks Firebase's REST, streaming and sign-in protocols, not Firebase -- with one
  account per phone and rules like the documented ones, and says so.

With `lan` and `firebase` the contacts are pinned by key only (no address): each phone
publishes its signed record and looks the other up when it calls. Before the first
button press the demo waits until both phones' Idle screens show the directory online.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo.phones import REPO, PhoneProcess, PhoneSpec
from pysnac.errors import UsageError
from pysnac.screen import GLYPH_CHECK, to_unicode

KINDS = ("static", "lan", "firebase")
NETNS_ENV = "PYSNAC_DEMO_NETNS"  # "1" inside the private namespace the lan demo runs in
ONLINE_TIMEOUT_S = 30.0  # both phones' directories online (mDNS probing takes ~1.6 s)
FIREBASE_FILE_NAME = "firebase.json"
NETNS_SCRIPT = 'ip link set lo up && ip link set lo multicast on && exec "$@"'


@dataclass(frozen=True)
class RendezvousChoice:
    """What the command line asked for."""

    kind: str = "static"
    firebase_url: str | None = None
    firebase_config: Path | None = None

    def check(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"--rendezvous {self.kind}: choose from {', '.join(KINDS)}")
        if self.kind != "firebase" and (self.firebase_url or self.firebase_config):
            raise UsageError("--firebase-url/--firebase-config need --rendezvous firebase")
        if self.firebase_url and not self.firebase_config:
            raise UsageError("--firebase-url needs --firebase-config FILE (apiKey and sign-in)")
        if self.firebase_config is not None:  # the loader's own words (file, key, fix), now:
            from drivers.rendezvous.firebase_auth import load_firebase_config

            load_firebase_config(self.firebase_config, self.firebase_url)  # not "never online"


def in_private_netns() -> bool:
    return os.environ.get(NETNS_ENV) == "1"


def rerun_in_private_netns(argv: list[str]) -> int:
    """Run `main.py ARGV` again inside a fresh network namespace (loopback only)."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if os.geteuid() != 0 or unshare is None or ip is None:
        raise UsageError(
            "--rendezvous lan needs root, unshare(1) and ip(8): the demo runs mDNS in a "
            "private network namespace, never on your network"
        )
    command = [unshare, "--net", "--", "sh", "-c", NETNS_SCRIPT, "sh"]
    command += [sys.executable, str(REPO / "main.py"), *argv]
    return subprocess.run(command, env={**os.environ, NETNS_ENV: "1"}).returncode


@dataclass
class DemoDirectory:
    """The rendezvous set-up of one demo run: config options per phone, the server."""

    choice: RendezvousChoice
    server: Any = None  # the protocol test server, when the demo started one
    owners: dict[str, str] = field(default_factory=dict)  # test server: uid -> key id

    def describe(self) -> str:
        kind = self.choice.kind
        if kind == "static":
            return "rendezvous: static (each phone's contact has the other's address)"
        if kind == "lan":
            netns = os.readlink("/proc/self/ns/net") if os.path.exists("/proc/self") else "?"
            return (
                f"rendezvous: lan (mDNS) inside a private network namespace {netns}, loopback only"
            )
        if self.server is not None:
            return (
                f"rendezvous: firebase -- the PROTOCOL TEST SERVER (tests/firebase_server.py) "
                f"on {self.server.url}, a stand-in speaking Firebase's protocol, NOT Firebase"
            )
        return f"rendezvous: firebase -- your project ({self._database_url()})"

    def _database_url(self) -> str:
        if self.choice.firebase_url:
            return self.choice.firebase_url
        assert self.choice.firebase_config is not None
        try:
            data = json.loads(self.choice.firebase_config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return str(self.choice.firebase_config)
        return str(data.get("databaseURL", "?"))

    def config_options(self, spec: PhoneSpec) -> dict[str, Any]:
        """Keyword arguments for `write_config` of the phone `spec`."""
        kind = self.choice.kind
        if kind == "static":
            return {}
        if kind == "lan":
            return {"backends": ("lan",)}
        return {"backends": ("firebase",), "firebase_config": self._firebase_file(spec)}

    def _firebase_file(self, spec: PhoneSpec) -> Path:
        """The phone's project JSON (mode 0600: it holds a password)."""
        from drivers.rendezvous.record import key_id

        if self.server is not None:
            uid = f"demo-{spec.name}"
            self.server.add_user(f"{spec.name}@demo.test", f"pw-{spec.name}-demo", uid)
            self.owners[uid] = key_id(spec.public_key)
            data: dict[str, Any] = {
                "apiKey": self.server.api_key,
                "authDomain": None,
                "databaseURL": self.server.url,
                "storageBucket": None,
                "authEmulatorHost": self.server.auth_host,
                "auth": {"email": f"{spec.name}@demo.test", "password": f"pw-{spec.name}-demo"},
            }
        else:
            assert self.choice.firebase_config is not None
            try:
                data = json.loads(self.choice.firebase_config.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"--firebase-config {self.choice.firebase_config}: {exc}") from exc
            if self.choice.firebase_url:
                data["databaseURL"] = self.choice.firebase_url
        path = spec.folder / FIREBASE_FILE_NAME
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    def _rules(self, uid: str, keys: list[str]) -> bool:
        """docs/rendezvous.md's rules: a phone writes only its own /phones/<key_id>."""
        return len(keys) == 2 and keys[0] == "phones" and self.owners.get(uid) == keys[1]

    def wait_online(self, phones: list[PhoneProcess], timeout_s: float = ONLINE_TIMEOUT_S) -> None:
        """Until each phone's Idle screen shows its directory online (published)."""
        if self.choice.kind == "static":
            return
        online = to_unicode(GLYPH_CHECK)
        for phone in phones:
            phone.wait_for(
                lambda r: r.get("type") == "screen" and r["lines"][1].endswith(online),
                timeout_s,
                what="its directory online",
            )


@contextlib.contextmanager
def demo_directory(
    choice: RendezvousChoice | None, echo: Callable[[str], None] = print
) -> Iterator[DemoDirectory]:
    """The set-up for one run; starts (and stops) the protocol test server if needed."""
    choice = choice or RendezvousChoice()
    choice.check()
    directory = DemoDirectory(choice)
    if choice.kind == "firebase" and choice.firebase_config is None:
        if str(REPO) not in sys.path:  # tests/ is beside main.py, not an installed package
            sys.path.insert(0, str(REPO))
        from tests.firebase_server import FirebaseTestServer

        directory.server = FirebaseTestServer(write_allowed=directory._rules).start()
    echo(directory.describe())
    try:
        yield directory
    finally:
        if directory.server is not None:
            directory.server.stop()
