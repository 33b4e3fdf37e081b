"""Facts from Jupyter notebooks: code cells (IPython magics and ``!`` shell lines turned into
analysable shell and Python), their outputs, and markdown.

Cells are numbered from 1, as a person counts them in the notebook. Outputs matter: a notebook
whose code is hidden still prints ``ROOP.FACE-SWAPPER`` or ``Processing frame`` in its logs.
"""

from __future__ import annotations

import re
import warnings

import nbformat
from nbformat.reader import NotJSONError

from shieldwall.codescan.model import Facts, Fragment, Location
from shieldwall.codescan.pyfacts import DecodeBudget, python_facts, shell_facts
from shieldwall.errors import CorruptInput

__all__ = ["cell_facts", "notebook_facts"]

_SHELL_CELL = frozenset({"bash", "sh", "shell", "script", "system"})
_TEXT_CELL = {
    "javascript": "javascript",
    "js": "javascript",
    "html": "text",
    "markdown": "markdown",
}
_ASSIGN_SHELL = re.compile(r"^(\s*)([A-Za-z_][\w, ]*)=\s*!(.*)$")
_HELP = re.compile(r"^(\?\??[\w.]+|[\w.]+\?\??)\s*$")
# name = "text" (a Colab form field too: name = "text" #@param ...), for IPython's expansion of
# $name and {name} in shell lines.
_STR_ASSIGN = re.compile(r"""^\s*([A-Za-z_]\w*)\s*=\s*(?:'([^'\n]*)'|"([^"\n]*)")\s*(#.*)?$""")
_ANY_ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*)\s*(\+|-)?=(?!=)")
_EXPAND = re.compile(r"\$\{?([A-Za-z_]\w*)\}?|\{([A-Za-z_]\w*)\}")
_MAX_OUTPUT_CHARS = 2_000_000  # per cell: logs beyond this add time, not evidence


def _line_magic(body: str) -> str | None:
    """The shell command a line magic runs, or ``None`` for magics that run nothing."""
    name, _, rest = body.partition(" ")
    if name in ("pip", "conda", "mamba", "uv"):
        return f"{name} {rest}"
    if name == "run":
        return f"python {rest}"
    if name in ("sx", "system", "cd", "mkdir", "rm", "cp", "mv", "cat", "ls"):
        return rest if name in ("sx", "system") else f"{name} {rest}"
    return None


def _expand(shell: str, env: dict[str, str]) -> tuple[str, bool]:
    """IPython expands ``$name`` and ``{name}`` in ``!`` lines with Python variables: do the same
    for the string variables known so far (others are left as written)."""
    changed = False

    def sub(m: re.Match[str]) -> str:
        nonlocal changed
        name = m.group(1) or m.group(2)
        if name in env:
            changed = True
            return env[name]
        return m.group(0)

    out = _EXPAND.sub(sub, shell)
    return out, changed


