"""`main.py run` (the default command): run the phone appliance from the config.

The config is found as every command finds it (resolve.py: `--config`, `$PYSNAC_CONFIG`,
~/.config/pysnac/config.toml); on first run a commented default config is written there,
with a new identity key beside it, and the paths are printed.
"""

from __future__ import annotations

import argparse

LCD_CHOICES = ("plate", "plate-emulated", "terminal", "headless", "stdio")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lcd",
        choices=LCD_CHOICES,
        help="LCD driver, overriding the config (stdio: JSON screens out, button names in; "
        "plate-emulated: the same over the plate driver on an emulated plate)",
    )


def load_config_from_args(args: argparse.Namespace):  # -> Config
    """The config `--config` names (must exist), else the default path (created if new)."""
    from pysnac.cli.resolve import load

    return load(args, create=True)


def main(args: argparse.Namespace) -> int:
    from pysnac.runtime.app import run_appliance

    return run_appliance(load_config_from_args(args), args.lcd)
