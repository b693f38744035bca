"""`main.py devices`: the sound devices PortAudio can see, to check a USB sound card.

Lists inputs and outputs with the index and name to put in the config (`input_device`,
`output_device` accept either), channel counts and default rate. With no device at all it
says so and how to fix it, instead of a traceback; exit status 1 then.
"""

from __future__ import annotations

import argparse
import sys

NO_DEVICES_HELP = (
    "no audio devices found.\n"
    "  With a USB sound card: plug it in, check that `cat /proc/asound/cards` lists it and\n"
    "  make it ALSA's default card (docs/audio.md, 'Raspberry Pi sound setup').\n"
    "  Without sound hardware: start a sound server with one virtual device, then run this\n"
    "  again (PulseAudio is installed by scripts/setup.sh):\n"
    "    pulseaudio --start --exit-idle-time=-1\n"
    "    pactl load-module module-null-sink sink_name=pysnac_speaker\n"
    "  (`main.py demo --real-audio` starts and removes a private one by itself.)"
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
