"""Facts from code: Python source (imports, calls, spawned commands, and every string the
code builds, decoded; see :mod:`shieldwall.codescan.deobfuscate`), and the shell text and
command lines it spawns. The two are read together because each runs the other: Python spawns
``bash -c`` and ``pip install``, a command line runs ``python -c``.

Code handed to ``exec``/``eval``/``compile`` is analysed in turn, one layer deeper, until
``max_depth``; reaching the limit is recorded in the facts' notes rather than raised, so a
deliberately deep onion gives a bounded result instead of a hang.
"""

from __future__ import annotations

import ast
import contextlib
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from shieldwall.codescan.commands import normalise, packages_installed, split_shell
from shieldwall.codescan.deobfuscate import Folded, Folder, FuncRef
from shieldwall.codescan.guess import guess_decodings
from shieldwall.codescan.model import Call, Command, Facts, Fragment, Location, Origin

__all__ = ["DecodeBudget", "command_facts", "python_facts", "shell_facts"]

_EXEC = frozenset({"exec", "eval", "compile", "builtins.exec", "builtins.eval", "builtins.compile"})
_SPAWN_FIRST_ARG = frozenset(
    {
        "subprocess.run",
        "subprocess.Popen",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
        "pty.spawn",
        "asyncio.create_subprocess_shell",
        "get_ipython().system",
        "get_ipython().getoutput",
        "IPython.get_ipython().system",
    }
)
_LEAVES = frozenset({ast.Name, ast.Load, ast.Store, ast.Del, ast.Pass, ast.Break, ast.Continue})
_ENCODED_HINT = re.compile(r"^[A-Za-z0-9+/=_\-\s]{16,}$|^begin \d{3} ")


@dataclass(frozen=True)
class DecodeBudget:
    """How deep nested decoding may go, and the current depth."""

    max_depth: int
    depth: int = 0

    def deeper(self) -> DecodeBudget:
        """The budget one layer down."""
        return replace(self, depth=self.depth + 1)

    @property
    def exhausted(self) -> bool:
        """Whether one more layer would pass the limit."""
        return self.depth >= self.max_depth


def _strip_comment(line: str) -> str:
    # A cheap scan, not tokenize: tokenize is ~10x slower and fails on broken code. Lines inside
    # triple-quoted strings may lose a "#..." tail; that only costs recall on comments.
    if "#" not in line:
        return line
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def code_without_comments(source: str) -> str:
    """``source`` with ``#`` comments blanked (line numbers kept): comments describe, code acts,
    and detection research comments about the tools it studies."""
    return "\n".join(_strip_comment(line) for line in source.split("\n"))


