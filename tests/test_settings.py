"""Settings stick: a rename is saved (any quoting), reaches the call service and the
rendezvous at once, a failed save says so on the LCD and in one log line, refused names
say why, and the volume is kept across restarts. The real model, machine, loop and
config file; the phone's loop is drained by the test (no threads)."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest

from drivers.lcd.headless import HeadlessLcd
from pysnac.config import load_config
from pysnac.runtime.app import build_phone, device_renamer
from pysnac.screen import Button
from pysnac_fsm import table
from pysnac_fsm.text_entry import NOTICE_NAME_BLANK, NOTICE_NAME_TAKEN, NOTICE_NOT_SAVED
from tests.fake_call_service import FakeCallService
from tests.test_directory import Rig

CONFIG = """\
# my phone
[device]
name = 'alice'   # single quotes: valid TOML
[audio]
driver = "silence"
volume = 4
[lcd]
driver = "headless"
"""


class RenamingService(FakeCallService):
    """The fake call service plus the UDP service's `rename`."""

    def rename(self, name: str) -> None:
        self._record("rename", name)


class SettingsPhone:
    """A phone built by `build_phone` from a config file, stepped by hand."""

    def __init__(self, path: Path) -> None:
        self.lcd = HeadlessLcd()
        self.service: RenamingService | None = None
        self.phone = build_phone(
            load_config(path),
            lcd=self.lcd,
            call_service_factory=self._service,
            fingerprint="F3KQ-9XMA-7TRE",
        )
        self.lcd.attach(self.phone.loop.post_button)
        self.phone.loop.enter_initial_state()

    def _service(self, post) -> RenamingService:
        self.service = RenamingService(post)
        return self.service

    def press(self, *buttons: Button) -> None:
        for button in buttons:
            self.lcd.press(button)
            self.phone.loop.drain()

    def rename_to_first_char_changed(self) -> None:
        """This device > rename, change the first character, save."""
        self.phone.machine.set_state(table.THIS_DEVICE, self.phone.model)
        self.press(Button.RIGHT, Button.UP, Button.SELECT)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


def test_rename_is_saved_keeping_the_users_file_and_reaches_the_call_service(
    config_path: Path,
) -> None:
    phone = SettingsPhone(config_path)
    phone.rename_to_first_char_changed()
    new_name = phone.phone.model.device_name
    assert new_name != "alice" and new_name.endswith("lice")
    assert phone.phone.state == table.THIS_DEVICE
    assert phone.lcd.lines[0].startswith(new_name)
    assert load_config(config_path).device.name == new_name
    text = config_path.read_text()
    assert "# my phone" in text and "# single quotes: valid TOML" in text
    assert phone.service is not None and ("rename", (new_name,)) in phone.service.calls


def test_failed_save_says_so_on_the_lcd_and_in_one_log_line(
    config_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def read_only(*_args: object, **_kw: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    phone = SettingsPhone(config_path)
    monkeypatch.setattr("pysnac.config.atomic_write_text", read_only)
    with caplog.at_level(logging.INFO):
        phone.rename_to_first_char_changed()
    assert phone.lcd.lines[1].strip() == NOTICE_NOT_SAVED
    assert phone.phone.model.device_name == "alice"  # what is on disk, still
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and "Read-only file system" in errors[0].getMessage()
    assert errors[0].exc_info is None  # one line, no traceback
    assert phone.service is not None and not any(c[0] == "rename" for c in phone.service.calls)


def test_refused_names_say_why(config_path: Path, tmp_path: Path) -> None:
    phone = SettingsPhone(config_path)
    model = phone.phone.model
    phone.phone.machine.set_state(table.THIS_DEVICE, model)
    phone.press(Button.RIGHT)
    model.edit_chars = [" "] * 3  # the user blanked every character
    phone.press(Button.SELECT)
    assert phone.phone.state == table.EDIT_DEVICE_NAME
    assert phone.lcd.lines[1].strip() == NOTICE_NAME_BLANK
    phone.press(Button.UP)  # editing again clears the notice
    assert NOTICE_NAME_BLANK not in phone.lcd.lines[1]


def test_contact_name_taken_ignoring_case(config_path: Path) -> None:
    from pysnac.channel.identity import Identity
    from pysnac.contacts import Contact

    phone = SettingsPhone(config_path)
    model = phone.phone.model
    for name in ("bob", "carol"):
        model.phonebook.add(Contact(name, Identity.generate().signing_public))
    phone.phone.machine.set_state(table.CONTACTS, model)
    model.contact_index = [c.name for c in model.phonebook.contacts()].index("carol")
    phone.press(Button.RIGHT)
    assert phone.phone.state == table.EDIT_CONTACT_NAME
    model.edit_chars = list("BOB")
    phone.press(Button.SELECT)
    assert phone.phone.state == table.EDIT_CONTACT_NAME
    assert phone.lcd.lines[1].strip() == NOTICE_NAME_TAKEN


def test_volume_is_kept_across_restarts(config_path: Path) -> None:
    phone = SettingsPhone(config_path)
    assert phone.phone.model.volume == 4  # from the config
    phone.phone.model.raise_volume(None)
    phone.phone.model.raise_volume(None)
    assert load_config(config_path).audio.volume == 4  # not written on every press
    phone.phone.model.stop_media(None)  # the call ends
    assert load_config(config_path).audio.volume == 6
    again = SettingsPhone(config_path)
    assert again.phone.model.volume == 6
    assert ("set_volume", (6,)) in phone.service.calls  # type: ignore[union-attr]


def test_rename_republishes_the_rendezvous_record(tmp_path: Path, config_path: Path) -> None:
    rig = Rig(tmp_path)
    rename = device_renamer(load_config(config_path), rig.inner, rig.directory)
    rename("Alice K")
    assert rig.backends["lan"].published[-1][0] == "Alice K"
    assert rig.backends["lan"].published[-1][1] == [("0.0.0.0", 47000)]
