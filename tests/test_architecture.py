"""The layers of docs/architecture.md hold: no module imports a layer above its own (imports at
module level, inside functions, under ``TYPE_CHECKING``, and modules named in strings for lazy
loading all count), every package is in the table, the faces keep apart from each other, and
the faces hold no database queries."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "shieldwall"
DOC = ROOT / "docs" / "architecture.md"

#: The layers, highest first, as docs/architecture.md draws them: the top-level packages and
#: modules of ``shieldwall`` (``shieldwall`` itself is the package's ``__init__.py``).
LAYERS: dict[str, tuple[str, ...]] = {
    "faces": ("api", "web", "cli", "server", "service", "worker", "shieldwall", "__main__"),
    "workflows": ("cases", "exchange", "jobs", "webhooks"),
    "domain": ("banks", "matching", "people", "audit", "hashing", "deployment", "custody"),
    "index and store": ("index", "store", "replicas"),
    "signals and media": ("signals", "media", "net"),
    "base": ("config", "errors", "plugins", "_version"),
    "standalone": ("codescan", "guard"),
}
_ORDER = ["faces", "workflows", "domain", "index and store", "signals and media", "base"]

#: What each layer may import: itself and the layers below; the standalone code scanner only
#: the base, and only the faces import it.
MAY_IMPORT: dict[str, set[str]] = {
    layer: {*_ORDER[i:], *(["standalone"] if layer == "faces" else [])}
    for i, layer in enumerate(_ORDER)
}
MAY_IMPORT["standalone"] = {"standalone", "base"}

#: Imports of a lower layer from a higher one that cannot be fixed yet, as
#: ``(importing module, imported module)``, each with the reason. None today.
ALLOWED: set[tuple[str, str]] = set()


_MODULE_NAME = re.compile(r"shieldwall(\.[A-Za-z_][A-Za-z0-9_]*)+")


@dataclass(frozen=True)
class Import:
    """One import of a ``shieldwall`` module: who, what, where."""

    module: str
    target: str
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _exists(name: str) -> bool:
    base = SRC.parent.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


@cache
def _modules() -> dict[str, tuple[Path, ast.Module]]:
    return {
        _module_name(path): (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for path in sorted(SRC.rglob("*.py"))
    }


def _is_logger_name(node: ast.Constant, parents: dict[ast.AST, ast.AST]) -> bool:
    call = parents.get(node)
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute | ast.Name)
        and (call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id)
        == "getLogger"
    )


def imports_of(module: str, tree: ast.Module, *, is_package: bool) -> list[Import]:
    """Every ``shieldwall`` module ``module`` imports, wherever the import is."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append(Import(module, target, node.lineno))
            # ``from shieldwall.x import y`` may import the module ``shieldwall.x.y``.
            found += [
                Import(module, f"{target}.{a.name}", node.lineno)
                for a in node.names
                if _exists(f"{target}.{a.name}")
            ]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value.split(":")[0]  # "shieldwall.signals.pdq:PdqSignal"
            if (
                _MODULE_NAME.fullmatch(name)
                and _exists(name)
                and not _is_logger_name(node, parents)
            ):
                found.append(Import(module, name, node.lineno))
    return [i for i in found if i.target == "shieldwall" or i.target.startswith("shieldwall.")]


def top_of(module: str) -> str:
    """The entry of the table a module belongs to: ``shieldwall.cases.notices`` -> ``cases``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "shieldwall"


def layer_of(module: str) -> str:
    top = top_of(module)
    for layer, members in LAYERS.items():
        if top in members:
            return layer
    raise AssertionError(f"{top} is in no layer of LAYERS (docs/architecture.md)")


@cache
def all_imports() -> list[Import]:
    return [
        i
        for name, (path, tree) in _modules().items()
        for i in imports_of(name, tree, is_package=path.name == "__init__.py")
    ]


def test_every_package_and_module_is_in_the_table() -> None:
    present = {
        p.name if p.is_dir() else p.stem
        for p in SRC.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file()) or p.suffix == ".py"
    }
    present = {"shieldwall" if name == "__init__" else name for name in present}
    listed = [name for members in LAYERS.values() for name in members]
    assert len(listed) == len(set(listed)), "a package is in two layers"
    assert present == set(listed)


def test_the_documentation_draws_the_same_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    for layer, members in LAYERS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| {layer} |")), None)
        assert row is not None, f"docs/architecture.md has no row for the layer {layer!r}"
        for name in members:
            spelled = {
                "shieldwall": "`shieldwall/__init__.py`",
                "__main__": "`__main__.py`",
            }.get(name, f"`{name}/`" if (SRC / name).is_dir() else f"`{name}.py`")
            assert spelled in row, f"{spelled} is not in the {layer!r} row of the docs"


def test_the_parser_sees_every_kind_of_import() -> None:
    source = """
