"""The import graph: one direction of dependence, and no cycles (imports inside functions count).

    runner ──> slo ──> runner.shared <── runner        adapters: import neither runner nor slo
       └─────> adapters                               runner.shared: imports only itself
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("runner", "slo", "adapters")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that `name` imports anywhere in its body (functions included)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: never imported at run time
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def allowed(source: str, target: str) -> bool:
    """The one direction of dependence between the project's layers."""
    def layer(name: str) -> str:
        return "shared" if name.startswith("runner.shared") else name.split(".")[0]

    rules = {"shared": {"shared"}, "adapters": {"adapters"},
             "slo": {"slo", "shared"}, "runner": {"runner", "shared", "slo", "adapters"}}
    return layer(target) in rules[layer(source)] or (target == "runner" and source != "adapters")


def test_no_module_imports_itself_in_a_circle():
    assert cycles(graph()) == []


def test_dependencies_point_one_way():
    wrong = sorted(f"{source} -> {target}" for source, targets in graph().items()
                   for target in targets if not allowed(source, target))
    assert wrong == []


def test_the_graph_sees_imports_inside_functions():
    """A guard on the test itself: lazy imports (the norm here) are part of the graph."""
    edges = graph()
    assert "runner.shared.schemas" in edges["runner.shared.events"]  # a function-level import
    assert "slo.compute" in edges["runner.phases.report"]
