"""The import structure of ``src/shieldwall``, read from the source with :mod:`ast` (nothing is
imported): no import cycle between packages or between modules, and no package reaching into
another's private module (``shieldwall.x._y`` from outside ``shieldwall.x``; other packages use
what ``shieldwall.x`` exports).

Every import counts: module level, inside functions (the usual way of hiding a cycle) and under
``TYPE_CHECKING``. A *package* is the first name under ``shieldwall`` (``shieldwall.cases.mail``
is in ``cases``; a top-level module such as ``shieldwall.config`` is a package of its own).

Run it as a script to print every cycle and reach-in, the allowed ones included::

    python tests/test_layers.py
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "shieldwall"

# An entry is a debt: remove it as soon as its cycle is gone (test_allowances_are_still_needed
# says when). None today.
#: Module cycles allowed, each as the sorted tuple of its modules.
ALLOWED_MODULE_CYCLES: frozenset[tuple[str, ...]] = frozenset()
#: Package cycles allowed, each as the sorted tuple of its packages. None today.
ALLOWED_PACKAGE_CYCLES: frozenset[tuple[str, ...]] = frozenset()
#: Private-module imports allowed, as (importing module, imported private module). None today.
ALLOWED_PRIVATE_IMPORTS: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Import:
    """One import of a shieldwall module by another, where it is written."""

    importer: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.target}"


@cache
def modules() -> Mapping[str, Path]:
    """Dotted module name -> source file, for every module under ``src/shieldwall``."""
    found: dict[str, Path] = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str) -> str | None:
    """The shieldwall module that importing ``name`` runs (a name inside a module resolves to
    the module); ``None`` outside shieldwall."""
    known = modules()
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


@cache
def imports() -> tuple[Import, ...]:
    """Every import of a shieldwall module, in every module, at any depth of the syntax tree."""
    found: dict[Import, None] = {}  # an ordered set: one line can import several names
    for module, path in modules().items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([base] if base else [])])
                # ``from shieldwall.x import y`` imports the module shieldwall.x.y if there is
                # one, else a name of shieldwall.x.
                names = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base
                    for alias in node.names
                ]
            else:
                continue
            for name in names:
                if name != ROOT and not name.startswith(f"{ROOT}."):
                    continue
                target = _resolve(name)
                if target is not None and target != module:
                    found[Import(module, target, node.lineno)] = None
    return tuple(found)


def package_of(module: str) -> str:
    """``shieldwall.cases.mail`` -> ``cases``; ``shieldwall.config`` -> ``config``; the root
    package ``shieldwall`` -> ``shieldwall``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def module_graph() -> dict[str, set[str]]:
    """Module -> the modules it imports."""
    graph: dict[str, set[str]] = {m: set() for m in modules()}
    for imp in imports():
        graph[imp.importer].add(imp.target)
    return graph


# A layer-order check belongs beside these: a table of layers (faces: cli, service, worker >
# workflows: cases, jobs, webhooks > domain: banks, matching > index, store > signals, media >
# config, errors), and a test that every edge of package_graph() points to the same layer or
# a lower one, reported with the imports that make it (_edges_within).


def package_graph() -> dict[str, set[str]]:
    """Package -> the other packages it imports (the base for a layer-order check)."""
    graph: dict[str, set[str]] = {package_of(m): set() for m in modules()}
    for imp in imports():
        source, target = package_of(imp.importer), package_of(imp.target)
        if source != target:
            graph[source].add(target)
    return graph


def cycles(graph: Mapping[str, Set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _edges_within(members: tuple[str, ...], of: Mapping[str, str] | None = None) -> list[str]:
    """The imports that make up a cycle (between its members; ``of`` maps modules to the
    members they belong to, for package cycles)."""
    inside = set(members)
    lines = []
    for imp in imports():
        source = of[imp.importer] if of else imp.importer
        target = of[imp.target] if of else imp.target
        if source != target and source in inside and target in inside:
            lines.append(f"  {imp}")
    return lines


def private_imports() -> list[Import]:
    """Imports of ``shieldwall.x._y`` (or anything below it) from outside ``shieldwall.x``."""
    found = []
    for imp in imports():
        parts = imp.target.split(".")
        private = any(p.startswith("_") and not p.startswith("__") for p in parts[2:])
        if private and package_of(imp.importer) != package_of(imp.target):
            found.append(imp)
    return found


def _packages() -> dict[str, str]:
    return {m: package_of(m) for m in modules()}


def test_the_source_is_found() -> None:
    # Guards the other tests against passing on an empty tree.
    assert "shieldwall.jobs" in modules()
    assert any(i.importer == "shieldwall.cases.decisions" for i in imports())


def test_no_import_cycle_between_packages() -> None:
    found = [c for c in cycles(package_graph()) if c not in ALLOWED_PACKAGE_CYCLES]
    report = [line for c in found for line in [" <-> ".join(c), *_edges_within(c, _packages())]]
    assert not found, "import cycles between packages:\n" + "\n".join(report)


def test_no_import_cycle_between_modules() -> None:
    found = [c for c in cycles(module_graph()) if c not in ALLOWED_MODULE_CYCLES]
    report = [line for c in found for line in [" <-> ".join(c), *_edges_within(c)]]
    assert not found, "import cycles between modules:\n" + "\n".join(report)


def test_no_import_of_another_packages_private_module() -> None:
    found = [i for i in private_imports() if (i.importer, i.target) not in ALLOWED_PRIVATE_IMPORTS]
    assert not found, (
        "private modules imported from outside their package (import from the package):\n"
        + "\n".join(f"  {i}" for i in found)
    )


def test_allowances_are_still_needed() -> None:
    # An allowance whose cycle or import is gone must be removed, so the list only shrinks.
    stale = [
        *(ALLOWED_MODULE_CYCLES - set(cycles(module_graph()))),
        *(ALLOWED_PACKAGE_CYCLES - set(cycles(package_graph()))),
        *(ALLOWED_PRIVATE_IMPORTS - {(i.importer, i.target) for i in private_imports()}),
    ]
    assert not stale, f"allowances no longer needed (remove them): {stale}"


def _report() -> Iterator[str]:
    for cycle in cycles(package_graph()):
        yield "package cycle: " + " <-> ".join(cycle)
        yield from _edges_within(cycle, _packages())
    for cycle in cycles(module_graph()):
        yield "module cycle: " + " <-> ".join(cycle)
        yield from _edges_within(cycle)
    for imp in private_imports():
        yield f"private import: {imp}"


if __name__ == "__main__":
    print("\n".join(_report()) or "no cycles, no private imports")
