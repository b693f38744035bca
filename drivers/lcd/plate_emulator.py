"""The simulated twin of the Adafruit RGB LCD plate, at the I2C bus.

`PlateEmulator` answers smbus2's `SMBus` interface (`read_byte_data`,
`write_i2c_block_data`, ...) as the plate does: an MCP23017 port expander at 0x20 whose
port B drives an HD44780 in 4-bit mode (RS, R/W, E, D4..D7) and the blue LED, and whose
port A reads the five buttons (to ground, so pressed reads 0 through the pull-ups) and
drives the red and green LEDs (all LEDs lit when their pin is low). The plate driver's real
code, Adafruit's library included, runs on top of it unchanged, as gpiozero's mock pins
let its real device classes run; the emulator decodes what the glass would show.

The HD44780 model latches a nibble on each falling edge of E. It starts in 8-bit mode (the
plate does not wire D0..D3, so they read 0) until a function set selects 4 bits, then pairs
nibbles high first, and executes: clear, home, entry mode, display control, cursor/display
shift, function set, CGRAM and DDRAM addresses, data writes to either RAM (2-line DDRAM at
0x00-0x27 and 0x40-0x67). Time is virtual: each I2C transaction advances it by its length
on a 400 kHz bus and `sleep` advances it by the time asked, so a command latched while the
controller is still busy (37 us per instruction, 1.52 ms for clear and home) is counted in
`busy_violations`, deterministically.

Buttons: `hold`/`release` set a level; `press` queues a finger that holds the button for
a number of port A reads and then lets go for as many, so a poll loop sees one clean press
without anyone sleeping.
"""

from __future__ import annotations

import errno
import threading
from collections import deque

from pysnac.screen import LCD_COLUMNS, LCD_ROWS, Backlight, Button

I2C_ADDRESS = 0x20
I2C_BUS_HZ = 400_000  # the fastest the Pi's bus is usually set to: the least time per write
I2C_BITS_PER_BYTE = 9  # eight data bits and the acknowledge

# MCP23017 registers with IOCON.BANK = 0 (the power-on layout).
IODIRA, IODIRB = 0x00, 0x01
IPOLA, IPOLB = 0x02, 0x03
GPPUA, GPPUB = 0x0C, 0x0D
GPIOA, GPIOB = 0x12, 0x13
OLATA, OLATB = 0x14, 0x15
MCP_REGISTERS = 0x16

# The plate's wiring, from its schematic: bits of port A and port B.
BUTTON_BITS_A = {Button.SELECT: 0, Button.RIGHT: 1, Button.DOWN: 2, Button.UP: 3, Button.LEFT: 4}
RED_BIT_A, GREEN_BIT_A = 6, 7
BLUE_BIT_B, D7_BIT_B, D6_BIT_B, D5_BIT_B, D4_BIT_B, E_BIT_B, RW_BIT_B, RS_BIT_B = range(8)

# HD44780 timing (datasheet, 270 kHz oscillator).
HD44780_INSTRUCTION_S = 37e-6
HD44780_DATA_S = 41e-6
HD44780_CLEAR_HOME_S = 1.52e-3
DDRAM_LINE_CHARS = 40  # each line of a 2-line display holds 40 addresses
DDRAM_LINE_BASE = (0x00, 0x40)
CGRAM_SIZE = 64
CGRAM_SLOTS = 8
BLANK = 0x20

# ROM code A00 differs from ASCII at these codes; codes below 0x10 are the CGRAM glyphs.
ROM_A00 = {0x5C: "\u00a5", 0x7E: "\u2192", 0x7F: "\u2190"}
NOT_ASCII = "\ufffd"


def _bit(value: int, bit: int) -> int:
    return (value >> bit) & 1


