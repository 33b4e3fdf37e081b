"""Rules as data: the YAML rule format and its loader (YARA files too). Allow-lists are in
:mod:`shieldwall.codescan.allowlist`.

A rule file is::

    version: 1
    disable: [SW-SOME-RULE]          # optional: turn off rules loaded before this file
    rules:
      - id: SW-ROOP-CLI              # unique, stable; shown in every finding
        family: roop                 # the tool family (or "generic")
        title: roop-style face-swap command line
        weight: strong               # strong | medium | weak
        kind: capability             # capability (what the code does) | threat (intent)
        act: run                     # optional: obtain | run | source | model | data | intent
                                     #   | context (default from the match kind)
        signal: roop-cli             # optional; findings sharing a signal are one signal
        scope: [shell, command]      # optional; fragment kinds the rule looks at
        match:                       # exactly one match kind
          command: {all: ["-s|--source", "-t|--target"], any: ["face_swapper"]}

Match kinds: ``literal``, ``regex``, ``import``, ``call``, ``url``, ``command``, ``package``,
``filename``, ``hash``, ``onnx``, ``layout``, ``concealed`` (see docs/codescan.md for each
one's fields), and ``yara`` for rules loaded from a YARA file. Every
error names the file and the rule, e.g. ``rules.yaml: rule SW-X: match.regex: bad pattern``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Protocol, cast

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shieldwall.codescan.model import Weight
from shieldwall.errors import RuleError

__all__ = [
    "Rule",
    "RuleSet",
    "describe_errors",
    "load_builtin_rules",
    "load_rule_file",
    "load_rules",
    "read_yaml",
]

Require = Literal["any", "all"] | Annotated[int, Field(ge=1)]
Pattern = str


def _check_patterns(patterns: Iterable[str]) -> None:
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"bad regular expression {p!r}: {exc}") from exc


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LiteralSpec(_Spec):
    """Words or phrases; ``word`` keeps ``roop`` from matching inside ``stroop``."""

    values: list[str] = Field(min_length=1)
    require: Require = "any"
    case_sensitive: bool = False
    word: bool = True


class RegexSpec(_Spec):
    """Regular expressions (Python syntax), searched in each fragment."""

    patterns: list[Pattern] = Field(min_length=1)
    require: Require = "any"
    case_sensitive: bool = False

    @field_validator("patterns")
    @classmethod
    def _valid(cls, v: list[str]) -> list[str]:
        _check_patterns(v)
        return v


class ImportSpec(_Spec):
    """Modules imported (``import``, ``from``, ``__import__``, ``importlib``), as regexes
    that must match the whole dotted name."""

    modules: list[Pattern] = Field(min_length=1)

    @field_validator("modules")
    @classmethod
    def _valid(cls, v: list[str]) -> list[str]:
        _check_patterns(v)
        return v


class CallSpec(_Spec):
    """A call: ``name`` matches the callee's dotted name (resolved through import aliases);
    ``args`` maps a position to a regex its folded value must contain; ``keywords`` the same
    by keyword name ("" as regex: the keyword only has to be present)."""

    name: Pattern
    args: dict[int, Pattern] = Field(default_factory=dict)
    keywords: dict[str, Pattern] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _valid(cls, v: str) -> str:
        _check_patterns([v])
        return v


class UrlSpec(_Spec):
    """A URL: ``host`` and ``path`` regexes (searched, case-insensitive); either may be left
    out. Matching the path, not only the host, keeps shared hosts such as Hugging Face usable."""

    host: Pattern | None = None
    path: Pattern | None = None

    @field_validator("host", "path")
    @classmethod
    def _valid(cls, v: str | None) -> str | None:
        if v is not None:
            _check_patterns([v])
        return v


class CommandSpec(_Spec):
    """A command line. ``program`` matches the program's (or script's) base name, ``subcommand``
    the first positional argument after it; ``all`` lists token regexes that must each match
    some token, ``any`` token regexes of which at least ``min_any`` must match; ``options`` maps
    a flag regex to the regex its value (the next token) must match. Tokens are matched whole
    and case-insensitively (``(?-i:...)`` for case); ``--flag=value`` counts as two tokens."""

    program: Pattern | None = None
    subcommand: Pattern | None = None
    all: list[Pattern] = Field(default_factory=list)
    any: list[Pattern] = Field(default_factory=list)
    min_any: int = Field(default=1, ge=1)
    options: dict[Pattern, Pattern] = Field(default_factory=dict)

    @field_validator("all", "any")
    @classmethod
    def _valid(cls, v: list[str]) -> list[str]:
        _check_patterns(v)
        return v

    @field_validator("options")
    @classmethod
    def _valid_options(cls, v: dict[str, str]) -> dict[str, str]:
        _check_patterns([*v.keys(), *v.values()])
        return v


class PackageSpec(_Spec):
    """Python packages required or installed (requirements, pyproject, ``pip install``),
    as regexes on the normalised name (lower case, ``-`` for ``_`` and ``.``)."""

    names: list[Pattern] = Field(min_length=1)
    require: Require = "any"


class FilenameSpec(_Spec):
    """Files present in a scanned directory or archive: regexes searched in the path relative
    to the scanned root (``/`` separators)."""

    patterns: list[Pattern] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _valid(cls, v: list[str]) -> list[str]:
        _check_patterns(v)
        return v


class Fingerprint(_Spec):
    """A known file: SHA-256 and, when known, its size (only files of that size get hashed)."""

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int | None = Field(default=None, ge=0)


class HashSpec(_Spec):
    """Known model files by fingerprint."""

    files: list[Fingerprint] = Field(min_length=1)


class InitializerSpec(_Spec):
    """An ONNX initializer of this shape; ``name`` (regex) is optional because re-exports
    rename tensors."""

    shape: list[int]
    name: Pattern | None = None


class OnnxSpec(_Spec):
    """ONNX graph structure: input shapes (``-1`` for any dimension; order does not matter;
    the graph must have exactly this many inputs) and initializers that must be present."""

    inputs: list[list[int]] = Field(default_factory=list)
    initializers: list[InitializerSpec] = Field(default_factory=list)


class LayoutSpec(_Spec):
    """A directory layout: paths that must all exist under one common root."""

    all: list[str] = Field(min_length=1)


class YaraSpec(_Spec):
    """A rule from a YARA file (``--rules x.yar``), run on every text fragment, decoded ones
    included. Set by the loader from the YARA rule's ``meta``; not written by hand."""

    file: str
    rule: str


