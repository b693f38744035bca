"""The layers of docs/architecture.md, checked from the source: who may import whom.

Every import in the product (also those inside functions, which load lazily) is read with
`ast`; each module belongs to a unit (a subpackage or top-level module of `pysnac`, the
machine `pysnac_fsm`, the screens `states`, a driver family, the demo). The units must form
no cycle, and each kind of unit may import only the kinds below it: nothing pure imports
the runtime or a driver, and the screens and LCD drivers share `pysnac.screen` instead of
importing each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("pysnac", "pysnac_fsm", "states", "drivers", "demo")

# The kinds of unit, and the kinds each may import (besides itself).
PURE_CORE = "pure core"
MACHINE = "machine"
SCREENS = "screens"
DRIVERS = "drivers"
RUNTIME = "runtime"
EDGE = "command line and demo"
ALLOWED: dict[str, set[str]] = {
    PURE_CORE: set(),
    MACHINE: {PURE_CORE},
    SCREENS: {PURE_CORE, MACHINE},
    DRIVERS: {PURE_CORE},
    RUNTIME: {PURE_CORE, MACHINE, SCREENS, DRIVERS},
    EDGE: {PURE_CORE, MACHINE, SCREENS, DRIVERS, RUNTIME},
}


def unit_of(module: str) -> str | None:
    """`pysnac.call.wire` -> `pysnac.call`; `pysnac_fsm.table` -> `pysnac_fsm`."""
    parts = module.split(".")
    if parts[0] not in PACKAGES:
        return None
    if parts[0] in ("pysnac", "drivers") and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def kind_of(unit: str) -> str:
    if unit in ("pysnac.runtime",):
        return RUNTIME
    if unit in ("pysnac.cli", "demo"):
        return EDGE
    if unit == "pysnac_fsm":
        return MACHINE
    if unit == "states":
        return SCREENS
    if unit.startswith("drivers"):
        return DRIVERS
    return PURE_CORE


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            unit = unit_of(module_name(path))
            assert unit is not None
            targets = graph.setdefault(unit, set())
            for imported in imports_of(path):
                target = unit_of(imported)
                if target is not None and target != unit:
                    targets.add(target)
    # `from pysnac import screen` also names the bare package, whose __init__ holds nothing.
    for targets in graph.values():
        targets.difference_update({"pysnac", "drivers"})
    return graph


def test_every_import_goes_down_the_layers() -> None:
    wrong = []
    for unit, targets in unit_graph().items():
        for target in targets:
            if kind_of(target) != kind_of(unit) and kind_of(target) not in ALLOWED[kind_of(unit)]:
                wrong.append(f"{unit} ({kind_of(unit)}) imports {target} ({kind_of(target)})")
    assert wrong == []


def test_no_import_cycle_between_units() -> None:
    graph = unit_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = 1
        for target in sorted(graph.get(unit, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[unit] = 2

    for unit in sorted(graph):
        if unit not in state:
            visit(unit, [unit])
    assert cycles == []


def test_the_rules_see_a_violation() -> None:
    """The checker itself: a pure core importing the runtime is reported."""
    assert kind_of("pysnac.channel") == PURE_CORE
    assert RUNTIME not in ALLOWED[kind_of("pysnac.channel")]
    assert DRIVERS not in ALLOWED[SCREENS]
    assert SCREENS not in ALLOWED[DRIVERS]
