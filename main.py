#!/usr/bin/env python3
"""PySNAC command line in a checkout: `python3 main.py [--config FILE] [COMMAND ...]`,
the same as the `pysnac` command an install gives (pysnac/cli/main.py)."""

from __future__ import annotations

import sys

from pysnac.cli.main import COMMANDS, build_parser, main

__all__ = ["COMMANDS", "build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
