"""Start-up never imports the same packages in two threads at once (scipy's imports break
when two threads race through them: a phone failed to start about one time in 40), and
one failing start-up step never stops the next.

The call service preloads the media stack in its own thread; the phone's background
start-up (the power-on audio check, the rendezvous) waits for that first; `preloaded` is
set (and logged for the demo) even when an import fails.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from demo.phones import make_phone_folder, write_config
from drivers.lcd.headless import HeadlessLcd
from drivers.net.memory import MemoryNetwork
from pysnac.channel.identity import Identity
from pysnac.config import load_config
from pysnac.runtime import app
from pysnac.runtime import call_service as service_module
from pysnac.runtime.app import NullCallService, build_phone
from pysnac.runtime.call_service import UdpCallService
from pysnac_fsm import table

WAIT_S = 10.0


def test_preloaded_is_set_and_logged_even_when_an_import_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pysnac_broken_on_import.py").write_text("raise RuntimeError('half-imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        service_module, "PRELOAD_MODULES", ("pysnac_broken_on_import", "json", "no_such_module")
    )
    call_log = tmp_path / "calls.jsonl"
    service = UdpCallService(
        identity=Identity.generate(),
        name="alice",
        transport=MemoryNetwork().open(("10.0.0.1", 5000)),
        post=lambda _event: None,
        contacts=list,
        audio_factory=lambda: pytest.fail("no call is made"),
        call_log=call_log,
    ).start()
    try:
        assert service.wait_preloaded(WAIT_S)
        events = [json.loads(line)["event"] for line in call_log.read_text().splitlines()]
        assert events == ["preloaded"]
    finally:
        service.close()


class GatedService(NullCallService):
    """A call service whose preload finishes only when the test says so."""

    def __init__(self, post: Any) -> None:
        super().__init__(post)
        self.release = threading.Event()
        self.waited = threading.Event()

    def wait_ready(self, timeout_s: float = WAIT_S) -> bool:
        self.waited.set()
        return self.release.wait(timeout_s)


def test_power_on_checks_wait_for_the_preload_and_survive_a_failing_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = make_phone_folder(tmp_path, "alice"), make_phone_folder(tmp_path, "bob")
    config = load_config(write_config(alice, [bob], audio="silence"))
    checks: list[str] = []
    audio_checked = threading.Event()

    def check_audio(_config: Any, _post: Any, _service: Any = None) -> None:
        checks.append("audio")
        audio_checked.set()
        raise RuntimeError("a bug in a start-up step")

    monkeypatch.setattr(app, "check_audio", check_audio)
    services: list[GatedService] = []

    def factory(post: Any) -> GatedService:
        services.append(GatedService(post))
        return services[0]

    directory_started = threading.Event()

    def open_rendezvous(kind: str, _post: Any, _phonebook: Any) -> Any:
        checks.append(f"directory:{kind}")
        directory_started.set()
        raise RuntimeError("no backend in this test")

    phone = build_phone(
        config,
        lcd=HeadlessLcd(),
        call_service_factory=factory,
        check_audio_at_start=True,
        rendezvous_opener=open_rendezvous,
    )
    phone.start()
    try:
        assert services[0].waited.wait(WAIT_S)
        assert checks == []  # nothing imports while the preload runs
        services[0].release.set()
        assert audio_checked.wait(WAIT_S)
        assert directory_started.wait(WAIT_S)  # the audio step's fault did not stop this one
        assert phone.state == table.IDLE  # and the phone is up
    finally:
        phone.stop()
    assert checks == ["audio", "directory:static"]