def _track(line: str, is_shell: bool, env: dict[str, str]) -> None:
    """Keep ``env`` as the kernel would: a string assigned, or a name rebound to something
    else (another value, a shell command's output)."""
    if is_shell:
        if m := _ASSIGN_SHELL.match(line):
            for name in m.group(2).split(","):
                env.pop(name.strip(), None)
    elif m := _STR_ASSIGN.match(line):
        env[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
    elif m := _ANY_ASSIGN.match(line):
        env.pop(m.group(1), None)


def _shell_line(shell: str, loc: Location, env: dict[str, str], budget: DecodeBudget) -> Facts:
    """One ``!`` line or magic, with the notebook's variables expanded (layer ``$var``)."""
    expanded, changed = _expand(shell, env) if "$" in shell or "{" in shell else (shell, False)
    return shell_facts(expanded, loc, budget=budget, layers=("$var",) if changed else ())


def cell_facts(
    source: str, location: Location, budget: DecodeBudget, env: dict[str, str] | None = None
) -> Facts:
    """Facts from one code cell's source (also used by the notebook-kernel guard). ``env``
    holds the notebook's string variables so far (updated here), for ``$name`` in ``!`` lines."""
    env = {} if env is None else env
    facts = Facts()
    first, _, rest = source.partition("\n")
    stripped = first.strip()
    if stripped.startswith("%%"):
        magic = stripped[2:].split()
        name = magic[0] if magic else ""
        body_loc = Location(location.path, (location.line or 1) + 1, location.cell)
        if name in _SHELL_CELL:
            return shell_facts(rest, body_loc, budget=budget)
        if name in _TEXT_CELL:
            facts.fragments.append(Fragment(rest, body_loc, _TEXT_CELL[name]))
            return facts
        if name == "writefile" and len(magic) > 1 and not magic[-1].endswith(".py"):
            target = magic[-1].rsplit("/", 1)[-1]
            if target.endswith(".sh"):
                return shell_facts(rest, body_loc, budget=budget)
            facts.fragments.append(Fragment(rest, body_loc, "text"))
            return facts
        # %%capture, %%time, %%writefile x.py ...: the body is Python.
        source = "\n" + rest
    python_lines: list[str] = []
    base = location.line or 1
    lines = source.split("\n")
    offset = -1
    while offset + 1 < len(lines):
        offset += 1
        line = lines[offset]
        body = line.lstrip()
        indent = line[: len(line) - len(body)]
        loc = Location(location.path, base + offset, location.cell)
        shell: str | None = None
        if body.startswith("!"):
            shell = body[1:]
            python_lines.append(f"{indent}pass")
        elif body.startswith("%") and not body.startswith("%%"):
            shell = _line_magic(body[1:])
            python_lines.append(f"{indent}pass")
        elif m := _ASSIGN_SHELL.match(line):
            shell = m.group(3)
            python_lines.append(f"{m.group(1)}{m.group(2)}= None")
        elif _HELP.match(body):
            python_lines.append(f"{indent}pass")  # obj? / ?obj: IPython help, runs nothing
        else:
            python_lines.append(line)
        _track(line, shell is not None, env)
        # "!cmd \" continues on the next lines, as in a shell; they belong to the command.
        while shell is not None and shell.rstrip().endswith("\\") and offset + 1 < len(lines):
            offset += 1
            shell = shell.rstrip()[:-1] + " " + lines[offset].strip()
            python_lines.append(f"{indent}pass")
        if shell is not None:
            facts.extend(_shell_line(shell, loc, env, budget))
    facts.extend(python_facts("\n".join(python_lines), location, budget=budget))
    return facts


def _joined(value: object) -> str:
    """Notebook text is a string or a list of lines; anything else is shown as it prints."""
    return "".join(str(x) for x in value) if isinstance(value, list) else str(value)


def _output_text(output: dict[str, object]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _joined(output.get("text", ""))
    if kind == "error":
        tb = output.get("traceback", [])
        lines = [str(x) for x in tb] if isinstance(tb, list) else []
        return "\n".join([f"{output.get('ename')}: {output.get('evalue')}", *lines])
    data = output.get("data", {})
    parts: list[str] = []
    if isinstance(data, dict):
        for mime in ("text/plain", "text/html", "application/javascript", "text/markdown"):
            value = data.get(mime)
            if value is not None:
                parts.append(_joined(value))
    return "\n".join(parts)


def notebook_facts(text: str, path: str, budget: DecodeBudget) -> Facts:
    """Facts from a notebook's JSON text. Raises :class:`CorruptInput` when it is not a
    notebook. Validation against the notebook schema is skipped on purpose: a scanner must
    read slightly malformed notebooks too, and validating costs more than scanning."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reader.reads(text)  # type: ignore[no-untyped-call]
            nb = nbformat.convert(nb, 4)  # type: ignore[no-untyped-call]
        cells = list(nb["cells"])
    except (NotJSONError, RecursionError) as exc:
        raise CorruptInput(f"{path}: not a readable Jupyter notebook: {exc}") from exc
    except Exception as exc:
        # nbformat's upgrade steps fail in many ways on malformed JSON (its own ValidationError,
        # KeyError, TypeError...): this is the boundary where they all become one error.
        raise CorruptInput(f"{path}: not a readable Jupyter notebook: {exc}") from exc
    facts = Facts()
    # Colab keeps the notebook's own name (SberSwapInference.ipynb) even when the file is renamed.
    meta = nb.get("metadata", {})
    colab = meta.get("colab", {}) if isinstance(meta, dict) else {}
    name = colab.get("name") if isinstance(colab, dict) else None
    if isinstance(name, str) and name:
        facts.files.append((name, Location(path)))
    env: dict[str, str] = {}  # string variables, cell after cell, as the kernel would hold them
    for index, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise CorruptInput(f"{path}: cell {index} is not an object")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        elif not isinstance(source, str):
            raise CorruptInput(f"{path}: cell {index}: source is neither text nor lines of text")
        loc = Location(path, 1, index)
        kind = cell.get("cell_type")
        if kind == "code":
            facts.extend(cell_facts(source, loc, budget, env))
            outputs = cell.get("outputs", [])
            outputs = outputs if isinstance(outputs, list) else []
            out = "\n".join(_output_text(o) for o in outputs if isinstance(o, dict))
            if out.strip():
                facts.fragments.append(
                    Fragment(out[:_MAX_OUTPUT_CHARS], Location(path, None, index), "output")
                )
        elif kind == "markdown":
            facts.fragments.append(Fragment(source, loc, "markdown"))
        else:
            facts.fragments.append(Fragment(source, loc, "text"))
    return facts
