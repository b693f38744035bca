"""The terminal LCD: a Textual app drawing the 16x2 screen, backlight colour and all.

Arrow keys and Enter are the plate's buttons (Left/Right/Up/Down/Select); `q` or Escape
quits. `serve(stop)` runs the app on the calling (main) thread; the state-machine thread's
`show` and `set_backlight` hand the new screen to the app's event loop without waiting
(`call_soon_threadsafe`), so a busy or closing terminal never blocks the phone. Textual is
imported only when this driver is chosen. Tests drive it with `app.run_test()`.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from pysnac.screen import LCD_COLUMNS, Backlight, Button, ButtonCallback, fit_line, to_unicode

KEY_BUTTONS = {
    "enter": Button.SELECT,
    "up": Button.UP,
    "down": Button.DOWN,
    "left": Button.LEFT,
    "right": Button.RIGHT,
}
QUIT_KEYS = ("q", "escape")
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


class LcdApp(App[None]):
    """A 16x2 character display; keys become button presses."""

    CSS = f"""
    Screen {{ align: center middle; }}
    #lcd {{ width: {LCD_COLUMNS + 4}; height: 4; padding: 0 1; border: heavy #404040;
            color: #101010; }}
    #help {{ width: auto; color: $text-muted; margin-top: 1; }}
    """

    def __init__(self, driver: TerminalLcd) -> None:
        super().__init__()
        self.driver = driver

    def compose(self) -> ComposeResult:
        yield Static(frame(self.driver.lines), id="lcd")
        yield Static("arrows: buttons  Enter: Select  q: quit", id="help")

    def on_mount(self) -> None:
        self.driver._loop = asyncio.get_running_loop()
        self.redraw()

    def redraw(self) -> None:
        widget = self.query_one("#lcd", Static)
        widget.update(frame(self.driver.lines))
        widget.styles.background = BACKLIGHT_CSS[self.driver.backlight]

    def on_key(self, event: Any) -> None:
        if event.key in QUIT_KEYS:
            self.exit()
            return
        button = KEY_BUTTONS.get(event.key)
        if button is not None:
            event.stop()
            self.driver.deliver(button)

    def screen_text(self) -> str:
        """What the LCD widget shows now (for tests)."""
        return str(self.query_one("#lcd", Static).render())


class TerminalLcd:
    """`LcdDriver` drawn in a terminal by Textual."""

    def __init__(self) -> None:
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
