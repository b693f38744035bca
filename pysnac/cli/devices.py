"""`main.py devices`: the sound devices PortAudio can see, to check a USB sound card.

Lists inputs and outputs with the index and name to put in the config (`input_device`,
`output_device` accept either), channel counts and default rate. With no device at all it
says so and how to fix it, instead of a traceback; exit status 1 then.
"""

from __future__ import annotations

import argparse
import sys

NO_DEVICES_HELP = (
    "no audio devices found. Plug in the USB sound card and check `aplay -l` / `arecord -l`;\n"
    "make it ALSA's default card (see docs/audio.md, 'Raspberry Pi sound setup'); on a\n"
    "machine without sound hardware, start a PulseAudio server with virtual devices."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind",
        choices=("all", "input", "output"),
        default="all",
        help="which devices to list (default all)",
    )


def main(args: argparse.Namespace) -> int:
    from drivers.audio import list_devices

    devices = list_devices()
    if args.kind == "input":
        devices = [d for d in devices if d.max_input_channels > 0]
    elif args.kind == "output":
        devices = [d for d in devices if d.max_output_channels > 0]
    if not devices:
        print(f"pysnac: {NO_DEVICES_HELP}", file=sys.stderr)
        return 1
    width = max(len(d.name) for d in devices)
    print(f"{'index':>5}  {'name':<{width}}  {'in':>3}  {'out':>3}  {'rate':>7}  host api")
    for d in devices:
        print(
            f"{d.index:>5}  {d.name:<{width}}  {d.max_input_channels:>3}  "
            f"{d.max_output_channels:>3}  {d.default_sample_rate:>7.0f}  {d.host_api}"
        )
    return 0
