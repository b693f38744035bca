"""Adafruit_CharLCD 1.1.1 on today's Raspberry Pi OS: the plate built from the library's own
classes, talking I2C through any object with smbus2's `SMBus` interface.

The library evaluates `GPIO.get_platform_gpio()`, `PWM.get_platform_pwm()` and
`I2C.get_default_bus()` as default arguments, so a plain import runs Adafruit_GPIO's platform
detection: it reads the `Hardware` line of /proc/cpuinfo, which 64-bit Pi OS kernels lack
("Could not determine platform"), and on a 32-bit Pi it imports RPi.GPIO. The plate needs
none of that (every pin is on its MCP23017), so `import_charlcd` imports the library with
those three functions answering None for the length of the import and restored after it;
the defaults they would have filled are never used because the plate passes its own
`gpio`. The MCP23017 gets an explicit `i2c` provider (`BusProvider`) whose devices are the
library's own `I2C.Device` over the bus we hand it (`smbus2.SMBus(1)` on a Pi, the
simulated plate in tests), so no bus number is guessed and Adafruit_PureIO is never opened.

The HD44780 waits: the library spins 1 ms before every byte and 1 us around every enable
pulse. Each of those waits is shorter than the I2C writes that follow it (a byte is nine
port writes of at least 90 us each at 400 kHz; the controller needs 37 us per
instruction), so `PlateHardware` sleeps only for the longer ones (3 ms after clear and
home) and never spins the CPU.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from pysnac.screen import LCD_COLUMNS, LCD_ROWS

PLATE_I2C_ADDRESS = 0x20
PLATE_I2C_BUS = 1  # /dev/i2c-1: the header's I2C pins on every Pi since revision 2
MCP23017_GPIOA = 0x12  # port A: the five buttons (active low) and the red/green LEDs
BUS_COVERS_WAIT_US = 1000  # waits up to this long are covered by the I2C writes after them

# The library's detection calls, by module, made to answer None while it is imported.
_DETECTION = (
    ("Adafruit_GPIO", "get_platform_gpio"),
    ("Adafruit_GPIO.PWM", "get_platform_pwm"),
    ("Adafruit_GPIO.I2C", "get_default_bus"),
)
_import_lock = threading.Lock()


def _undetected(*_args: Any, **_keywords: Any) -> None:
    return None


def import_charlcd() -> ModuleType:
    """`Adafruit_CharLCD.Adafruit_CharLCD`, imported without platform detection."""
    with _import_lock:
        loaded = sys.modules.get("Adafruit_CharLCD.Adafruit_CharLCD")
        if loaded is not None:
            return loaded
        import importlib

        saved = []
        for module_name, function in _DETECTION:
            module = importlib.import_module(module_name)
            saved.append((module, function, getattr(module, function)))
        try:
            for module, function, _original in saved:
                setattr(module, function, _undetected)
            return importlib.import_module("Adafruit_CharLCD.Adafruit_CharLCD")
        finally:
            for module, function, original in saved:
                setattr(module, function, original)


class BusProvider:
    """Adafruit_GPIO's `i2c` argument: devices are `I2C.Device`s on one open SMBus."""

    def __init__(self, bus: Any, busnum: int) -> None:
        self.bus = bus
        self.busnum = busnum
        self.devices: dict[int, Any] = {}

    def get_i2c_device(self, address: int, **_keywords: Any) -> Any:
        from Adafruit_GPIO.I2C import Device

        device = Device(address, self.busnum, i2c_interface=lambda _busnum: self.bus)
        self.devices[address] = device
        return device


class PlateHardware:
    """The plate as the library drives it: `lcd` (an `Adafruit_RGBCharLCD` on the
    MCP23017) for text, glyphs and colour, and `read_buttons` for all five buttons in one
    I2C read of port A."""

    def __init__(
        self,
        bus: Any,
        *,
        busnum: int = PLATE_I2C_BUS,
        address: int = PLATE_I2C_ADDRESS,
        sleep: Callable[[float], None],
    ) -> None:
        charlcd = import_charlcd()
        import Adafruit_GPIO as GPIO
        from Adafruit_GPIO.MCP230xx import MCP23017

        provider = BusProvider(bus, busnum)
        mcp = MCP23017(address=address, i2c=provider)
        self._device = provider.devices[address]
        # As Adafruit_CharLCDPlate sets it up: R/W low (write only), buttons pulled up.
        mcp.setup(charlcd.LCD_PLATE_RW, GPIO.OUT)
        mcp.output(charlcd.LCD_PLATE_RW, GPIO.LOW)
        self.button_bits = {
            pin: 1 << pin
            for pin in (charlcd.SELECT, charlcd.RIGHT, charlcd.DOWN, charlcd.UP, charlcd.LEFT)
        }
        for pin in self.button_bits:
            mcp.setup(pin, GPIO.IN)
            mcp.pullup(pin, True)

        class SleepingRGBCharLCD(charlcd.Adafruit_RGBCharLCD):  # type: ignore[misc, name-defined]
            def _delay_microseconds(self, microseconds: float) -> None:
                if microseconds > BUS_COVERS_WAIT_US:
                    sleep(microseconds / 1_000_000)

        self.lcd = SleepingRGBCharLCD(
            charlcd.LCD_PLATE_RS,
            charlcd.LCD_PLATE_EN,
            charlcd.LCD_PLATE_D4,
            charlcd.LCD_PLATE_D5,
            charlcd.LCD_PLATE_D6,
            charlcd.LCD_PLATE_D7,
            LCD_COLUMNS,
            LCD_ROWS,
            charlcd.LCD_PLATE_RED,
            charlcd.LCD_PLATE_GREEN,
            charlcd.LCD_PLATE_BLUE,
            gpio=mcp,
            enable_pwm=False,
            initial_color=(0.0, 0.0, 0.0),
        )

    def read_buttons(self) -> set[int]:
        """The library's button numbers (SELECT..LEFT = 0..4) held down now: one read."""
        port_a = self._device.readU8(MCP23017_GPIOA)
        return {pin for pin, bit in self.button_bits.items() if not port_a & bit}
