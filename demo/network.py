"""`main.py demo --network open|nat|symmetric-nat|udp-blocked`: the call between two homes.

Builds the rig of demo/netns.py (both homes of the chosen kind, an internet with coturn),
starts the Firebase PROTOCOL TEST SERVER (tests/firebase_server.py, not Firebase) in the
internet namespace as the directory, and gives each phone a config with that directory,
coturn as STUN and TURN server (long-term credentials, the password in a 0600 file) and
its home namespace to run in. The phones are pinned to each other by key only: they find
each other, exchange call offers and punch (or relay) as they would across the internet.
Everything is removed when the demo ends, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from demo.netns import INTERNET_IP, TURN_PORT, NetRig, missing_requirements, run_in
from demo.phones import PhoneSpec, toml_string
from demo.rendezvous import REPO, DemoDirectory, RendezvousChoice
from pysnac.errors import UsageError

NETWORK_CHOICES = ("open", "nat", "symmetric-nat", "udp-blocked")
TURN_PASSWORD_FILE = "turn-password"


@dataclass
class NetworkDirectory(DemoDirectory):
    """The demo's directory inside the rig, plus each phone's STUN/TURN settings."""

    rig: NetRig | None = None

    def describe(self) -> str:
        assert self.rig is not None and self.server is not None
        return (
            f"network: alice behind {self.rig.alice}, bob behind {self.rig.bob} "
            f"(namespaces *-{self.rig.tag}); coturn (STUN+TURN) on {INTERNET_IP}:{TURN_PORT}; "
            f"directory: the Firebase PROTOCOL TEST SERVER on {self.server.url}, NOT Firebase"
        )

    def config_options(self, spec: PhoneSpec) -> dict[str, Any]:
        assert self.rig is not None
        home = self.rig.homes[spec.name]
        password = spec.folder / TURN_PASSWORD_FILE
        password.touch(mode=0o600)
        password.chmod(0o600)
        password.write_text(home.turn_password + "\n", encoding="utf-8")
        server = toml_string(f"{INTERNET_IP}:{TURN_PORT}")
        return {
            **super().config_options(spec),
            "bind": "0.0.0.0",
            "network_lines": (
                f"stun_server = {server}",
                f"turn_server = {server}",
                f"turn_username = {toml_string(home.turn_user)}",
                f"turn_password_file = {toml_string(TURN_PASSWORD_FILE)}",
            ),
        }

    def prefix(self, name: str) -> tuple[str, ...]:
        assert self.rig is not None
        return ("ip", "netns", "exec", self.rig.homes[name].namespace)


@contextlib.contextmanager
def network_directory(
    kind: str, echo: Callable[[str], None] = print, bob_kind: str | None = None
) -> Iterator[NetworkDirectory]:
    """The rig and the directory in it for one demo run; both gone afterwards."""
    if kind not in NETWORK_CHOICES:
        raise UsageError(f"--network {kind}: one of {', '.join(NETWORK_CHOICES)}")
    why = missing_requirements()
    if why:
        raise UsageError(f"--network {why}")
    if str(REPO) not in sys.path:  # tests/ is beside main.py, not an installed package
        sys.path.insert(0, str(REPO))
    from tests.firebase_server import FirebaseTestServer

    with NetRig(kind, bob_kind or kind) as rig:
        directory = NetworkDirectory(RendezvousChoice("firebase"), rig=rig)
        server = run_in(
            rig.internet,
            lambda: FirebaseTestServer(write_allowed=directory._rules).start(host=INTERNET_IP),
        )
        directory.server = server
        rig.on_close(server.stop)
        echo(directory.describe())
        yield directory
