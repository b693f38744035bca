"""A phone process on `--lcd plate-emulated` (how `main.py demo --lcd plate-emulated` runs
its phones): button names in become fingers on the emulated plate, the driver's poll loop
finds them, and the screens out are decoded from the HD44780 commands the real library
sent over the emulated I2C bus."""

from __future__ import annotations

from pathlib import Path

from demo.phones import PhoneProcess, make_phone_folder, write_config
from pysnac.screen import GLYPH_PHONE, to_unicode

START_S = 60.0
STEP_S = 10.0


def test_a_phone_runs_on_the_emulated_plate(tmp_path: Path) -> None:
    alice = make_phone_folder(tmp_path, "alice")
    bob = make_phone_folder(tmp_path, "bob")
    write_config(alice, [bob], audio="silence")
    phone = PhoneProcess(alice, lcd="plate-emulated")
    try:
        _, _, first = phone.wait_for(lambda r: r.get("type") == "screen", START_S)
        assert first["lines"][0].startswith(to_unicode(GLYPH_PHONE) + "bob")  # the dial
        start = phone.mark
        phone.press("right")
        phone.wait_state("menu", STEP_S, start)
        _, _, screen = phone.wait_for(
            lambda r: r.get("type") == "screen" and r["lines"][0].startswith("Menu"),
            STEP_S,
            start,
        )
        assert len(screen["lines"][0]) == 16
    finally:
        assert phone.quit() == 0
