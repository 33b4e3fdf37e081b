"""Facts from the text inputs other than Python: shell scripts, single command lines,
requirements and pyproject files, Dockerfiles."""

from __future__ import annotations

import re
import tomllib

from shieldwall.codescan.commands import (
    normalise,
    normalise_package,
    packages_installed,
    requirement_names,
    split_shell,
)
from shieldwall.codescan.guess import guess_decodings
from shieldwall.codescan.model import Command, Facts, Fragment, Location, Origin
from shieldwall.codescan.pyfacts import DecodeBudget, python_facts

__all__ = [
    "command_facts",
    "dockerfile_facts",
    "pyproject_facts",
    "requirements_facts",
    "shell_facts",
]


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


def requirements_facts(text: str, location: Location) -> Facts:
    """Facts from a requirements file: its text and the packages it names."""
    facts = Facts(fragments=[Fragment(text, location, "requirements")])
    for name, line in requirement_names(text):
        facts.packages.append((name, Location(location.path, line, location.cell)))
    return facts


_REQ_IN_STRING = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def pyproject_facts(text: str, location: Location) -> Facts:
    """Facts from ``pyproject.toml``: its text and the dependencies it declares (PEP 621
    ``dependencies`` and optional groups, Poetry's ``dependencies``)."""
    facts = Facts(fragments=[Fragment(text, location, "requirements")])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        facts.notes.append(f"{location}: not valid TOML ({exc}); matched as text only")
        return facts
    project = data.get("project", {})
    specs: list[str] = list(project.get("dependencies", []) or [])
    for group in (project.get("optional-dependencies", {}) or {}).values():
        specs += list(group)
    poetry = data.get("tool", {}).get("poetry", {})
    specs += list((poetry.get("dependencies", {}) or {}).keys())
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
