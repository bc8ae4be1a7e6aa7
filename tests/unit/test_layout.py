"""The tree stays readable: no import cycle among the hub's modules, no module over 400 lines.

The layers themselves (entry points > services > recipes > CSV files | connectors > domain) are
an import-linter contract in .importlinter, run by `make lint`.
"""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c == package or c.startswith(package + ".")), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_among_hub_modules():  # type: ignore[no-untyped-def]
    graph = grimp.build_graph("hub", "connectors", "worker", exclude_type_checking_imports=True,
                              cache_dir=None)  # a cached graph can hide a cycle just added
    assert _cycles(graph, "hub") == []
    assert _cycles(graph, "connectors") == []


def test_no_module_over_400_lines():  # type: ignore[no-untyped-def]
    long = {str(path.relative_to(ROOT)): n for folder in ("hub", "connectors", "worker")
            for path in (ROOT / folder).rglob("*.py") if "migrations" not in path.parts
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