class _Visitor(ast.NodeVisitor):
    def __init__(self, loc: Location, layers: tuple[str, ...], budget: DecodeBudget) -> None:
        self.loc = loc
        self.layers = layers
        self.budget = budget
        self.folder = Folder()
        self.facts = Facts()
        self.flags: list[str] = []
        self.subcommands: list[str] = []
        # Argument lists bound to names whose parts only partly fold (``cmd = ["python",
        # "run.py", "-s", source_path, ...]`` then ``subprocess.run(cmd)``).
        self.partial_lists: dict[str, list[str]] = {}
        self._seen: set[tuple[str, int]] = set()
        self._dispatch: dict[type[ast.AST], Callable[[Any], None]] = {
            ast.Import: self.visit_Import,
            ast.ImportFrom: self.visit_ImportFrom,
            ast.Assign: self.visit_Assign,
            ast.AnnAssign: self.visit_AnnAssign,
            ast.FunctionDef: self.visit_FunctionDef,
            ast.Return: self.visit_Return,
            ast.Constant: self.visit_Constant,
            ast.Call: self.visit_Call,
            ast.JoinedStr: self.visit_JoinedStr,
        }

    # NodeVisitor's dispatch builds a method name per node; a type-keyed table and skipping
    # leaves halve the walk over large notebooks.
    def visit(self, node: ast.AST) -> None:
        """Visit one node: our handler for its type, or its children."""
        handler = self._dispatch.get(type(node))
        if handler is not None:
            handler(node)
        elif type(node) not in _LEAVES:
            self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        """Visit the children of ``node`` in source order."""
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def _at(self, node: ast.AST) -> Location:
        line = getattr(node, "lineno", 1)
        return Location(self.loc.path, (self.loc.line or 1) + line - 1, self.loc.cell)

    def _emit(self, folded: Folded | None, node: ast.AST) -> None:
        """Record a string the code builds when decoding changed it."""
        if folded is None:
            return
        text = folded.text
        if text is None and isinstance(folded.value, list):
            items = [i for i in folded.value if isinstance(i, str)]
            text = " ".join(items) if items else None
        if text is None or not folded.layers:
            return
        key = (text, getattr(node, "lineno", 0))
        if key in self._seen:
            return
        self._seen.add(key)
        layers = (*self.layers, *folded.layers)
        self.facts.fragments.append(Fragment(text, self._at(node), "python", layers))
        self._guess(text, node, layers)
        self._commandish(text, node, layers)

    def _guess(self, text: str, node: ast.AST, layers: tuple[str, ...]) -> None:
        if len(text) < 16 or len(text) > 1_000_000 or not _ENCODED_HINT.match(text[:200]):
            return
        remaining = max(self.budget.max_depth - self.budget.depth - len(layers), 1)
        results, hit = guess_decodings(text, remaining)
        for r in results:
            if r.text:
                self.facts.fragments.append(
                    Fragment(r.text, self._at(node), "python", (*layers, *r.layers))
                )
        if hit:
            self.facts.notes.append(f"{self._at(node)}: decode depth limit reached")

    # -- scope ---------------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.facts.imports.append((alias.name, self._at(node), self.layers))
            if alias.asname:
                self.folder.bind(alias.asname, Folded(_ref(alias.name)))
            else:
                top = alias.name.split(".")[0]
                self.folder.bind(top, Folded(_ref(top)))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self.facts.imports.append((module, self._at(node), self.layers))
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            self.facts.imports.append((full, self._at(node), self.layers))
            self.folder.bind(alias.asname or alias.name, Folded(_ref(full)))

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        if isinstance(node.value, ast.Lambda):
            params = tuple(a.arg for a in node.value.args.args)
            for t in node.targets:
                if isinstance(t, ast.Name):
                    self.folder.define(t.id, params, node.value.body)
            return
        value = self.folder.fold(node.value)
        self._emit(value, node)
        partial = (
            self._argv_of(node.value)
            if value is None and isinstance(node.value, ast.List | ast.Tuple)
            else None
        )
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.folder.bind(target.id, value)
                if partial is not None:
                    self.partial_lists[target.id] = partial
                else:
                    self.partial_lists.pop(target.id, None)
            elif isinstance(target, ast.Tuple | ast.List):
                items = value.value if value and isinstance(value.value, list) else None
                for i, elt in enumerate(target.elts):
                    if isinstance(elt, ast.Name):
                        ok = items is not None and i < len(items)
                        self.folder.bind(elt.id, Folded(items[i], value.layers) if ok else None)  # type: ignore[index,union-attr]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.generic_visit(node)
        if node.value is not None and isinstance(node.target, ast.Name):
            value = self.folder.fold(node.value)
            self._emit(value, node)
            self.folder.bind(node.target.id, value)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # docstring
        if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
            self.folder.define(node.name, tuple(a.arg for a in node.args.args), body[0].value)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        self.generic_visit(node)
        if node.value is not None:
            self._emit(self.folder.fold(node.value), node)

    def _commandish(self, text: str, node: ast.AST, layers: tuple[str, ...]) -> None:
        """Strings that read as command lines (``cmd = "main.py train --model SAEHD ..."``,
        later run as ``!python $cmd``) are matched as commands: how they reach a shell is often
        out of static sight, their flags are not."""
        if text.count(" -") < 2 or len(text) > 20_000:
            return
        loc = self._at(node)
        for argv, line in split_shell(text, loc.line or 1):
            if sum(1 for a in argv if a.startswith("-")) >= 2:
                where = Location(loc.path, line, loc.cell)
                self.facts.commands.append(Command(argv, where, layers))

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        # f"python run.py -s {src} -t {dst} ...": the command's shape survives unknown values.
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                got = (
                    self.folder.fold(value.value) if isinstance(value, ast.FormattedValue) else None
                )
                parts.append((got.text if got is not None else None) or "{?}")
        self._commandish("".join(parts), node, self.layers)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            self._guess(node.value, node, self.layers)
            self._commandish(node.value, node, self.layers)
        elif isinstance(node.value, bytes):
            with contextlib.suppress(UnicodeDecodeError):
                self._guess(node.value.decode("ascii"), node, self.layers)

    # -- calls -----------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        name = self.folder.callee_name(node.func) or "?"
        args = [self.folder.fold(a) for a in node.args]
        kws = [(k.arg, self.folder.fold(k.value)) for k in node.keywords if k.arg]
        for folded, arg in zip(args, node.args, strict=True):
            self._emit(folded, arg)
        for (_, folded), kw in zip(kws, [k for k in node.keywords if k.arg], strict=True):
            self._emit(folded, kw.value)
        call_layers = tuple(x for a in args if a for x in a.layers)
        self.facts.calls.append(
            Call(
                name,
                tuple(_arg_text(a) for a in args),
                tuple((k or "", _arg_text(v)) for k, v in kws),
                self._at(node),
                (*self.layers, *call_layers),
            )
        )
        if name in ("__import__", "importlib.import_module") and args and args[0]:
            if (mod := args[0].text) is not None:
                self.facts.imports.append((mod, self._at(node), (*self.layers, *args[0].layers)))
        elif name in _EXEC and args and args[0] is not None:
            self._nested(args[0], node)
        elif name.endswith(".add_parser") and args and args[0] and args[0].text:
            self.subcommands.append(args[0].text)
        elif name.endswith(".add_argument"):
            self.flags += [t for a in args if a and (t := a.text) is not None]
            self.flags += [
                t for _, v in kws if v and (t := _arg_text(v)) is not None and len(t) < 80
            ]
        self._spawn(name, args, node)

    def _nested(self, payload: Folded, node: ast.AST) -> None:
        text = payload.text
        if text is None:
            return
        layers = (*self.layers, *payload.layers, "exec")
        if self.budget.exhausted:
            self.facts.notes.append(f"{self._at(node)}: decode depth limit reached (exec)")
            self.facts.fragments.append(Fragment(text, self._at(node), "python", layers))
            return
        inner = python_facts(text, self._at(node), layers=layers, budget=self.budget.deeper())
        self.facts.extend(inner)

    def _argv_of(self, node: ast.expr) -> list[str] | None:
        """An argument list whose parts are only partly known: ``[sys.executable, "-m",
        "pip", "install", *pkgs]`` keeps what folds and marks the rest ``<?>``."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self._argv_of(node.left), self._argv_of(node.right)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.Name | ast.Starred):
            inner = node.value if isinstance(node, ast.Starred) else node
            got = self.folder.fold(inner)
            if got is not None and isinstance(got.value, list):
                return [str(x) for x in got.value]
            if isinstance(inner, ast.Name) and inner.id in self.partial_lists:
                return list(self.partial_lists[inner.id])
            return None if isinstance(node, ast.Name) else ["<?>"]
        if not isinstance(node, ast.List | ast.Tuple):
            return None
        out: list[str] = []
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                out += self._argv_of(elt) or ["<?>"]
                continue
            got = self.folder.fold(elt)
            if got is not None and (text := got.text) is not None:
                out.append(text)
            elif self.folder.callee_name(elt) == "sys.executable":
                out.append("python")
            else:
                out.append("<?>")
        return out

    def _spawn(self, name: str, args: list[Folded | None], node: ast.Call) -> None:
        argv: list[str] | None = None
        first: Folded | None = None
        pos = 0
        if name in _SPAWN_FIRST_ARG or name.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
            # os.execv(path, argv) and os.spawnv(mode, path, argv) carry argv later on.
            index = {"os.spawn": 2, "os.exec": 1, "os.posix_spawn": 1}
            pos = next((v for k, v in index.items() if name.startswith(k)), 0)
            first = args[pos] if pos < len(args) else None
        if first is None or not isinstance(first.value, list | str | bytes):
            first_node = node.args[pos] if pos < len(node.args) else None
            argv_guess = self._argv_of(first_node) if first_node is not None else None
            if argv_guess is None:
                return
            first = Folded(argv_guess, first.layers if first else ())
        if isinstance(first.value, list):
            argv = [str(x) for x in first.value if isinstance(x, str | bytes)]
            self.facts.extend(
                command_facts(
                    tuple(argv), self._at(node), (*self.layers, *first.layers), self.budget
                )
            )
        elif (text := first.text) is not None:
            loc = self._at(node)
            inner = shell_facts(
                text,
                loc,
                layers=(*self.layers, *first.layers),
                budget=self.budget,
                fragments=bool(first.layers),
            )
            self.facts.extend(inner)


def _ref(name: str) -> FuncRef:
    return FuncRef(name)


def _arg_text(folded: Folded | None) -> str | None:
    if folded is None:
        return None
    if isinstance(folded.value, bool | int):
        return str(folded.value)
    if isinstance(folded.value, list):
        return " ".join(str(x) for x in folded.value if isinstance(x, str | int))
    return folded.text


def python_facts(
    source: str,
    location: Location,
    *,
    layers: tuple[str, ...] = (),
    budget: DecodeBudget,
    kind: str = "python",
) -> Facts:
    """Facts from one piece of Python source (a file, a cell, a decoded payload).

    ``location`` is where the source starts (its ``line`` is the line of the source's first
    line). Source that does not parse is matched as plain text, with a note.
    """
    facts = Facts()
    facts.fragments.append(Fragment(code_without_comments(source), location, kind, layers))
    try:
        with warnings.catch_warnings():
            # The parser warns about the user's code (invalid escapes, "is" with a literal):
            # not our warnings to show, and an error where warnings are errors.
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        facts.notes.append(f"{location}: not valid Python; matched as text only")
        return facts
    visitor = _Visitor(location, layers, budget)
    try:
        visitor.visit(tree)
    except RecursionError:
        facts.notes.append(f"{location}: syntax tree too deep; partly analysed")
    facts.extend(visitor.facts)
    if len(visitor.flags) + len(visitor.subcommands) >= 2:
        # The flags and sub-commands a tool declares with argparse are its command line, even
        # unseen: evidence of the tool's source (``declared``), not of a run.
        prog = location.path.rsplit("/", 1)[-1]
        argv = (prog, *visitor.subcommands, *visitor.flags)
        facts.commands.append(Command(argv, location, layers, declared=True))
    return facts


# -- command lines and shell text ---------------------------------------------------------


def command_facts(
    argv: tuple[str, ...],
    location: Location,
    layers: tuple[str, ...],
    budget: DecodeBudget,
    origin: Origin = Origin.STATIC,
) -> Facts:
    """Facts from one command line: the command itself, the packages it installs, and any
    inline ``python -c`` or ``bash -c`` payload (analysed one layer deeper)."""
    facts = Facts()
    cmd = normalise(argv)
    if cmd is None:
        return facts
    facts.commands.append(Command(argv, location, layers, origin))
    for name in packages_installed(cmd):
        facts.packages.append((name, location))
    for token in argv:
        if len(token) >= 16 and _ENCODED_TOKEN.match(token):
            _decoded_token(token, location, layers, budget, origin=origin, facts=facts)
    if budget.exhausted and (cmd.python_code or cmd.shell_code):
        facts.notes.append(f"{location}: decode depth limit reached (inline code)")
        return facts
    if cmd.python_code is not None:
        inner = python_facts(
            cmd.python_code, location, layers=(*layers, "python -c"), budget=budget.deeper()
        )
        facts.extend(inner)
    if cmd.shell_code is not None:
        facts.extend(
            shell_facts(cmd.shell_code, location, layers=(*layers, "sh -c"), budget=budget.deeper())
        )
    return facts


_ENCODED_TOKEN = re.compile(r"^[A-Za-z0-9+/=_-]+$")


def _decoded_token(
    token: str,
    location: Location,
    layers: tuple[str, ...],
    budget: DecodeBudget,
    *,
    origin: Origin,
    facts: Facts,
) -> None:
    """``echo <base64> | base64 -d | bash``: an encoded argument is decoded and read as shell
    (the usual destination of such pipes), one layer deeper."""
    if budget.exhausted:
        facts.notes.append(f"{location}: decode depth limit reached (encoded argument)")
        return
    results, hit = guess_decodings(token, 2)
    if hit:
        facts.notes.append(f"{location}: decode depth limit reached (encoded argument)")
    for found in results:
        text = found.text
        if text is None or "guess:rot13" in found.layers:
            continue
        inner = (*layers, *found.layers)
        facts.extend(
            shell_facts(text, location, layers=inner, budget=budget.deeper(), origin=origin)
        )


def shell_facts(
    text: str,
    location: Location,
    *,
    layers: tuple[str, ...] = (),
    budget: DecodeBudget,
    fragments: bool = True,
    origin: Origin = Origin.STATIC,
    kind: str = "shell",
) -> Facts:
    """Facts from shell text: one fragment for the text (unless the caller already has it) and
    each command line in it."""
    facts = Facts()
    if fragments:
        facts.fragments.append(Fragment(text, location, kind, layers, origin))
    first = location.line or 1
    for argv, line in split_shell(text, first):
        loc = Location(location.path, line, location.cell)
        facts.extend(command_facts(argv, loc, layers, budget, origin))
    return facts
