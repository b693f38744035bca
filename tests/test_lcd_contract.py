"""One contract suite over every LCD driver present: headless, terminal (Textual, driven
headless with `run_test`), the plate driver with Adafruit's library on the bus-level twin
of the plate (what is displayed is decoded from the HD44780 commands), and the
`plate-emulated` kind the demo's phones use (the same, over stdio)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import threading
from collections.abc import AsyncIterator, Callable

import pytest

from drivers.lcd import open_lcd
from drivers.lcd.plate import PlateLcd
from drivers.lcd.plate_emulator import PlateEmulator
from pysnac.screen import GLYPH_BARS, GLYPH_CHECK, LCD_COLUMNS, Backlight, Button, to_unicode

TEXTUAL_KEYS = {
    Button.SELECT: "enter",
    Button.UP: "up",
    Button.DOWN: "down",
    Button.LEFT: "left",
    Button.RIGHT: "right",
}


class Harness:
    """Drives one driver the way its user would, and reads back what is displayed."""

    def __init__(self, driver) -> None:
        self.driver = driver
        self.pressed: list[Button] = []
        driver.attach(self.pressed.append)

    async def press(self, button: Button) -> None:
        self.driver.press(button)

    async def displayed(self) -> str:
        return "\n".join(to_unicode(line) for line in self.driver.lines)


class TerminalHarness(Harness):
    def __init__(self, driver, pilot) -> None:
        super().__init__(driver)
        self.pilot = pilot

    async def press(self, button: Button) -> None:
        await self.pilot.press(TEXTUAL_KEYS[button])

    async def displayed(self) -> str:
        await self.pilot.pause()
        return self.driver.app.screen_text()


class PlateHarness(Harness):
    """Presses are fingers on the emulated plate, found by polls with a stepped clock."""

    def __init__(self, driver: PlateLcd, board: PlateEmulator) -> None:
        super().__init__(driver)
        self.board = board
        self.now = 0.0

    async def press(self, button: Button) -> None:
        self.board.press(button, reads=3)
        for _ in range(6):
            self.now += 0.03
            self.driver.poll_once(self.now)

    async def displayed(self) -> str:
        return "\n".join(to_unicode(line) for line in self.board.lines())


class EmulatedHarness(Harness):
    """`--lcd plate-emulated`: button names in through a pipe, screens out as JSON lines;
    its own poll thread (real time) finds each press on the emulated plate."""

    def __init__(self, driver, stdin_writer, stdout: io.StringIO) -> None:
        super().__init__(driver)
        self.stdin_writer = stdin_writer
        self.stdout = stdout
        self.delivered = threading.Condition()
        driver.attach(self._delivered)

    def _delivered(self, button: Button) -> None:
        with self.delivered:
            self.pressed.append(button)
            self.delivered.notify_all()

    async def press(self, button: Button) -> None:
        count = len(self.pressed)
        self.stdin_writer.write(button.value + "\n")
        self.stdin_writer.flush()
        with self.delivered:  # the driver's poll thread finds the press on the plate
            self.delivered.wait_for(lambda: len(self.pressed) > count, timeout=5.0)

    async def displayed(self) -> str:
        screens = [json.loads(line) for line in self.stdout.getvalue().splitlines()]
        lines = [r["lines"] for r in screens if r.get("type") == "screen"][-1]
        assert lines == [to_unicode(line) for line in self.driver.board.lines()]
        return "\n".join(lines)


@contextlib.asynccontextmanager
async def headless() -> AsyncIterator[Harness]:
    yield Harness(open_lcd("headless"))


@contextlib.asynccontextmanager
async def terminal() -> AsyncIterator[Harness]:
    driver = open_lcd("terminal")
    async with driver.app.run_test() as pilot:
        yield TerminalHarness(driver, pilot)


@contextlib.asynccontextmanager
async def plate() -> AsyncIterator[Harness]:
    board = PlateEmulator()
    yield PlateHarness(PlateLcd(board, sleep=board.sleep), board)


@contextlib.asynccontextmanager
async def plate_emulated() -> AsyncIterator[Harness]:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd) as stdin:
        stdin_writer = os.fdopen(write_fd, "w")
        stdout = io.StringIO()
        driver = open_lcd("plate-emulated", stdin=stdin, stdout=stdout)
        stop = threading.Event()
        server = threading.Thread(target=driver.serve, args=(stop,), daemon=True)
        server.start()
        try:
            yield EmulatedHarness(driver, stdin_writer, stdout)
        finally:
            stdin_writer.close()  # end of input stops the driver, as `quit` would
            server.join(5.0)
        assert stop.is_set() and not server.is_alive()


DRIVERS = {
    "headless": headless,
    "terminal": terminal,
    "plate": plate,
    "plate-emulated": plate_emulated,
}


def run(kind: str, body: Callable) -> None:
    async def main() -> None:
        async with DRIVERS[kind]() as harness:
            await body(harness)

    asyncio.run(main())


@pytest.fixture(params=sorted(DRIVERS))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_shows_two_lines_of_sixteen_cells(kind: str) -> None:
    async def body(h: Harness) -> None:
        h.driver.show(("hello", "a line that is far too long"))
        assert h.driver.lines == ("hello".ljust(LCD_COLUMNS), "a line that is f")
        assert await h.displayed() == "hello           \na line that is f"
        h.driver.show(("bye", ""))
        assert (await h.displayed()).splitlines()[0].rstrip() == "bye"

    run(kind, body)


def test_custom_characters_take_one_cell(kind: str) -> None:
    async def body(h: Harness) -> None:
        h.driver.show((GLYPH_CHECK + "ok", "bars" + GLYPH_BARS[4]))
        first, second = (await h.displayed()).splitlines()
        assert first == "\u2713ok" + " " * 13
        assert second == "bars\u2588" + " " * 11

    run(kind, body)


def test_backlight_colour(kind: str) -> None:
    async def body(h: Harness) -> None:
        for colour in (Backlight.GREEN, Backlight.RED):
            h.driver.set_backlight(colour)
            assert h.driver.backlight is colour

    run(kind, body)


def test_each_button_press_is_delivered_once(kind: str) -> None:
    async def body(h: Harness) -> None:
        for button in Button:
            await h.press(button)
        assert h.pressed == list(Button)

    run(kind, body)


def test_close_turns_the_backlight_off(kind: str) -> None:
    async def body(h: Harness) -> None:
        h.driver.set_backlight(Backlight.BLUE)
        h.driver.close()
        assert h.driver.backlight is Backlight.OFF

    run(kind, body)


def test_unknown_driver_is_a_config_error() -> None:
    from pysnac.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown LCD driver"):
        open_lcd("oled")


def test_terminal_drives_a_whole_phone(tmp_path) -> None:
    """Right in the terminal opens the menu through the real state-machine thread (Enter on
    a home screen with no contact does nothing)."""
    from pysnac.config import parse_config
    from pysnac.runtime.app import NullCallService, build_phone

    config = parse_config(tmp_path / "config.toml", '[device]\nname = "alice"\n')
    driver = open_lcd("terminal")
    phone = build_phone(config, lcd=driver, call_service_factory=NullCallService, fingerprint="F")

    async def body() -> None:
        async with driver.app.run_test() as pilot:
            phone.start()
            try:
                assert driver.wait_for(lambda lines: "No contact" in lines[0], 5.0)
                await pilot.press("enter")
                await pilot.press("right")
                assert driver.wait_for(lambda lines: lines[0].startswith("Menu"), 5.0)
                await pilot.pause()  # let the app run the redraw the machine scheduled
                assert "Menu" in driver.app.screen_text()
                assert phone.state == "menu"
            finally:
                phone.stop()

    asyncio.run(body())
