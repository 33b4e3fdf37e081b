"""Facts from the text inputs other than code: requirements and pyproject files, and
Dockerfiles (whose commands are read by :mod:`shieldwall.codescan.pyfacts`)."""

from __future__ import annotations

import re
import tomllib

from shieldwall.codescan.commands import normalise_package, requirement_names
from shieldwall.codescan.model import Facts, Fragment, Location
from shieldwall.codescan.pyfacts import DecodeBudget, command_facts, shell_facts

__all__ = ["dockerfile_facts", "pyproject_facts", "requirements_facts"]


def requirements_facts(text: str, location: Location) -> Facts:
    """Facts from a requirements file: its text and the packages it names."""
    facts = Facts(fragments=[Fragment(text, location, "requirements")])
    for name, line in requirement_names(text):
        facts.packages.append((name, Location(location.path, line, location.cell)))
    return facts


_REQ_IN_STRING = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _table(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _array(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def pyproject_facts(text: str, location: Location) -> Facts:
    """Facts from ``pyproject.toml``: its text and the dependencies it declares (PEP 621
    ``dependencies`` and optional groups, Poetry's ``dependencies``)."""
    facts = Facts(fragments=[Fragment(text, location, "requirements")])
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # [[[[... nests too deep
        why = exc if isinstance(exc, tomllib.TOMLDecodeError) else "nested too deeply"
        facts.notes.append(f"{location}: not valid TOML ({why}); matched as text only")
        return facts
    # Any shape TOML allows (``project = 3``, ``dependencies = "x"``) was a TypeError or an
    # AttributeError here (found with fuzz/codescan_files.py): what is not a table or an
    # array is read as empty.
    project = _table(data.get("project"))
    specs: list[object] = list(_array(project.get("dependencies")))
    for group in _table(project.get("optional-dependencies")).values():
        specs += _array(group)
    poetry = _table(_table(data.get("tool")).get("poetry"))
    specs += list(_table(poetry.get("dependencies")))
    for spec in specs:
        if isinstance(spec, str) and (m := _REQ_IN_STRING.match(spec)):
            facts.packages.append((normalise_package(m.group(1)), location))
    return facts


def dockerfile_facts(text: str, location: Location, budget: DecodeBudget) -> Facts:
    """Facts from a Dockerfile: its text, and ``RUN``/``CMD``/``ENTRYPOINT`` as commands
    (JSON-array forms included)."""
    facts = Facts(fragments=[Fragment(text, location, "dockerfile")])
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        while line.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line.rstrip()[:-1] + " " + lines[i]
        i += 1
        m = re.match(r"^\s*(RUN|CMD|ENTRYPOINT)\s+(.*)$", line, re.IGNORECASE)
        if not m:
            continue
        body = m.group(2).strip()
        loc = Location(location.path, start + 1, location.cell)
        if body.startswith("["):
            argv = tuple(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
            facts.extend(command_facts(argv, loc, (), budget))
        else:
            facts.extend(shell_facts(body, loc, budget=budget, fragments=False))
    return facts
