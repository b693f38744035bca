"""The bus-level twin of the plate checked against the datasheets, not against Adafruit's
library: the test bit-bangs the HD44780 through the MCP23017's registers itself (the
plate's wiring: port B bit 7 RS, 6 R/W, 5 E, 4..1 D4..D7, 0 blue LED) and reads back what
the emulator decoded."""

from __future__ import annotations

import errno

import pytest

from drivers.lcd.plate_emulator import (
    GPIOA,
    GPIOB,
    GPPUA,
    I2C_ADDRESS,
    IODIRA,
    IODIRB,
    PlateEmulator,
    decode,
)
from pysnac.screen import Backlight, Button

RS, E = 1 << 7, 1 << 5
DATA_BITS = (4, 3, 2, 1)  # D4, D5, D6, D7 on port B


class BitBang:
    """Drives the HD44780 over the emulated bus one port write at a time."""

    def __init__(self, board: PlateEmulator) -> None:
        self.board = board
        board.write_byte_data(I2C_ADDRESS, IODIRB, 0x00)  # port B all outputs
        self.blue_off = 1  # LEDs are lit while low

    def nibble(self, value: int, rs: bool) -> None:
        port = (RS if rs else 0) | self.blue_off
        for position, bit in enumerate(DATA_BITS):
            if value >> position & 1:
                port |= 1 << bit
        self.board.write_byte_data(I2C_ADDRESS, GPIOB, port | E)
        self.board.write_byte_data(I2C_ADDRESS, GPIOB, port)  # latched on E's fall
        self.board.sleep(2e-3)

    def byte(self, value: int, rs: bool = False) -> None:
        self.nibble(value >> 4, rs)
        self.nibble(value & 0x0F, rs)

    def start(self) -> None:
        for value in (0x3, 0x3, 0x3, 0x2):  # the datasheet's 4-bit initialisation
            self.nibble(value, rs=False)
        self.byte(0x28)  # function set: 4 bits, 2 lines
        self.byte(0x0C)  # display on
        self.byte(0x06)  # entry mode: increment
        self.byte(0x01)  # clear

    def text(self, text: str) -> None:
        for ch in text:
            self.byte(ord(ch), rs=True)


def started() -> tuple[PlateEmulator, BitBang]:
    board = PlateEmulator()
    bang = BitBang(board)
    bang.start()
    return board, bang


def test_four_bit_start_then_text_on_both_lines() -> None:
    board, bang = started()
    assert board.lcd.four_bit and board.lcd.two_lines and board.lcd.display_on
    bang.text("Hello")
    bang.byte(0x80 | 0x40 | 3)  # DDRAM address 0x43: second line, column 3
    bang.text("world")
    assert board.lines() == ("Hello".ljust(16), "   world".ljust(16))
    assert board.lcd.address == 0x48
    assert board.lcd.busy_violations == 0


def test_a_line_runs_on_into_the_next_after_forty_addresses() -> None:
    board, bang = started()
    bang.byte(0x80 | 0x26)
    bang.text("abc")  # 0x26, 0x27, then 0x40
    assert board.lines()[1].startswith("c")
    assert board.lcd.ddram[0x26:0x28] == b"ab"


def test_decrement_mode_display_shift_and_display_off() -> None:
    board, bang = started()
    bang.byte(0x04)  # entry mode: decrement
    bang.byte(0x80 | 2)
    bang.text("abc")  # written right to left from column 2
    assert board.lines()[0].startswith("cba")
    bang.byte(0x18)  # shift the display left: column 0 shows address 1
    assert board.lines()[0].startswith("ba")
    bang.byte(0x08)  # display off
    assert board.lines() == (" " * 16, " " * 16)


def test_cgram_glyphs_and_rom_codes() -> None:
    board, bang = started()
    bang.byte(0x40 | 3 << 3)  # CGRAM slot 3
    for row in (0x1F, 0x11, 0x0A, 0x04, 0x00, 0x04, 0x0A, 0xFF):
        bang.byte(row, rs=True)
    assert board.lcd.glyph(3) == (0x1F, 0x11, 0x0A, 0x04, 0x00, 0x04, 0x0A, 0x1F)
    bang.byte(0x80)
    for code in (3, 11, 0x5C, 0x7E, 0xB1):
        bang.byte(code, rs=True)
    assert board.lines()[0][:5] == "\x03\x03\u00a5\u2192\ufffd"
    assert decode(ord("A")) == "A"


def test_a_command_sent_while_busy_is_counted() -> None:
    board, bang = started()
    bang.byte(0x01)
    bang.board.sleep = lambda _s: None  # type: ignore[method-assign]
    before = board.lcd.busy_violations
    bang.byte(0x01)  # clear (1.52 ms), then at once another command
    bang.byte(0x02)
    assert board.lcd.busy_violations > before


def test_buttons_pull_ups_and_backlight() -> None:
    board = PlateEmulator()
    board.write_i2c_block_data(I2C_ADDRESS, IODIRA, [0x1F, 0x00])  # buttons in, LEDs out
    assert board.read_byte_data(I2C_ADDRESS, GPIOA) & 0x1F == 0  # floating without pull-ups
    board.write_byte_data(I2C_ADDRESS, GPPUA, 0x1F)
    assert board.read_byte_data(I2C_ADDRESS, GPIOA) & 0x1F == 0x1F
    board.hold(Button.UP)
    board.hold(Button.LEFT)
    assert board.read_byte_data(I2C_ADDRESS, GPIOA) & 0x1F == 0x1F & ~(1 << 3 | 1 << 4)
    board.release(Button.UP)
    board.release(Button.LEFT)
    board.press(Button.SELECT, reads=2)
    levels = [board.read_byte_data(I2C_ADDRESS, GPIOA) & 1 for _ in range(5)]
    assert levels == [0, 0, 1, 1, 1]
    assert board.wait_fingers_done(0.0)
    board.write_i2c_block_data(I2C_ADDRESS, GPIOA, [0xFF & ~(1 << 6), 0x01])  # red low: lit
    assert board.backlight() is Backlight.RED
    board.write_i2c_block_data(I2C_ADDRESS, GPIOA, [0x00, 0x00])
    assert board.backlight() is Backlight.WHITE


def test_only_its_address_answers() -> None:
    board = PlateEmulator()
    with pytest.raises(OSError) as caught:
        board.read_byte_data(0x21, GPIOA)
    assert caught.value.errno == errno.EREMOTEIO
    assert board.transactions == 0
