"""The one way every subcommand finds its config and identity key.

The config is `--config FILE` (accepted anywhere on the command line), else
`$PYSNAC_CONFIG`, else ~/.config/pysnac/config.toml. A file named explicitly must
exist; the default one is written with the commented defaults when a command that
needs it (`run`, `contacts add`) finds none. The identity key is the config's
`[device] key_file`; when there is no config yet, the key the default config would
name (`identity.key` beside it). So `whoami` prints the key the phone uses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pysnac.config import Config

KEY_FILE_NAME = "identity.key"  # the default config's `key_file`


def config_path(args: argparse.Namespace) -> Path:
    """`--config`, else `$PYSNAC_CONFIG`, else the per-user default path."""
    from pysnac.config import default_config_path

    explicit = getattr(args, "config", None)
    return Path(explicit).expanduser() if explicit else default_config_path()


def load(args: argparse.Namespace, *, create: bool) -> Config | None:
    """The config the command line names. A `--config` file must exist (ConfigError
    otherwise); a missing `$PYSNAC_CONFIG` or default file is written with the defaults
    when `create`, else the result is None."""
    from pysnac.config import load_config, load_or_create

    path = config_path(args)
    if getattr(args, "config", None) or path.exists():
        return load_config(path)
    if not create:
        return None
    config, created = load_or_create(path)
    if created:
        print(f"pysnac: wrote a default config to {config.path}; edit it", file=sys.stderr)
    return config


def key_path(args: argparse.Namespace) -> Path:
    """`--key-file` when the command has one, else the config's key file."""
    explicit = getattr(args, "key_file", None)
    if explicit:
        return Path(explicit).expanduser()
    config = load(args, create=False) if config_path(args).exists() else None
    if config is not None:
        return config.device.key_file
    return (config_path(args).absolute().parent / KEY_FILE_NAME).resolve()