class ConcealedSpec(_Spec):
    """Evidence that was hidden: a finding of another rule, of weight ``of_weight`` and kind
    capability, whose text only appeared after one of these decoding ``layers`` (``guess:``
    prefixes ignored). Plain concatenation is not concealment: ordinary code joins paths."""

    layers: list[str] = Field(min_length=1)
    of_weight: Weight = Weight.STRONG


class MatchSpec(_Spec):
    """Exactly one match kind."""

    literal: LiteralSpec | None = None
    regex: RegexSpec | None = None
    import_: ImportSpec | None = Field(default=None, alias="import")
    call: CallSpec | None = None
    url: UrlSpec | None = None
    command: CommandSpec | None = None
    package: PackageSpec | None = None
    filename: FilenameSpec | None = None
    hash: HashSpec | None = None
    onnx: OnnxSpec | None = None
    layout: LayoutSpec | None = None
    yara: YaraSpec | None = None
    concealed: ConcealedSpec | None = None

    def kind(self) -> str:
        """The name of the one match kind set."""
        set_kinds = [name.rstrip("_") for name, value in self.__dict__.items() if value is not None]
        if len(set_kinds) != 1:
            raise ValueError(f"a rule needs exactly one match kind, got {set_kinds or 'none'}")
        return set_kinds[0]


FRAGMENT_KINDS = frozenset(
    {
        "python",
        "shell",
        "output",
        "requirements",
        "dockerfile",
        "text",
        "pickle",
        "command",
        "javascript",
        "markdown",
    }
)


Act = Literal["obtain", "run", "source", "model", "data", "intent", "context"]

# The act a rule's findings show when the rule names none, by match kind (threat rules: intent).
_DEFAULT_ACT: dict[str, str] = {
    "url": "obtain",
    "package": "obtain",
    "import": "run",
    "call": "run",
    "command": "run",
    "filename": "source",
    "hash": "model",
    "onnx": "model",
    "layout": "data",
    "concealed": "intent",
    "literal": "source",
    "regex": "source",
    "yara": "source",
}


class Rule(_Spec):
    """One detection rule (see the module docstring for the format)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    family: str
    title: str
    weight: Weight
    kind: Literal["capability", "threat"] = "capability"
    signal: str | None = None
    act: Act | None = None
    scope: list[str] | None = None
    description: str = ""
    match: MatchSpec

    @property
    def act_key(self) -> str:
        """What the rule's findings say the job does (see ``ACTS`` in the model)."""
        if self.act is not None:
            return self.act
        if self.kind == "threat":
            return "intent"
        if self.weight is not Weight.STRONG:
            return "context"
        return _DEFAULT_ACT[self.match.kind()]

    @field_validator("scope")
    @classmethod
    def _known_scope(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (unknown := set(v) - FRAGMENT_KINDS):
            raise ValueError(f"unknown scope {sorted(unknown)}; known: {sorted(FRAGMENT_KINDS)}")
        return v

    @property
    def signal_key(self) -> str:
        """Findings with the same key count as one signal when judging independence."""
        return self.signal or self.id

    def applies_to(self, fragment_kind: str) -> bool:
        """Whether the rule looks at fragments of this kind (markdown only when named)."""
        if self.scope is None:
            return fragment_kind != "markdown"
        return fragment_kind in self.scope


class _RuleFile(_Spec):
    version: Literal[1]
    disable: list[str] = Field(default_factory=list)
    rules: list[dict[str, object]] = Field(default_factory=list)


@dataclass(frozen=True)
class RuleSet:
    """The rules in force, in load order, with unique ids."""

    rules: tuple[Rule, ...]

    def by_id(self, rule_id: str) -> Rule:
        """The rule with this id (``KeyError`` if none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def read_yaml(path: Path | str, text: str) -> object:
    """Parse YAML text; a syntax error is a :class:`RuleError` naming ``path``."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {exc}") from exc


