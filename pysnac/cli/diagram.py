"""`main.py diagram` (`make diagram`): render the state table to diagrams/*.svg and *.png.

The diagram is drawn with Graphviz from the same table the phone runs, nested for
reading (`pysnac_fsm/diagram.py`); the command fails if Graphviz is missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "diagrams" / "state-machine"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="output path without extension (default: diagrams/state-machine)",
    )


def render(output: Path) -> list[Path]:
    """Write `<output>.svg` and `<output>.png`; returns the paths."""
    from pysnac_fsm.diagram import diagram_graph

    graph = diagram_graph()
    output.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in ("svg", "png"):
        target = output.with_suffix(f".{fmt}")
        target.write_bytes(graph.pipe(format=fmt))
        written.append(target)
    return written


def main(args: argparse.Namespace) -> int:
    for path in render(args.output):
        print(path)
    return 0
