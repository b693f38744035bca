"""PySNAC command line: `pysnac [--config FILE] [COMMAND ...]` (the console command
`pip install .` makes) or `python3 main.py ...` in a checkout (main.py calls this).

Each subcommand lives in its own module under `pysnac/cli/`, which exposes
`configure(parser)` and `main(args) -> int`. Those modules are imported only as
far as argparse needs; heavy imports (audio, crypto, Firebase) happen inside
`main`, so start-up stays fast. Expected faults (`PysnacError`) become one
clear line on stderr and a non-zero exit status, never a traceback. So does a command
whose packages are not installed: an installed phone has the runtime requirements only,
while `demo` and `simulate` need a checkout (demo/, tests/) and requirements-dev.txt.

The global options (`--config`, `--log-level`) are accepted anywhere on the command line,
before or after the subcommand: every subcommand's parser carries them too.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Any

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
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def version() -> str:
    """The installed package's version, else the checkout's pyproject.toml's."""
    from importlib import metadata
    from pathlib import Path

    try:
        return metadata.version("pysnac")
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]


class VersionAction(argparse.Action):
    """`--version`, looked up only when asked: importlib.metadata costs a phone that never
    prints its version about 2 MiB and 40 ms at every start."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any) -> None:
        print(f"{parser.prog} {version()}")  # stdout, as argparse's own version action
        parser.exit()


def log_level(text: str) -> str:
    """argparse type: a log level name, any case."""
    level = text.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(LOG_LEVELS)}")
    return level


def add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """`--config` and `--log-level`. On a subcommand's parser they default to SUPPRESS, so
    one given before the subcommand is not overwritten by the subcommand's default."""
    default = (lambda value: value) if top else (lambda _value: argparse.SUPPRESS)
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default(None),
        help="TOML config (default: $PYSNAC_CONFIG, else ~/.config/pysnac/config.toml)",
    )
    parser.add_argument(
        "--log-level",
        type=log_level,
        default=default("WARNING"),
        metavar="LEVEL",
        help=f"{', '.join(LOG_LEVELS)} (default WARNING)",
    )


def _sub_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser below `parser` (subcommands and their own actions, like `contacts add`)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += [child, *_sub_parsers(child)]
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="PySNAC: a secure voice phone appliance.")
    parser.add_argument("--version", action=VersionAction, help="print the version and exit")
    add_global_options(parser, top=True)
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
    for child in _sub_parsers(parser):
        add_global_options(child, top=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args([*argv, DEFAULT_COMMAND])
    logging.basicConfig(
        level=getattr(logging, args.log_level),
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