def describe_errors(exc: ValidationError) -> str:
    """A validation error as ``field.path: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
    )


def _parse_rule_file(name: str, text: str) -> tuple[list[Rule], list[str]]:
    data = read_yaml(name, text)
    try:
        parsed = _RuleFile.model_validate(data)
    except ValidationError as exc:
        raise RuleError(f"{name}: {describe_errors(exc)}") from exc
    rules: list[Rule] = []
    for index, raw in enumerate(parsed.rules):
        label = raw.get("id", f"#{index + 1}")
        try:
            rule = Rule.model_validate(raw)
            rule.match.kind()
        except ValidationError as exc:
            raise RuleError(f"{name}: rule {label}: {describe_errors(exc)}") from exc
        except ValueError as exc:
            raise RuleError(f"{name}: rule {label}: match: {exc}") from exc
        rules.append(rule)
    return rules, parsed.disable


def load_rule_file(path: Path) -> tuple[list[Rule], list[str]]:
    """Read one rule file (YAML, or YARA for ``.yar``/``.yara``): its rules and the ids it
    disables. Raises :class:`RuleError`."""
    if path.suffix.lower() in (".yar", ".yara"):
        return _load_yara(path), []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc}") from exc
    return _parse_rule_file(str(path), text)


class YaraInstance(Protocol):
    """One place a YARA string matched (the part of yara-python's API we use)."""

    offset: int
    matched_data: bytes


class YaraString(Protocol):
    """A YARA string that matched, with its instances."""

    instances: list[YaraInstance]


class YaraMatch(Protocol):
    """A YARA rule that matched."""

    rule: str
    strings: list[YaraString]


class YaraRule(Protocol):
    """A compiled YARA rule's name and metadata."""

    identifier: str
    meta: dict[str, object]


class YaraRules(Protocol):
    """Compiled YARA rules (yara-python ships no type hints: this is what we rely on)."""

    def match(self, *, data: bytes) -> list[YaraMatch]:
        """Run the rules on ``data``."""

    def __iter__(self) -> Iterator[YaraRule]:
        """The compiled rules."""


def compile_yara(path: str) -> YaraRules:
    """Compile a YARA file (``yara-python`` is an optional dependency)."""
    try:
        import yara  # noqa: PLC0415 - optional: only YARA users need it
    except ImportError as exc:
        raise RuleError(
            f"{path}: YARA rules need the yara-python package (pip install 'shieldwall[yara]')"
        ) from exc
    try:
        return cast(YaraRules, yara.compile(filepath=path))
    except yara.Error as exc:
        raise RuleError(f"{path}: not valid YARA: {exc}") from exc


def _load_yara(path: Path) -> list[Rule]:
    """One :class:`Rule` per YARA rule; its ``meta`` gives ``weight`` (required), ``family``,
    ``title``, ``kind``, ``signal`` and ``description``."""
    rules: list[Rule] = []
    for yrule in compile_yara(str(path)):
        meta = dict(yrule.meta)
        data = {
            "id": yrule.identifier,
            "family": meta.get("family", "generic"),
            "title": meta.get("title", meta.get("description", yrule.identifier)),
            "weight": meta.get("weight"),
            "kind": meta.get("kind", "capability"),
            "signal": meta.get("signal"),
            "act": meta.get("act"),
            "description": meta.get("description", ""),
            "match": {"yara": {"file": str(path), "rule": yrule.identifier}},
        }
        try:
            rules.append(Rule.model_validate(data))
        except ValidationError as exc:
            raise RuleError(
                f"{path}: rule {yrule.identifier}: meta: {describe_errors(exc)}"
            ) from exc
    return rules


def load_builtin_rules() -> RuleSet:
    """The rule pack shipped with Shieldwall (``codescan/rulepacks/builtin.yaml``)."""
    text = (
        resources.files("shieldwall.codescan")
        .joinpath("rulepacks/builtin.yaml")
        .read_text(encoding="utf-8")
    )
    rules, _ = _parse_rule_file("builtin.yaml", text)
    return _combine([], rules, [], "builtin.yaml")


def _combine(base: list[Rule], extra: list[Rule], disable: list[str], name: str) -> RuleSet:
    seen = {r.id for r in base}
    out = [r for r in base if r.id not in set(disable)]
    for rule in extra:
        if rule.id in seen:
            raise RuleError(f"{name}: rule {rule.id}: id already defined by an earlier file")
        seen.add(rule.id)
        out.append(rule)
    return RuleSet(tuple(out))


def load_rules(extra_files: Iterable[Path] = (), *, builtin: bool = True) -> RuleSet:
    """The built-in pack (unless ``builtin=False``) followed by each provider file in order;
    a provider file may ``disable`` earlier rules by id but not redefine them."""
    rules = list(load_builtin_rules().rules) if builtin else []
    current = RuleSet(tuple(rules))
    for path in extra_files:
        new, disable = load_rule_file(path)
        current = _combine(list(current.rules), new, disable, str(path))
    return current