class Hd44780:
    """The controller: DDRAM, CGRAM, address counter and modes, fed nibbles at E's fall."""

    def __init__(self) -> None:
        self.ddram = bytearray([BLANK]) * 0x80
        self.cgram = bytearray(CGRAM_SIZE)
        self.address = 0
        self.in_cgram = False
        self.four_bit = False
        self.two_lines = False
        self.increment = True
        self.shift_on_write = False
        self.display_on = False
        self.cursor_on = False
        self.blink_on = False
        self.shift = 0  # display shift, in cells
        self._high: int | None = None
        self.busy_until = 0.0
        self.busy_violations = 0
        self.instructions = 0
        self.data_writes = 0

    def latch(self, nibble: int, rs: bool, now: float) -> None:
        if now < self.busy_until:
            self.busy_violations += 1
        if not self.four_bit:
            self._execute(nibble << 4, rs, now)  # D0..D3 are not wired: they read 0
            return
        if self._high is None:
            self._high = nibble
            return
        byte, self._high = (self._high << 4) | nibble, None
        self._execute(byte, rs, now)

    def _execute(self, byte: int, rs: bool, now: float) -> None:
        if rs:
            self.data_writes += 1
            self.busy_until = now + HD44780_DATA_S
            self._write_data(byte)
            return
        self.instructions += 1
        self.busy_until = now + HD44780_INSTRUCTION_S
        if byte & 0x80:
            self.address, self.in_cgram = byte & 0x7F, False
        elif byte & 0x40:
            self.address, self.in_cgram = byte & 0x3F, True
        elif byte & 0x20:
            self.four_bit = not byte & 0x10
            self.two_lines = bool(byte & 0x08)
        elif byte & 0x10:
            step = 1 if byte & 0x04 else -1
            if byte & 0x08:
                self.shift = (self.shift - step) % DDRAM_LINE_CHARS
            else:
                self._move(step)
        elif byte & 0x08:
            self.display_on = bool(byte & 0x04)
            self.cursor_on = bool(byte & 0x02)
            self.blink_on = bool(byte & 0x01)
        elif byte & 0x04:
            self.increment = bool(byte & 0x02)
            self.shift_on_write = bool(byte & 0x01)
        elif byte & 0x02:
            self.address, self.in_cgram, self.shift = 0, False, 0
            self.busy_until = now + HD44780_CLEAR_HOME_S
        elif byte & 0x01:
            self.ddram[:] = bytes([BLANK]) * len(self.ddram)
            self.address, self.in_cgram, self.shift, self.increment = 0, False, 0, True
            self.busy_until = now + HD44780_CLEAR_HOME_S

    def _write_data(self, byte: int) -> None:
        if self.in_cgram:
            self.cgram[self.address] = byte
            self.address = (self.address + (1 if self.increment else -1)) % CGRAM_SIZE
            return
        self.ddram[self.address] = byte
        self._move(1 if self.increment else -1)
        if self.shift_on_write:
            self.shift = (self.shift + (1 if self.increment else -1)) % DDRAM_LINE_CHARS

    def _move(self, step: int) -> None:
        if self.in_cgram:
            self.address = (self.address + step) % CGRAM_SIZE
            return
        if not self.two_lines:
            self.address = (self.address + step) % 0x50
            return
        line = 1 if self.address >= DDRAM_LINE_BASE[1] else 0
        offset = self.address - DDRAM_LINE_BASE[line] + step
        if offset >= DDRAM_LINE_CHARS:
            line, offset = 1 - line, 0
        elif offset < 0:
            line, offset = 1 - line, DDRAM_LINE_CHARS - 1
        self.address = DDRAM_LINE_BASE[line] + offset

    def codes(self, row: int) -> bytes:
        """The character codes shown on `row` (display shift applied)."""
        base = DDRAM_LINE_BASE[row]
        return bytes(
            self.ddram[base + (column + self.shift) % DDRAM_LINE_CHARS]
            for column in range(LCD_COLUMNS)
        )

    def glyph(self, slot: int) -> tuple[int, ...]:
        """The 5x8 bitmap in CGRAM slot `slot`, one int per pixel row."""
        start = (slot % CGRAM_SLOTS) * 8
        return tuple(row & 0x1F for row in self.cgram[start : start + 8])


def decode(code: int) -> str:
    """One character code as the screen vocabulary spells it (glyphs as slot characters)."""
    if code < 0x10:
        return chr(code % CGRAM_SLOTS)
    if code in ROM_A00:
        return ROM_A00[code]
    if 0x20 <= code < 0x80:
        return chr(code)
    return NOT_ASCII


