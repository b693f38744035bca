"""The LCD plate's I2C traffic, counted on the bus-level twin of the plate.

Runs the plate driver (Adafruit's library included) on the emulated plate: its poll loop
idles for IDLE_S of real time at BUTTON_POLL_HZ, then the in-call screen is redrawn once a
second as the call timer ticks. Prints I2C transactions per second at idle (one read of
port A per poll for all five buttons), per timer tick, and for a full screen.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.lcd.plate import PlateLcd
from drivers.lcd.plate_emulator import PlateEmulator
from pysnac.limits import BUTTON_POLL_HZ
from pysnac.screen import CUSTOM_CHARS, GLYPH_BARS

IDLE_S = 3.0


def main() -> int:
    board = PlateEmulator()
    lcd = PlateLcd(board, sleep=board.sleep)
    glyphs = len(CUSTOM_CHARS)
    print(f"start-up (init, {glyphs} glyphs, clear, backlight): {board.transactions} transactions")

    stop = threading.Event()
    poller = threading.Thread(target=lcd.serve, args=(stop,))
    before_reads, before_writes = board.reads, board.writes
    started = time.monotonic()
    poller.start()
    stop.wait(IDLE_S)
    stop.set()
    poller.join()
    elapsed = time.monotonic() - started
    reads, writes = board.reads - before_reads, board.writes - before_writes
    print(
        f"idle, polling at {BUTTON_POLL_HZ} Hz for {elapsed:.1f} s: "
        f"{(reads + writes) / elapsed:.1f} I2C transactions/s "
        f"({reads / elapsed:.1f} reads/s, {writes} writes)"
    )

    before = board.transactions
    lcd.show(("bob        0:01" + GLYPH_BARS[4], "SAS K3X9   Vol 7"))
    full = board.transactions - before
    before = board.transactions
    lcd.show(("bob        0:02" + GLYPH_BARS[4], "SAS K3X9   Vol 7"))
    tick = board.transactions - before
    print(f"full in-call screen: {full} transactions; timer tick (one cell): {tick}")
    print(f"HD44780 commands latched while busy: {board.lcd.busy_violations}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
