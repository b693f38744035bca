"""The terminal LCD: a Textual app drawing the 16x2 screen, backlight colour and all.

Arrow keys and Enter are the plate's buttons (Left/Right/Up/Down/Select); `q`, Escape or
Ctrl-C quits, as the footer says. While `busy()` (set by the app: a call is up) a quit key
asks first, and only a second one quits. The screen is drawn on `screen_fd` (default: a
copy of stderr taken when the driver is made), so the phone can send its logs and the C
libraries' noise on fd 2 to a file without either drawing over the LCD.
`serve(stop)` runs the app on the calling (main) thread; the state-machine thread's
`show` and `set_backlight` hand the new screen to the app's event loop without waiting
(`call_soon_threadsafe`), so a busy or closing terminal never blocks the phone. Textual is
imported only when this driver is chosen. Tests drive it with `app.run_test()`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.drivers.linux_driver import LinuxDriver
from textual.widgets import Static

from pysnac.screen import LCD_COLUMNS, Backlight, Button, ButtonCallback, fit_line, to_unicode

KEY_BUTTONS = {
    "enter": Button.SELECT,
    "up": Button.UP,
    "down": Button.DOWN,
    "left": Button.LEFT,
    "right": Button.RIGHT,
}
QUIT_KEYS = ("q", "escape", "ctrl+c")
HELP = "arrows: buttons  Enter: Select  q or Ctrl-C: quit"
CONFIRM_QUIT = "In a call: q or Ctrl-C again ends it and quits"
# Terminal colours for each backlight (the text stays dark, like the plate's).
BACKLIGHT_CSS = {
    Backlight.OFF: "#202020",
    Backlight.WHITE: "#e8e8e8",
    Backlight.BLUE: "#6090ff",
    Backlight.GREEN: "#70e070",
    Backlight.YELLOW: "#f0e060",
    Backlight.RED: "#ff7070",
    Backlight.VIOLET: "#d080ff",
    Backlight.TEAL: "#60e0e0",
}


def frame(lines: tuple[str, str]) -> str:
    """The two lines as the screen widget shows them (custom characters as Unicode)."""
    return "\n".join(to_unicode(line) for line in lines)


class ScreenDriver(LinuxDriver):
    """Textual's terminal driver, drawing on the LCD driver's screen stream, not fd 2."""

    screen: TextIO | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if ScreenDriver.screen is not None:
            self._file = ScreenDriver.screen


class LcdApp(App[None]):
    """A 16x2 character display; keys become button presses."""

    # Ctrl-C and Ctrl-Q quit like q (Textual's default Ctrl-C only says "press ctrl+q").
    BINDINGS = [  # noqa: RUF012 -- Textual's class-level binding table
        Binding("ctrl+c", "request_quit", show=False, priority=True),
        Binding("ctrl+q", "request_quit", show=False, priority=True),
    ]

    CSS = f"""
    Screen {{ align: center middle; }}
    #lcd {{ width: {LCD_COLUMNS + 4}; height: 4; padding: 0 1; border: heavy #404040;
            color: #101010; }}
    #help {{ width: auto; color: $text-muted; margin-top: 1; }}
    """

    def __init__(self, driver: TerminalLcd) -> None:
        super().__init__(driver_class=ScreenDriver if sys.platform != "win32" else None)
        self.driver = driver
        self.confirming = False  # a quit key was pressed during a call: one more quits

    def compose(self) -> ComposeResult:
        yield Static(frame(self.driver.lines), id="lcd")
        yield Static(HELP, id="help")

    def action_request_quit(self) -> None:
        """Quit, but during a call only on the second quit key in a row."""
        if self.confirming or not self.driver.busy():
            self.exit()
            return
        self.confirming = True
        self.query_one("#help", Static).update(CONFIRM_QUIT)

    def _stay(self) -> None:
        self.confirming = False
        self.query_one("#help", Static).update(HELP)

    def on_mount(self) -> None:
        self.driver._loop = asyncio.get_running_loop()
        self.redraw()

    def redraw(self) -> None:
        widget = self.query_one("#lcd", Static)
        widget.update(frame(self.driver.lines))
        widget.styles.background = BACKLIGHT_CSS[self.driver.backlight]

    def on_key(self, event: Any) -> None:
        if event.key in QUIT_KEYS:
            event.stop()
            self.action_request_quit()
            return
        if self.confirming:
            self._stay()
        button = KEY_BUTTONS.get(event.key)
        if button is not None:
            event.stop()
            self.driver.deliver(button)

    def screen_text(self) -> str:
        """What the LCD widget shows now (for tests)."""
        return str(self.query_one("#lcd", Static).render())


class TerminalLcd:
    """`LcdDriver` drawn in a terminal by Textual."""

    def __init__(self, screen_fd: int | None = None) -> None:
        fd = os.dup(sys.__stderr__.fileno()) if screen_fd is None else screen_fd
        ScreenDriver.screen = os.fdopen(fd, "w", encoding="utf-8", closefd=screen_fd is None)
        self.busy: Callable[[], bool] = lambda: False  # the app sets it: a call is up
        self._lines = (fit_line(""), fit_line(""))
        self._backlight = Backlight.OFF
        self._on_button: ButtonCallback | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shown = threading.Condition()
        self.app = LcdApp(self)

    @property
    def lines(self) -> tuple[str, str]:
        return self._lines

    @property
    def backlight(self) -> Backlight:
        return self._backlight

    def show(self, lines: tuple[str, str]) -> None:
        self._lines = (fit_line(lines[0]), fit_line(lines[1]))
        self._redraw()
        with self._shown:
            self._shown.notify_all()

    def wait_for(self, predicate: Any, timeout_s: float) -> bool:
        """Wait until `predicate(lines)` holds (its redraw is then already scheduled)."""
        with self._shown:
            return self._shown.wait_for(lambda: predicate(self._lines), timeout=timeout_s)

    def set_backlight(self, colour: Backlight) -> None:
        if colour is not self._backlight:
            self._backlight = colour
            self._redraw()

    def _redraw(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # not running yet: on_mount draws the current screen
        try:
            if threading.get_ident() == getattr(self.app, "_thread_id", None):
                self.app.redraw()
            else:
                loop.call_soon_threadsafe(self.app.redraw)
        except RuntimeError:  # the app is closing
            pass

    def attach(self, on_button: ButtonCallback) -> None:
        self._on_button = on_button

    def deliver(self, button: Button) -> None:
        if self._on_button is not None:
            self._on_button(button)

    def serve(self, stop: threading.Event) -> None:
        def exit_when_stopped() -> None:
            stop.wait()
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self.app.exit)

        threading.Thread(target=exit_when_stopped, name="lcd-exit", daemon=True).start()
        try:
            self.app.run()
        finally:
            self._loop = None
            stop.set()

    def close(self) -> None:
        self._backlight = Backlight.OFF
