"""Dependencies point one way (DESIGN.md): no import circle between lawful's modules, at any depth, counting the
imports inside functions too; ``core`` imports nothing of ours; burn never imports hydro; nothing imports cli."""

from __future__ import annotations

import ast
from pathlib import Path

import lawful

ROOT = Path(lawful.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the lawful modules it imports (``from a import b`` counts ``a.b`` when that is a module)."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}: relative import; lawful uses absolute imports"
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_planted_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles():
    assert cycles(import_graph()) == []


def _domain(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "lawful"


def test_dependencies_point_one_way():
    graph = import_graph()
    forbidden = {  # importer domain -> domains it must not import
        "core": {"lawful", "lattice", "burn", "hydro", "burn_hydro", "cli", "testing"},
        "burn": {"hydro", "burn_hydro", "lattice", "cli"},
        "hydro": {"burn_hydro", "lattice", "cli"},
        "lattice": {"burn", "hydro", "burn_hydro", "cli"},
        "burn_hydro": {"cli"},
        "testing": {"cli"},
        "lawful": {"cli"},
    }
    bad = sorted((m, t) for m, targets in graph.items() for t in targets
                 if _domain(t) in forbidden.get(_domain(m), set()))
    assert bad == []


def test_hydro_reaches_burners_only_through_the_registry():
    graph = import_graph()
    burner_modules = {m for m in graph if m.startswith("lawful.burn.surrogate")} | {"lawful.burn.burner"}
    bad = sorted((m, t) for m, targets in graph.items() if _domain(m) == "hydro" for t in targets & burner_modules)
    assert bad == []
