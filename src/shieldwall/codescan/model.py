"""The data the code scanner passes around: what was read, what matched, what was decided.

A scan turns each input into :class:`Fragment` objects (a piece of analysable text with its
location and the de-obfuscation layers that produced it) and :class:`Facts` (imports, calls,
command lines, packages, URLs, files), matches rules against them into :class:`Finding`
objects, and ends in a :class:`Report` with a verdict. All are plain frozen dataclasses, so a
report can be turned into JSON (``Report.to_dict``) by an HTTP endpoint without any glue.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "ACTS",
    "Call",
    "Command",
    "Facts",
    "Finding",
    "Fragment",
    "InputError",
    "Location",
    "OnnxSummary",
    "Origin",
    "Verdict",
    "Weight",
]


class Weight(enum.StrEnum):
    """How specific a signal is to face-swap tools (see docs/codescan.md)."""

    STRONG = "strong"
    MEDIUM = "medium"
    WEAK = "weak"


class Verdict(enum.StrEnum):
    """The outcome of a scan, from least to most severe."""

    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"


# What a finding says the job does with face-swap tooling (docs/codescan.md, "Verdict model"):
# the verdict reasons about which of these acts the evidence shows, not how many rules fired.
ACTS: dict[str, str] = {
    "obtain": "obtains a face-swap tool or its weights (clone, pip install, download)",
    "run": "runs a face-swap tool (import, entry point, command line, swap call, its logs)",
    "source": "holds a face-swap tool's own source (entry script, module layout, requirements)",
    "model": "holds or names face-swap model files (weights by name, fingerprint or structure)",
    "data": "feeds a face swap its faces (a source face and a target, two identity face sets)",
    "intent": "shows intent (NSFW filter removed, celebrity identity models, concealment)",
    "context": "context only (vocabulary, dual-use face tooling)",
}


class Origin(enum.StrEnum):
    """Where a fragment came from: static reading of files, or an action seen at run time."""

    STATIC = "static"
    RUNTIME = "runtime"


@dataclass(frozen=True)
class Location:
    """Where evidence sits: a file (or archive member, ``a.zip!dir/x.py``), a notebook cell
    (0-based index) and a 1-based line within that file or cell."""

    path: str
    line: int | None = None
    cell: int | None = None

    def __str__(self) -> str:
        out = self.path
        if self.cell is not None:
            out += f" cell {self.cell}"
        if self.line is not None:
            out += f" line {self.line}"
        return out


@dataclass(frozen=True)
class Fragment:
    """A piece of text to match rules against.

    ``kind`` is the scope a rule can be limited to: ``python``, ``shell``, ``output`` (notebook
    output), ``requirements``, ``dockerfile``, ``text``, ``pickle``, ``command``, ``javascript``.
    ``layers`` lists the de-obfuscation steps that produced ``text`` (empty for text as written).
    """

    text: str
    location: Location
    kind: str
    layers: tuple[str, ...] = ()
    origin: Origin = Origin.STATIC


@dataclass(frozen=True)
class Call:
    """A call seen in Python code, with its callee resolved through import aliases."""

    name: str
    args: tuple[str | None, ...]
    keywords: tuple[tuple[str, str | None], ...]
    location: Location
    layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    """A command line: from a shell script, a notebook ``!`` line, a ``subprocess`` call, a
    Dockerfile ``RUN``, ``--cmd``, the argparse flags a tool declares, or a spawn at run time."""

    argv: tuple[str, ...]
    location: Location
    layers: tuple[str, ...] = ()
    origin: Origin = Origin.STATIC
    # True for the command line a program declares (argparse flags and sub-commands): evidence
    # of the tool's own source, not of a run.
    declared: bool = False

    @property
    def text(self) -> str:
        """The command as one line."""
        return " ".join(self.argv)


@dataclass
class Facts:
    """Everything extracted from one input (a file, an archive member, a command line)."""

    fragments: list[Fragment] = field(default_factory=list)
    imports: list[tuple[str, Location, tuple[str, ...]]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    packages: list[tuple[str, Location]] = field(default_factory=list)
    # Paths relative to the scanned root (posix separators), for file-name and layout rules.
    files: list[tuple[str, Location]] = field(default_factory=list)
    dirs: set[str] = field(default_factory=set)
    # (sha256, size, location) of model files, and ONNX graph summaries.
    hashes: list[tuple[str, int, Location]] = field(default_factory=list)
    onnx_graphs: list[tuple[OnnxSummary, Location]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def extend(self, other: Facts) -> None:
        """Add everything ``other`` holds to this one."""
        self.fragments += other.fragments
        self.imports += other.imports
        self.calls += other.calls
        self.commands += other.commands
        self.packages += other.packages
        self.files += other.files
        self.dirs |= other.dirs
        self.hashes += other.hashes
        self.onnx_graphs += other.onnx_graphs
        self.notes += other.notes


@dataclass(frozen=True)
class OnnxSummary:
    """The structure of an ONNX graph, read without running it: input shapes and the shapes
    (and names) of its initializers. Unknown dimensions are ``None``."""

    inputs: tuple[tuple[int | None, ...], ...]
    initializers: tuple[tuple[str, tuple[int, ...]], ...]
    op_types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Finding:
    """One rule that matched, with the evidence that shows why."""

    rule_id: str
    family: str
    weight: Weight
    kind: str  # "capability" or "threat"
    signal: str  # findings with the same signal are not independent of each other
    title: str
    location: Location
    evidence: str
    layers: tuple[str, ...] = ()
    origin: Origin = Origin.STATIC
    suppressed_by: str | None = None
    act: str = "run"  # a key of ACTS
    matched: str = ""  # the text the rule matched, without context (the fingerprint's basis)

    @property
    def fingerprint_key(self) -> str:
        """What identifies this finding across scans: rule, file and the matched text, but no
        line or cell number, so that editing other lines keeps the same key."""
        text = " ".join((self.matched or self.evidence).split())
        return f"{self.rule_id}|{self.location.path}|{text}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "rule": self.rule_id,
            "family": self.family,
            "weight": self.weight.value,
            "kind": self.kind,
            "signal": self.signal,
            "title": self.title,
            "file": self.location.path,
            "cell": self.location.cell,
            "line": self.location.line,
            "evidence": self.evidence,
            "decoded_by": list(self.layers),
            "origin": self.origin.value,
            "act": self.act,
            "suppressed_by": self.suppressed_by,
        }


@dataclass(frozen=True)
class InputError:
    """An input that could not be (fully) scanned, with the error's stable code."""

    path: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready form."""
        return {"path": self.path, "error": self.code, "message": self.message}
