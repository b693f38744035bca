"""`main.py noise-vectors FILE...`: run Noise test vectors (the common JSON format).

Prints one line per failing vector and ends with `N passed, M failed, K skipped`; the
exit status is 1 when any vector failed, 2 when a file cannot be read or parsed.
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="test-vector JSON file(s)")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also list passed and skipped vectors"
    )


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pysnac.errors import UsageError
    from pysnac.noise import vectors

    results: list[vectors.VectorResult] = []
    for file in args.files:
        try:
            file_results = vectors.run_file(Path(file))
        except vectors.VectorFileError as exc:
            raise UsageError(str(exc)) from exc
        for result in file_results:
            if result.status == vectors.FAILED or args.verbose:
                detail = f": {result.detail}" if result.detail else ""
                print(
                    f"{result.status.upper()} {file}#{result.index} {result.protocol_name}{detail}"
                )
        results.extend(file_results)
    print(vectors.summary_line(results))
    return 1 if any(r.status == vectors.FAILED for r in results) else 0