class PlateEmulator:
    """The plate behind smbus2's `SMBus` interface; thread-safe."""

    def __init__(self, address: int = I2C_ADDRESS) -> None:
        self.address = address
        self.registers = bytearray(MCP_REGISTERS)
        self.registers[IODIRA] = self.registers[IODIRB] = 0xFF  # power-on: all inputs
        self.lcd = Hd44780()
        self.now_s = 0.0
        self.reads = 0
        self.writes = 0
        self.port_a_reads = 0
        self.unplugged = False
        self._held: set[Button] = set()
        self._finger: deque[tuple[frozenset[Button], int]] = deque()
        self._pointer = 0
        self._lock = threading.Lock()
        self._drained = threading.Condition(self._lock)

    # ---- smbus2's SMBus interface ---------------------------------------------------------

    def write_byte_data(self, i2c_addr: int, register: int, value: int, force=None) -> None:
        self.write_i2c_block_data(i2c_addr, register, [value])

    def write_i2c_block_data(self, i2c_addr: int, register: int, data, force=None) -> None:
        with self._lock:
            self._answer(i2c_addr, len(data), reading=False)
            self.writes += 1
            for offset, value in enumerate(data):
                self._write_register((register + offset) % MCP_REGISTERS, value & 0xFF)

    def read_byte_data(self, i2c_addr: int, register: int, force=None) -> int:
        return self.read_i2c_block_data(i2c_addr, register, 1)[0]

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int, force=None):
        with self._lock:
            self._answer(i2c_addr, length, reading=True)
            self.reads += 1
            return [self._read_register((register + i) % MCP_REGISTERS) for i in range(length)]

    def write_byte(self, i2c_addr: int, value: int, force=None) -> None:
        with self._lock:
            self._answer(i2c_addr, 0, reading=False)
            self.writes += 1
            self._pointer = value % MCP_REGISTERS

    def read_byte(self, i2c_addr: int, force=None) -> int:
        with self._lock:
            self._answer(i2c_addr, 0, reading=True)
            self.reads += 1
            return self._read_register(self._pointer)

    def close(self) -> None:
        """Nothing to release (the SMBus interface has it)."""

    # ---- the test's side: fingers, time, what the glass shows -------------------------

    @property
    def transactions(self) -> int:
        return self.reads + self.writes

    def sleep(self, seconds: float) -> None:
        """Advance virtual time (what the driver's waits do on the emulated plate)."""
        with self._lock:
            self.now_s += seconds

    def hold(self, button: Button) -> None:
        with self._lock:
            self._held.add(button)

    def release(self, button: Button) -> None:
        with self._lock:
            self._held.discard(button)

    def press(self, button: Button, reads: int) -> None:
        """Hold `button` for the next `reads` reads of port A, then release it for as many."""
        with self._lock:
            self._finger.append((frozenset({button}), reads))
            self._finger.append((frozenset(), reads))

    def wait_fingers_done(self, timeout_s: float) -> bool:
        """Wait until every queued press has been read through (a polling driver's side)."""
        with self._drained:
            return self._drained.wait_for(lambda: not self._finger, timeout=timeout_s)

    def lines(self) -> tuple[str, str]:
        """The two rows as shown (blank while the display is off)."""
        with self._lock:
            if not self.lcd.display_on:
                return (" " * LCD_COLUMNS, " " * LCD_COLUMNS)
            rows = (self.lcd.codes(row) for row in range(LCD_ROWS))
            return tuple("".join(decode(code) for code in row) for row in rows)  # type: ignore[return-value]

    def backlight(self) -> Backlight:
        """The colour lit now: each LED is on while its output pin is low."""
        with self._lock:
            a, b = self._pins(0), self._pins(1)
            levels = (1 - _bit(a, RED_BIT_A), 1 - _bit(a, GREEN_BIT_A), 1 - _bit(b, BLUE_BIT_B))
        return Backlight(levels)

    # ---- the MCP23017 -----------------------------------------------------------------

    def _answer(self, i2c_addr: int, length: int, *, reading: bool) -> None:
        if i2c_addr != self.address or self.unplugged:
            raise OSError(errno.EREMOTEIO, f"no I2C device answers at {i2c_addr:#04x}")
        frame_bytes = 2 + length + (1 if reading else 0)  # address, register, (address), data
        self.now_s += frame_bytes * I2C_BITS_PER_BYTE / I2C_BUS_HZ

    def _write_register(self, register: int, value: int) -> None:
        if register in (GPIOA, GPIOB):
            register += OLATA - GPIOA  # writing a port writes its output latch
        before = self._pins(1)
        self.registers[register] = value
        after = self._pins(1)
        if _bit(before, E_BIT_B) and not _bit(after, E_BIT_B) and not _bit(after, RW_BIT_B):
            nibble = (
                _bit(after, D7_BIT_B) << 3
                | _bit(after, D6_BIT_B) << 2
                | _bit(after, D5_BIT_B) << 1
                | _bit(after, D4_BIT_B)
            )
            self.lcd.latch(nibble, bool(_bit(after, RS_BIT_B)), self.now_s)

    def _pins(self, port: int) -> int:
        """Levels on a port: outputs from the latch, inputs from the outside world."""
        direction = self.registers[IODIRA + port]
        latch = self.registers[OLATA + port]
        outside = self._outside(port)
        return (latch & ~direction | outside & direction) & 0xFF

    def _outside(self, port: int) -> int:
        """What drives the input pins: pull-ups (a floating pin reads 0 here) and buttons."""
        level = self.registers[GPPUA + port]
        if port == 0:
            for button in self._buttons_down():
                level &= ~(1 << BUTTON_BITS_A[button])
        return level

    def _buttons_down(self) -> set[Button] | frozenset[Button]:
        return self._finger[0][0] if self._finger else self._held

    def _read_register(self, register: int) -> int:
        if register in (GPIOA, GPIOB):
            port = register - GPIOA
            inverted = self.registers[IPOLA + port] & self.registers[IODIRA + port]
            value = self._pins(port) ^ inverted
            if port == 0:
                self.port_a_reads += 1
                self._advance_finger()
            return value
        return self.registers[register]

    def _advance_finger(self) -> None:
        if not self._finger:
            return
        buttons, reads = self._finger[0]
        if reads > 1:
            self._finger[0] = (buttons, reads - 1)
            return
        self._finger.popleft()
        if not self._finger:
            self._drained.notify_all()
