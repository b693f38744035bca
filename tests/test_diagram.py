"""`make diagram` draws exactly the machine the phone runs, with the Graphviz engine."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from pysnac.cli import diagram as diagram_cli
from pysnac_fsm import table
from pysnac_fsm.diagram import DiagramError, diagram_edges, diagram_graph
from pysnac_fsm.machine import machine_edges
from pysnac_fsm.phone import PhoneModel
from tests.fake_call_service import SyncPhone


def test_diagram_edges_equal_runtime_machine_edges(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    drawn = diagram_edges(diagram_graph().source)
    assert drawn == machine_edges(phone.machine)
    assert len(drawn) > 100


def test_every_callback_in_the_table_exists() -> None:
    assert all(callable(getattr(PhoneModel, name, None)) for name in table.callback_names())


def test_every_state_is_drawn() -> None:
    source = diagram_graph().source
    for state in table.ALL_STATES:
        assert f"\t{state} [" in source


def test_render_writes_svg_and_png(tmp_path: Path) -> None:
    svg, png = diagram_cli.render(tmp_path / "sm")
    assert svg.read_text().lstrip().startswith("<?xml") and "in_call" in svg.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_committed_diagram_is_current(repo: Path) -> None:
    committed = (repo / "diagrams" / "state-machine.svg").read_text()
    for _source, _dest, trigger in table.edges():
        assert trigger in committed, "run `make diagram` and commit the result"
    assert "mermaid" not in committed


def test_missing_graphviz_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if `import graphviz` failed
    with pytest.raises(DiagramError, match="graphviz"):
        diagram_graph()


def test_menus_and_failures_leave_their_box_once() -> None:
    """Nested: what every state of a box takes is drawn once, from the box's edge."""
    source = diagram_graph().source
    for trigger, box in [
        ("incoming_call", "cluster_idle"),
        ("key_changed", "cluster_idle"),
        ("timeout", "cluster_menus"),
        ("shut_down", "cluster_on"),
        ("peer_lost", "cluster_call"),
        ("remote_busy", "cluster_connecting"),
    ]:
        drawn = [line for line in source.splitlines() if "->" in line and trigger in line]
        assert sum(f"ltail={box}" in line for line in drawn) == 1, (trigger, drawn)
    edges = [line for line in source.splitlines() if "->" in line]
    assert not any("directory_status" in line for line in edges)


def test_png_is_legible_width(repo: Path) -> None:
    """At most 2000 pixels wide (and not so small its text is unreadable at 1600)."""
    header = (repo / "diagrams" / "state-machine.png").read_bytes()[:24]
    width, height = struct.unpack(">II", header[16:24])
    assert 1200 <= width <= 2000, (width, height)
