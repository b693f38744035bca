"""One module per `main.py` subcommand: `configure(parser)` and `main(args) -> int`.

Modules here import only argparse-level things at import time; everything heavy is
imported inside `main`, so `main.py --help` and start-up stay fast.
"""
