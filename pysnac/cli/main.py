"""PySNAC command line: `pysnac [--config FILE] [COMMAND ...]` (the console command
`pip install .` makes) or `python3 main.py ...` in a checkout (main.py calls this).

Each subcommand lives in its own module under `pysnac/cli/`, which exposes
`configure(parser)` and `main(args) -> int`. Those modules are imported only as
far as argparse needs; heavy imports (audio, crypto, Firebase) happen inside
`main`, so start-up stays fast. Expected faults (`PysnacError`) become one
clear line on stderr and a non-zero exit status, never a traceback. So does a command
whose packages are not installed: an installed phone has the runtime requirements only,
while `demo` and `simulate` need a checkout (demo/, tests/) and requirements-dev.txt.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from pysnac.errors import PysnacError

# name -> (module, one-line help). The order is the order `--help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("pysnac.cli.run", "run the phone appliance (the default command)"),
    "whoami": ("pysnac.cli.whoami", "print this device's public key and fingerprint"),
    "contacts": ("pysnac.cli.contacts", "list, add or remove pinned contacts"),
    "devices": ("pysnac.cli.devices", "list the audio devices PyAudio can see"),
    "diagram": ("pysnac.cli.diagram", "render the state diagram to diagrams/"),
    "demo": ("pysnac.cli.demo", "call between two phones on this machine"),
    "simulate": ("pysnac.cli.simulate", "simulate a call offline and score it with PESQ"),
    "noise-vectors": ("pysnac.cli.noise_vectors", "run Noise test vectors from a JSON file"),
}
DEFAULT_COMMAND = "run"
MISSING_PACKAGE_EXIT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="PySNAC: a secure voice phone appliance.")
    parser.add_argument("--config", metavar="FILE", help="TOML config (default: per-user path)")
    parser.add_argument(
        "--log-level", default="WARNING", help="DEBUG, INFO, WARNING or ERROR (default WARNING)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a command not built yet is simply not offered
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.configure(command_parser)
        command_parser.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args([*argv, DEFAULT_COMMAND])
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args._module.main(args) or 0)
    except PysnacError as exc:
        print(f"pysnac: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        logging.getLogger(__name__).debug("missing package", exc_info=True)
        print(
            f"pysnac: `{args.command}` needs the Python package {exc.name!r}, which is not "
            "installed (the demo and tools need a checkout and requirements-dev.txt)",
            file=sys.stderr,
        )
        return MISSING_PACKAGE_EXIT
