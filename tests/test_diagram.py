"""`make diagram` draws exactly the machine the phone runs, with the Graphviz engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from pysnac.cli import diagram as diagram_cli
from pysnac_fsm import machine as fsm_machine
from pysnac_fsm import table
from pysnac_fsm.diagram import diagram_edges, diagram_graph
from pysnac_fsm.machine import DiagramError, machine_edges
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


def test_fallback_engine_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    import transitions.extensions.diagrams_graphviz as backend

    monkeypatch.setattr(backend, "pgv", None)  # as if `import graphviz` had failed
    with pytest.raises(DiagramError, match="fell back"):
        fsm_machine.build_graph_machine(type("Model", (), {})())