from __future__ import annotations
from typing import TYPE_CHECKING
import shieldwall.config
from shieldwall.errors import NotFound
from . import sibling
if TYPE_CHECKING:
    from shieldwall.store import Database
def later() -> None:
    from shieldwall.matching import Matcher
BUILTIN = "shieldwall.signals.pdq:PdqSignal"
log = logging.getLogger("shieldwall.service")
"""
    found = imports_of("shieldwall.banks._x", ast.parse(source), is_package=False)
    assert {i.target for i in found} == {
        "shieldwall.config",
        "shieldwall.errors",
        "shieldwall.banks",
        "shieldwall.store",
        "shieldwall.matching",
        "shieldwall.signals.pdq",
    }


def test_no_layer_imports_a_higher_one() -> None:
    wrong = [
        f"{i.module}:{i.line} ({layer_of(i.module)}) imports {i.target} ({layer_of(i.target)})"
        for i in all_imports()
        if layer_of(i.target) not in MAY_IMPORT[layer_of(i.module)]
        and (i.module, i.target) not in ALLOWED
    ]
    assert wrong == []


def test_the_allow_list_holds_only_what_still_happens() -> None:
    seen = {(i.module, i.target) for i in all_imports()}
    assert seen >= ALLOWED, "an allowed import is gone: take it off the list"


@pytest.mark.parametrize(
    ("face", "never"),
    [
        ("api", {"web", "cli"}),
        ("web", {"api", "cli"}),
        ("cli", {"api", "web"}),
    ],
)
def test_the_faces_keep_apart(face: str, never: set[str]) -> None:
    wrong = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in all_imports()
        if top_of(i.module) == face and top_of(i.target) in never
    ]
    assert wrong == []


def test_what_the_http_faces_share_imports_no_face() -> None:
    """``service/`` is under both HTTP faces; only ``server/`` puts them together."""
    wrong = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in all_imports()
        if top_of(i.module) == "service" and top_of(i.target) in {"api", "web", "cli", "server"}
    ]
    assert wrong == []


#: The store's names a face may use: the handle, never a model or a query.
_STORE_NAMES = {"Database", "open_database"}
#: Calls that open a session or run a statement.
_QUERY_CALLS = {"session", "transaction", "execute", "scalar", "scalars"}


def _queries_in(module: str, tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            for name in names:
                translated = module == "shieldwall.api.errors" and name == "sqlalchemy.exc"
                if (name == "sqlalchemy" or name.startswith("sqlalchemy.")) and not translated:
                    found.append(f"{module}:{node.lineno} imports {name}")
                if name.startswith("shieldwall.store."):
                    found.append(f"{module}:{node.lineno} imports {name}")
            if isinstance(node, ast.ImportFrom) and node.module == "shieldwall.store":
                extra = {a.name for a in node.names} - _STORE_NAMES
                if extra:
                    found.append(f"{module}:{node.lineno} imports {sorted(extra)} of the store")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _QUERY_CALLS
        ):
            found.append(f"{module}:{node.lineno} calls .{node.func.attr}()")
    return found


def test_the_faces_hold_no_database_queries() -> None:
    found = [
        problem
        for name, (_path, tree) in _modules().items()
        if layer_of(name) == "faces" and top_of(name) not in {"shieldwall", "__main__"}
        for problem in _queries_in(name, tree)
    ]
    assert found == []
