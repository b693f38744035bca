"""`main.py demo`: a real call between two phone processes on this machine (alice calls bob).

Prints each LCD screen as it changes, then the call summary (set-up time, frames per
direction, delays, both SAS, PESQ of what each side heard, whether the call survived).
`--loss`, `--burst`, `--delay`, `--jitter` and `--outage` impair the path between the
phones (demo/impair.py). See demo/run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from demo.impair import Impairment

MAX_CLOCK_SKEW_S = 10 * 365 * 86_400.0  # beyond a decade it is no longer a skew


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--clip", type=Path, metavar="WAV", help="alice's microphone (default: a bundled clip)"
    )
    parser.add_argument(
        "--bob-clip",
        type=Path,
        metavar="WAV",
        help="bob's microphone (default: a bundled synthetic voice)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/demo"),
        metavar="DIR",
        help="where alice_heard.wav and bob_heard.wav go (default out/demo)",
    )
    parser.add_argument(
        "--interactive",
        action="store_true",
        help="open the two terminal LCDs side by side (tmux) for a person to press buttons",
    )
    parser.add_argument(
        "--talk-s", type=float, default=6.0, metavar="S", help="how long they talk (default 6)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--real-audio",
        action="store_true",
        help="the phones use PyAudio on virtual sound devices (a private PulseAudio is "
        "started if no sound server runs, and removed afterwards)",
    )
    parser.add_argument(
        "--rendezvous",
        choices=("static", "lan", "firebase"),
        default="static",
        help="how the phones find each other (default static; lan runs in a private "
        "network namespace, needs root; firebase without --firebase-config uses the "
        "protocol test server from tests/)",
    )
    parser.add_argument(
        "--lcd",
        choices=("stdio", "plate-emulated"),
        default="stdio",
        help="the phones' LCD (plate-emulated: the plate driver and Adafruit's library on an "
        "emulated I2C plate; the screens printed are decoded from the HD44780 commands)",
    )
    parser.add_argument(
        "--clock-skew",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="bob's wall clock is off by this much; bob then also calls alice back",
    )
    parser.add_argument(
        "--network",
        choices=("open", "nat", "symmetric-nat", "udp-blocked"),
        help="both phones behind a home router of this kind, with coturn and the directory "
        "on an internet, all in network namespaces (needs root; removed afterwards)",
    )
    parser.add_argument("--firebase-url", metavar="URL", help="your database URL (firebase)")
    parser.add_argument(
        "--firebase-config", type=Path, metavar="FILE", help="your project's JSON (firebase)"
    )
    path = parser.add_argument_group(
        "impaired path",
        "the phones reach each other through a relay on loopback that impairs both "
        "directions from the first packet (static addresses only)",
    )
    path.add_argument("--loss", type=float, default=0.0, metavar="PCT", help="loss, percent")
    path.add_argument(
        "--burst",
        type=float,
        default=1.0,
        metavar="MEAN_FRAMES",
        help="mean loss burst in packets (Gilbert-Elliott; default 1: random loss)",
    )
    path.add_argument("--delay", type=float, default=0.0, metavar="MS", help="one-way delay")
    path.add_argument("--jitter", type=float, default=0.0, metavar="MS", help="delay std dev")
    path.add_argument(
        "--outage",
        action="append",
        default=[],
        metavar="AT_S:SECONDS",
        help="nothing passes for SECONDS from AT_S after the first packet (repeatable)",
    )
    path.add_argument("--seed", type=int, default=1, help="the impairment's random seed")
    path.add_argument(
        "--relay",
        action="store_true",
        help="go through the relay even with nothing impaired (a baseline for the rows above)",
    )


def impairment(args: argparse.Namespace) -> Impairment:
    """The relay's impairment from the flags; UsageError naming the flag that is wrong."""
    from demo.impair import Impairment, Outage
    from pysnac.errors import UsageError

    if not 0.0 <= args.loss < 100.0:
        raise UsageError("--loss must be a percentage from 0 to below 100")
    if args.burst < 1.0:
        raise UsageError("--burst must be at least 1 frame")
    if args.delay < 0 or args.jitter < 0:
        raise UsageError("--delay and --jitter must not be negative")
    try:
        outages = tuple(Outage.parse(text) for text in args.outage)
    except ValueError as exc:
        raise UsageError(f"--outage {exc}") from exc
    return Impairment(
        loss=args.loss / 100.0,
        burst_frames=args.burst,
        delay_s=args.delay / 1000.0,
        jitter_s=args.jitter / 1000.0,
        outages=outages,
        seed=args.seed,
    )


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    from demo.interactive import run_interactive
    from demo.rendezvous import (
        RendezvousChoice,
        in_private_netns,
        rerun_in_private_netns,
    )
    from demo.run import ALICE_CLIP, BOB_CLIP, format_summary, run_demo
    from pysnac.errors import UsageError

    clip = args.clip or ALICE_CLIP
    if args.talk_s <= 0 or args.talk_s > 600:
        raise UsageError("--talk-s must be between 0 and 600 seconds")
    choice = RendezvousChoice(args.rendezvous, args.firebase_url, args.firebase_config)
    choice.check()
    path = impairment(args)
    relayed = args.relay or not path.clean
    if relayed and choice.kind != "static":
        raise UsageError(
            "--loss, --burst, --delay, --jitter, --outage and --relay need static addresses"
        )
    if relayed and (args.network is not None or args.interactive):
        raise UsageError("an impaired path goes without --network and --interactive")
    if args.interactive:
        if choice.kind != "static":
            raise UsageError("--interactive runs with static addresses only")
        if args.real_audio:
            raise UsageError("--interactive plays the WAV clips; drop --real-audio")
        return run_interactive(clip, args.out)
    if args.network is not None:
        if args.interactive or choice.kind != "static":
            raise UsageError("--network brings its own directory; drop --rendezvous/--interactive")
        if os.geteuid() != 0:
            raise UsageError("--network needs root (it builds network namespaces)")
        # SIGTERM unwinds like Ctrl-C, so the namespaces and coturn are removed
        signal.signal(signal.SIGTERM, _interrupt)
    if choice.kind == "lan" and not in_private_netns():
        return rerun_in_private_netns(sys.argv[1:])  # mDNS never on the host's network
    echo = (lambda _line: None) if args.json else print
    if abs(args.clock_skew) > MAX_CLOCK_SKEW_S:
        raise UsageError(f"--clock-skew must be within +-{MAX_CLOCK_SKEW_S:.0f} seconds")
    result = run_demo(
        clip,
        args.out,
        args.talk_s,
        echo=echo,
        rendezvous=choice,
        real=args.real_audio,
        lcd=args.lcd,
        clock_skew_s=args.clock_skew,
        network=args.network,
        impairment=path if relayed else None,  # else phone to phone, no relay
        bob_clip=args.bob_clip or BOB_CLIP,
    )
    if args.json:
        data = asdict(result)
        data.pop("screens")
        print(json.dumps(data, default=str, indent=2))
    else:
        print(format_summary(result))
    ok = result.sas_match and result.call_back_ok is not False and result.survived
    return 0 if ok else 1
