"""The headless LCD: a simulated twin of the plate that records every screen.

Tests drive it with `press(Button.SELECT)` and read `screens` (every distinct screen in
order) and `lines`. In stdio mode, used when `make demo` runs phone processes, it also
prints each screen change as one JSON line on stdout (`{"type": "screen", ...}`) and reads
button names (`select`, `up`, `down`, `left`, `right`), one per line, from stdin; `quit` or
end of input stops the phone. `emit` lets the app print other JSON records (state changes)
on the same stream.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from typing import IO, Any

from pysnac.screen import Backlight, Button, ButtonCallback, fit_line, to_unicode

log = logging.getLogger(__name__)

QUIT_COMMAND = "quit"


class HeadlessLcd:
    """Records screens; optionally mirrors them as JSON lines and reads buttons from stdin."""

    def __init__(
        self, *, stdio: bool = False, stdin: IO[str] | None = None, stdout: IO[str] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._lines = (fit_line(""), fit_line(""))
        self._backlight = Backlight.OFF
        self._on_button: ButtonCallback | None = None
        self.screens: list[tuple[str, str]] = []
        self.stdio = stdio
        self._stdin = stdin if stdin is not None else sys.stdin
        self._stdout = stdout if stdout is not None else sys.stdout
        self._changed = threading.Condition(self._lock)

    @property
    def lines(self) -> tuple[str, str]:
        return self._lines

    @property
    def backlight(self) -> Backlight:
        return self._backlight

    def show(self, lines: tuple[str, str]) -> None:
        fitted = (fit_line(lines[0]), fit_line(lines[1]))
        with self._lock:
            if fitted == self._lines:
                return
            self._lines = fitted
            self.screens.append(fitted)
            self._changed.notify_all()
        if self.stdio:
            self.emit({"type": "screen", "lines": [to_unicode(line) for line in fitted]})

    def set_backlight(self, colour: Backlight) -> None:
        with self._lock:
            self._backlight = colour

    def attach(self, on_button: ButtonCallback) -> None:
        self._on_button = on_button

    def press(self, button: Button) -> None:
        """Simulate a press of `button` (delivered like a real one)."""
        if self._on_button is not None:
            self._on_button(button)

    def wait_for(self, predicate: Any, timeout_s: float) -> bool:
        """Wait until `predicate(lines)` holds; for tests of a running phone."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._lines), timeout=timeout_s)

    def emit(self, record: dict[str, Any]) -> None:
        """Print one JSON record as a line on stdout (stdio mode only)."""
        if not self.stdio:
            return
        text = json.dumps(record, ensure_ascii=False, sort_keys=True)
        with self._lock:
            self._stdout.write(text + "\n")
            self._stdout.flush()

    def serve(self, stop: threading.Event) -> None:
        if not self.stdio:
            stop.wait()
            return
        reader = threading.Thread(
            target=self._read_buttons, args=(stop,), name="lcd-stdin", daemon=True
        )
        reader.start()
        stop.wait()

    def _read_buttons(self, stop: threading.Event) -> None:
        for raw in self._stdin:
            word = raw.strip().lower()
            if not word:
                continue
            if word == QUIT_COMMAND:
                break
            try:
                button = Button(word)
            except ValueError:
                log.warning("stdin: not a button name: %r", word[:20])
                self.emit({"type": "error", "message": f"unknown button {word[:20]!r}"})
                continue
            self.press(button)
        stop.set()

    def close(self) -> None:
        self.set_backlight(Backlight.OFF)
