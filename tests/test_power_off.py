"""The menu's "Shut down": a confirmation screen (Select confirms, any other key goes
back), then the table's `shut_down` and, once the phone has stopped, the configured
power-off command run by the runtime. A recorder stands in for running anything."""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from drivers.lcd.headless import HeadlessLcd
from pysnac.config import load_config
from pysnac.runtime.app import run_appliance
from pysnac.runtime.power import power_off
from pysnac.screen import Backlight, Button
from pysnac_fsm import table
from tests.fake_call_service import SyncPhone

S, U, D, L, R = Button.SELECT, Button.UP, Button.DOWN, Button.LEFT, Button.RIGHT
WAIT_S = 10.0
TO_CONFIRM = (R, U, S)  # menu, up from "Contacts" wraps to "Shut down", open it


class Recorder:
    def __init__(self, fail: Exception | None = None) -> None:
        self.argvs: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: Sequence[str]) -> None:
        self.argvs.append(list(argv))
        if self.fail is not None:
            raise self.fail


def test_the_menu_offers_shut_down_with_a_confirmation(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    phone.press(R, U)
    assert phone.lines[1].rstrip() == ">Shut down"
    phone.press(S)
    assert phone.state == table.CONFIRM_SHUTDOWN
    assert phone.lines == ("Shut down?      ", "Sel:yes other:no")
    assert phone.lcd.backlight is Backlight.RED


@pytest.mark.parametrize("key", [L, R, U, D])
def test_any_other_key_cancels(tmp_path: Path, key: Button) -> None:
    phone = SyncPhone(tmp_path)
    phone.press(*TO_CONFIRM, key)
    assert phone.state == table.MENU
    assert not phone.model.power_off_requested


def test_select_shuts_down_and_asks_for_power_off(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    phone.press(*TO_CONFIRM, S)
    assert phone.state == table.OFF
    assert phone.model.power_off_requested
    assert phone.service.calls == []


def test_a_runtime_stop_does_not_power_off(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    phone.press(*TO_CONFIRM)
    phone.loop.shut_down()  # SIGTERM while the question is on screen
    assert phone.state == table.OFF
    assert not phone.model.power_off_requested


def test_the_confirm_screen_times_out_home(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    phone.press(*TO_CONFIRM)
    phone.advance(table.MENU_IDLE_S)
    assert phone.state == table.IDLE
    assert not phone.model.power_off_requested


def test_power_off_runs_the_argv_or_nothing() -> None:
    recorder = Recorder()
    assert power_off(("systemctl", "poweroff"), recorder)
    assert recorder.argvs == [["systemctl", "poweroff"]]
    nothing = Recorder()
    assert not power_off((), nothing)
    assert nothing.argvs == []


def test_a_failing_power_off_command_is_one_line_not_a_crash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = Recorder(subprocess.CalledProcessError(1, ["systemctl", "poweroff"]))
    assert not power_off(("systemctl", "poweroff"), refused)
    assert capsys.readouterr().err.count("\n") == 1
    missing = Recorder(FileNotFoundError(2, "No such file", "sudo"))
    assert not power_off(("sudo", "halt"), missing)


CONFIG = """\
[device]
name = "alice"
{power}
[network]
bind = "127.0.0.1"
udp_port = 0
[audio]
driver = "silence"
[lcd]
driver = "headless"
[rendezvous]
backends = ["static"]
"""


@pytest.mark.parametrize(
    ("power", "expected"),
    [("", [["systemctl", "poweroff"]]), ("power_off_command = []", [])],
)
def test_run_appliance_stops_then_runs_the_configured_command(
    tmp_path: Path, power: str, expected: list[list[str]]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(power=power))
    config = load_config(path)
    lcd = HeadlessLcd()
    recorder = Recorder()
    order: list[str] = []
    original_close = lcd.close

    def close() -> None:  # the phone and its LCD are closed before the command runs
        order.append("lcd closed")
        original_close()

    lcd.close = close  # type: ignore[method-assign]

    def person() -> None:
        if not lcd.wait_for(lambda lines: lines[1].startswith("Pair"), WAIT_S):
            return
        for button in (*TO_CONFIRM, S):
            lcd.press(button)

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    presser = threading.Thread(target=person, name="test-person")
    presser.start()
    try:
        assert run_appliance(config, lcd=lcd, run_command=recorder) == 0
    finally:
        presser.join(WAIT_S)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert order == ["lcd closed"]
    assert recorder.argvs == expected
    assert any(line[0].startswith("Shutting down") for line in lcd.screens)
