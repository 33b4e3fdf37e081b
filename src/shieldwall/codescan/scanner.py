"""The public entry point: scan paths, text or command lines and get a :class:`Report`.

Example::

    from shieldwall.codescan import Scanner

    report = Scanner().scan(paths=[Path("notebook.ipynb")], commands=["python run.py -s a -t b"])
    print(report.verdict, report.message())

An HTTP endpoint is a thin wrapper: ``Scanner().scan_text(body, filename).to_dict()``, with
``body`` the uploaded bytes (a notebook, a zip of a workspace, a model file).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from shieldwall.codescan.allowlist import AllowList, load_allow_list
from shieldwall.codescan.inputs import InputReader, Unit
from shieldwall.codescan.match import Matcher
from shieldwall.codescan.model import Facts, Finding, Fragment, Location, Origin
from shieldwall.codescan.pyfacts import DecodeBudget, command_facts
from shieldwall.codescan.rules import RuleSet, load_rules
from shieldwall.codescan.verdict import Policy, Report, decision
from shieldwall.config import Settings, get_settings

__all__ = ["Scanner"]


class Scanner:
    """A configured scanner: rules, allow-list, limits and policy. Reusable and thread-safe
    for reading (each scan builds its own state)."""

    def __init__(
        self,
        rules: RuleSet | None = None,
        allow: AllowList | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.rules = rules or load_rules()
        self.allow = allow or AllowList()
        self.matcher = Matcher(self.rules)
        self.policy = Policy(
            self.settings.codescan_policy_name,
            self.settings.codescan_policy_url,
            self.settings.codescan_appeal_url,
        )
        prints = [f for r in self.rules.rules if r.match.hash for f in r.match.hash.files]
        self._sizes = frozenset(f.size for f in prints if f.size is not None)
        self._hash_all = any(f.size is None for f in prints)

    @classmethod
    def from_files(
        cls,
        rule_files: Sequence[Path] = (),
        allow_file: Path | None = None,
        settings: Settings | None = None,
    ) -> Scanner:
        """A scanner with the built-in rules, provider rule files and an allow-list file."""
        allow = load_allow_list(allow_file) if allow_file else None
        return cls(load_rules(rule_files), allow, settings)

    def reader(self) -> InputReader:
        """A fresh input reader with this scanner's limits."""
        return InputReader(self.settings, self._sizes, self._hash_all)

    def scan(
        self,
        paths: Iterable[Path] = (),
        commands: Iterable[str | Sequence[str]] = (),
        texts: Iterable[tuple[str, str | bytes]] = (),
    ) -> Report:
        """Scan files and directories, command lines (a string is split like a shell would),
        and ``(name, content)`` pairs (text or bytes: an upload), together: the verdict weighs
        all of their evidence."""
        reader = self.reader()
        names: list[str] = []
        for path in paths:
            reader.add_path(path)
            names.append(str(path))
        for name, content in texts:
            if isinstance(content, bytes):
                reader.add_bytes(content, name)
            else:
                reader.add_text(content, name)
            names.append(name)
        for i, cmd in enumerate(commands, 1):
            argv = tuple(shlex.split(cmd)) if isinstance(cmd, str) else tuple(cmd)
            name = f"--cmd {i}"
            reader.units.append(Unit(name, self.command_facts(argv, name)))
            names.append(name)
        units = [*reader.units, reader.tree]
        return self.report(units_findings(self.matcher, units), reader, names)

    def scan_text(self, text: str | bytes, name: str = "<text>") -> Report:
        """Scan one upload given directly; ``name`` decides how it is read (``x.ipynb``,
        ``requirements.txt``, ``run.sh``, ``job.zip``, ``model.onnx``, ...)."""
        return self.scan(texts=[(name, text)])

    def command_facts(
        self, argv: tuple[str, ...], name: str, origin: Origin = Origin.STATIC
    ) -> Facts:
        """Facts from one command line (plus a text fragment of it for URL and literal rules)."""
        loc = Location(name, 1)
        budget = DecodeBudget(self.settings.codescan_max_decode_depth)
        facts = command_facts(argv, loc, (), budget, origin)
        facts.fragments.append(Fragment(" ".join(argv), loc, "command", (), origin))
        return facts

    def report(
        self,
        findings: list[Finding],
        reader: InputReader | None = None,
        names: list[str] | None = None,
    ) -> Report:
        """Apply the allow-list and the verdict policy to findings."""
        active: list[Finding] = []
        suppressed: list[Finding] = []
        for f in findings:
            entry = self.allow.match(f)
            if entry is None:
                active.append(f)
            else:
                suppressed.append(_suppress(f, entry))
        decided = decision(active)
        notes = [n for u in (reader.units if reader else []) for n in u.facts.notes]
        return Report(
            verdict=decided.verdict,
            score=decided.score,
            reason=decided.reason,
            basis=decided.basis,
            findings=active,
            policy=self.policy,
            suppressed=suppressed,
            errors=list(reader.errors) if reader else [],
            notes=notes,
            inputs=names or [],
        )


def units_findings(matcher: Matcher, units: Iterable[Unit]) -> list[Finding]:
    """Match every unit separately ("require all" rules hold within one input)."""
    out: list[Finding] = []
    for unit in units:
        out += matcher.match(unit.facts)
    return out


def _suppress(f: Finding, entry: str) -> Finding:
    return replace(f, suppressed_by=entry)
