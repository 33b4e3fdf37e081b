"""Matching rules against facts: one method per match kind, each producing findings that
carry their evidence (the matched text, its file, cell and line, and the decoding layers)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from shieldwall.codescan.commands import normalise
from shieldwall.codescan.jobflow import clone_runs, same_repo
from shieldwall.codescan.model import (
    Facts,
    Finding,
    Fragment,
    Location,
    OnnxSummary,
    Origin,
    Weight,
)
from shieldwall.codescan.rules import (
    CallSpec,
    CommandSpec,
    ConcealedSpec,
    LayoutSpec,
    OnnxSpec,
    Rule,
    RuleSet,
    YaraMatch,
    YaraRules,
    compile_yara,
)

__all__ = ["Matcher", "find_urls"]

# The standard library's regex parser, used to find the literals a pattern needs. Private
# modules, untyped in mypy's stubs (the public sre_* aliases warn on import).
_parser: Any = import_module("re._parser")
_sre: Any = import_module("re._constants")

_MAX_PER_RULE = 3  # findings kept per rule and input: enough to explain, not a flood
_URL_RE = re.compile(
    r"(?:https?|git|ssh|hf)://[^\s'\"<>()\[\]{}\\,`]+"
    r"|git@[\w.-]+:[\w./~-]+"
    r"|\b(?:github\.com|gitlab\.com|huggingface\.co|hf\.co|codeberg\.org|bitbucket\.org"
    r"|gitee\.com|sourceforge\.net)/[^\s'\"<>()\[\]{}\\,`]+",
    re.IGNORECASE,
)


_URL_HINTS = ("://", "git@", "github.com", "gitlab.com", "huggingface.co", "hf.co", "codeberg.org",
              "bitbucket.org", "gitee.com", "sourceforge.net")  # fmt: skip


# The facts each match kind reads; a rule is skipped when they are all empty.
_NEEDS: dict[str, tuple[str, ...]] = {
    "literal": ("fragments",),
    "regex": ("fragments",),
    "yara": ("fragments",),
    "url": ("fragments",),
    "import": ("imports",),
    "call": ("calls",),
    "command": ("commands",),
    "package": ("packages",),
    "filename": ("files",),
    "hash": ("hashes",),
    "onnx": ("onnx_graphs",),
    "layout": ("dirs", "files"),
    "concealed": (),
}


def find_urls(text: str) -> Iterator[tuple[str, str, str, int]]:
    """(url, host, path, offset) for each URL-like string in ``text``."""
    for m in _URL_RE.finditer(text):
        url = m.group(0).rstrip(".;:'\"")
        if url.startswith("git@"):
            host, _, path = url[4:].partition(":")
            path = "/" + path
        elif "://" in url:
            parts = urlsplit(url)
            host, path = parts.hostname or "", parts.path
        else:
            host, _, rest = url.partition("/")
            path = "/" + rest
        yield url, host.lower(), path, m.start()


def _snippet(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - 40), min(len(text), end + 40)
    out = text[lo:hi].replace("\n", " ⏎ ")
    return ("…" if lo else "") + out.strip() + ("…" if hi < len(text) else "")


def _line_of(fragment: Fragment, offset: int) -> Location:
    loc = fragment.location
    if loc.line is None:
        return loc
    return Location(loc.path, loc.line + fragment.text.count("\n", 0, offset), loc.cell)


def _needed(require: str | int, total: int) -> int:
    if require == "any":
        return 1
    if require == "all":
        return total
    return int(require)


def _required_literals(seq: object) -> list[str] | None:
    """Lower-case strings of which at least one must occur wherever the parsed regex ``seq``
    matches, or ``None`` when no such set is found. Lets the matcher skip a regex with a
    plain substring test, which is much faster than running it (most rules never match)."""
    items = list(seq)  # type: ignore[call-overload]
    if len(items) == 1 and items[0][0] is _sre.BRANCH:
        out: list[str] = []
        for branch in items[0][1][1]:
            lits = _required_literals(branch)
            if lits is None:
                return None
            out += lits
        return out
    best = ""
    run: list[str] = []
    groups: list[object] = []
    for op, arg in [*items, (None, None)]:
        if op is _sre.LITERAL:
            run.append(chr(arg))
            continue
        if len(run) > len(best):
            best = "".join(run)
        run = []
        if op is _sre.SUBPATTERN:
            groups.append(arg[-1])
    if len(best) >= 3:
        return [best.lower()]
    for group in groups:
        lits = _required_literals(group)
        if lits is not None:
            return lits
    return None


def _prefilter(patterns: list[str]) -> list[str] | None:
    out: list[str] = []
    for pattern in patterns:
        try:
            lits = _required_literals(_parser.parse(pattern))
        except Exception:
            return None
        if lits is None:
            return None
        out += lits
    return out


@dataclass
class _Hit:
    location: Location
    evidence: str
    layers: tuple[str, ...] = ()
    origin: Origin = Origin.STATIC
    matched: str = ""  # the matched text alone (evidence may add context around it)
    declared: bool = False  # from a command line a program declares (its argparse flags)
    in_output: bool = False  # from a notebook cell's output: the tool printed it, so it ran


def _act(rule: Rule, hit: _Hit) -> str:
    """The act a hit shows: the rule's, except that a program's declared command line is its
    source (not a run), and what a tool printed into a notebook's output shows it ran."""
    act = rule.act_key
    if hit.declared and act in ("run", "data"):
        return "source"
    if hit.in_output and act in ("source", "model"):
        return "run"
    return act


class Matcher:
    """Applies a rule set to facts. Regexes are compiled once, here."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._yara: dict[str, YaraRules] = {}
        self._local = threading.local()
        self._has_url_rules = any(r.match.url for r in rules.rules)
        # Concealment rules judge the other rules' findings, so they run last.
        # Rules are grouped by the facts they read, so that a guard event with only a file name
        # skips the other groups at once (the guard's hot path).
        self._groups: dict[tuple[str, ...], list[Rule]] = {}
        for r in sorted(rules.rules, key=lambda r: r.match.concealed is not None):
            self._groups.setdefault(_NEEDS[r.match.kind()], []).append(r)
        self._patterns: dict[str, list[re.Pattern[str]]] = {}
        for rule in rules.rules:
            m = rule.match
            if m.literal is not None:
                flags = 0 if m.literal.case_sensitive else re.IGNORECASE
                self._patterns[rule.id] = [
                    re.compile(
                        (r"(?<![A-Za-z0-9])" if m.literal.word else "")
                        + re.escape(v)
                        + (r"(?![A-Za-z0-9])" if m.literal.word else ""),
                        flags,
                    )
                    for v in m.literal.values
                ]
            elif m.regex is not None:
                flags = 0 if m.regex.case_sensitive else re.IGNORECASE
                self._patterns[rule.id] = [re.compile(p, flags) for p in m.regex.patterns]
            elif m.import_ is not None:
                self._patterns[rule.id] = [re.compile(p) for p in m.import_.modules]
            elif m.package is not None:
                self._patterns[rule.id] = [re.compile(p) for p in m.package.names]
            elif m.filename is not None:
                self._patterns[rule.id] = [
                    re.compile(p, re.IGNORECASE) for p in m.filename.patterns
                ]
        # Per rule: lower-case literals one of which must be present for any pattern to match.
        self._hints: dict[str, list[str] | None] = {}
        for rule in rules.rules:
            m = rule.match
            if m.literal is not None:
                self._hints[rule.id] = [v.lower() for v in m.literal.values]
            elif m.regex is not None:
                self._hints[rule.id] = _prefilter(m.regex.patterns)

    def _lowered(self, frag: Fragment) -> str:
        cache: dict[int, tuple[Fragment, str]] = self._local.lower
        got = cache.get(id(frag))
        if got is None or got[0] is not frag:
            got = (frag, frag.text.lower())
            cache[id(frag)] = got
        return got[1]

    def match(self, facts: Facts) -> list[Finding]:
        """Every finding the rules produce on ``facts``."""
        # Per-call caches, per thread: the runtime guard matches from any thread.
        self._local.lower = {}
        self._local.yara = {}
        findings: list[Finding] = []
        urls: list[tuple[Fragment, str, str, str, int]] = []
        if self._has_url_rules:
            for frag in facts.fragments:
                # The URL regex is costly on long logs; a substring test rules most text out.
                lowered = self._lowered(frag)
                if any(hint in lowered for hint in _URL_HINTS):
                    urls += [(frag, *u) for u in find_urls(frag.text)]
        for needs, group in self._groups.items():
            if needs and not any(getattr(facts, attr) for attr in needs):
                continue  # nothing of the kind these rules read
            for rule in group:
                self._apply(rule, facts, urls, findings)
        return _names_in_urls(findings) + _runs_in_clones(facts, findings)

    def _apply(
        self,
        rule: Rule,
        facts: Facts,
        urls: list[tuple[Fragment, str, str, str, int]],
        findings: list[Finding],
    ) -> None:
        if rule.match.concealed is not None:
            hits = list(_concealed_hits(rule.match.concealed, findings))
        else:
            hits = list(self._hits(rule, facts, urls))
        for hit in hits[:_MAX_PER_RULE]:
            findings.append(
                Finding(
                    rule_id=rule.id,
                    family=rule.family,
                    weight=rule.weight,
                    kind=rule.kind,
                    signal=rule.signal_key,
                    title=rule.title,
                    location=hit.location,
                    evidence=hit.evidence,
                    layers=hit.layers,
                    origin=hit.origin,
                    act=_act(rule, hit),
                    matched=hit.matched or hit.evidence,
                )
            )

    def _hits(
        self,
        rule: Rule,
        facts: Facts,
        urls: list[tuple[Fragment, str, str, str, int]],
    ) -> Iterator[_Hit]:
        m = rule.match
        if m.literal is not None or m.regex is not None:
            require = m.literal.require if m.literal else m.regex.require  # type: ignore[union-attr]
            yield from self._text_hits(rule, facts.fragments, require)
        elif m.import_ is not None:
            pats = self._patterns[rule.id]
            for name, loc, layers in facts.imports:
                if any(p.fullmatch(name) for p in pats):
                    yield _Hit(loc, f"import {name}", layers)
        elif m.call is not None:
            for call in facts.calls:
                if _call_matches(m.call, call.name, call.args, dict(call.keywords)):
                    args = ", ".join(repr(a) if a is not None else "…" for a in call.args)
                    kws = ", ".join(f"{k}={v!r}" for k, v in call.keywords)
                    text = f"{call.name}({', '.join(x for x in (args, kws) if x)})"
                    yield _Hit(call.location, text[:300], call.layers)
        elif m.url is not None:
            host_re = re.compile(m.url.host, re.IGNORECASE) if m.url.host else None
            path_re = re.compile(m.url.path, re.IGNORECASE) if m.url.path else None
            for frag, url, host, path, offset in urls:
                if not rule.applies_to(frag.kind):
                    continue
                if (host_re is None or host_re.search(host)) and (
                    path_re is None or path_re.search(path)
                ):
                    yield _Hit(_line_of(frag, offset), url, frag.layers, frag.origin)
        elif m.command is not None:
            for cmd in facts.commands:
                if _command_matches(m.command, cmd.argv):
                    yield _Hit(cmd.location, cmd.text[:300], cmd.layers, cmd.origin,
                               declared=cmd.declared)  # fmt: skip
        elif m.package is not None:
            pats = self._patterns[rule.id]
            found: dict[int, tuple[str, Location]] = {}
            for name, loc in facts.packages:
                for i, p in enumerate(pats):
                    if i not in found and p.fullmatch(name):
                        found[i] = (name, loc)
            if found and len(found) >= _needed(m.package.require, len(pats)):
                first = min(found.values(), key=lambda x: (x[1].path, x[1].line or 0))
                names = ", ".join(sorted({n for n, _ in found.values()}))
                yield _Hit(first[1], f"packages: {names}")
        elif m.filename is not None:
            pats = self._patterns[rule.id]
            for rel, loc in facts.files:
                if any(p.search(rel) for p in pats):
                    yield _Hit(loc, f"file {rel}")
        elif m.hash is not None:
            known = {f.sha256: f for f in m.hash.files}
            for digest, size, loc in facts.hashes:
                if digest in known and known[digest].size in (None, size):
                    yield _Hit(loc, f"sha256 {digest} ({size} bytes)")
        elif m.onnx is not None:
            for summary, loc in facts.onnx_graphs:
                if _onnx_matches(m.onnx, summary):
                    yield _Hit(loc, _describe_onnx(summary))
        elif m.yara is not None:
            yield from self._yara_hits(rule, m.yara.file, m.yara.rule, facts.fragments)
        elif m.layout is not None:
            root = _layout_root(m.layout, facts)
            if root is not None:
                yield _Hit(Location(root), f"layout under {root}: {', '.join(m.layout.all)}")

    def _yara_hits(
        self, rule: Rule, file: str, name: str, fragments: Iterable[Fragment]
    ) -> Iterator[_Hit]:
        if file not in self._yara:
            self._yara[file] = compile_yara(file)
        compiled = self._yara[file]
        for frag in fragments:
            if not rule.applies_to(frag.kind):
                continue
            key = (file, id(frag))
            cache: dict[tuple[str, int], list[YaraMatch]] = self._local.yara
            if key not in cache:  # one YARA run per file and fragment, all rules
                cache[key] = compiled.match(data=frag.text.encode("utf-8", "replace"))
            for found in cache[key]:
                if found.rule != name or not found.strings:
                    continue
                instance = found.strings[0].instances[0]
                data = frag.text.encode("utf-8", "replace")
                offset = len(data[: instance.offset].decode("utf-8", "replace"))
                matched = instance.matched_data.decode("utf-8", "replace")
                yield _Hit(_line_of(frag, offset), f"yara {name}: {matched[:200]}", frag.layers,
                           frag.origin, matched[:200], in_output=frag.kind == "output")  # fmt: skip

    def _text_hits(
        self, rule: Rule, fragments: Iterable[Fragment], require: str | int
    ) -> Iterator[_Hit]:
        pats = self._patterns[rule.id]
        hints = self._hints[rule.id]
        needed = _needed(require, len(pats))
        first_hit: dict[int, _Hit] = {}
        for frag in fragments:
            if not rule.applies_to(frag.kind):
                continue
            if hints is not None:
                lowered = self._lowered(frag)
                if not any(h in lowered for h in hints):
                    continue
            for i, pat in enumerate(pats):
                if needed == 1 and i in first_hit and len(first_hit) >= _MAX_PER_RULE:
                    continue
                mt = pat.search(frag.text)
                if mt is None:
                    continue
                hit = _Hit(
                    _line_of(frag, mt.start()),
                    _snippet(frag.text, mt.start(), mt.end()),
                    frag.layers,
                    frag.origin,
                    mt.group(0)[:200],
                    in_output=frag.kind == "output",
                )
                if needed == 1:
                    yield hit
                first_hit.setdefault(i, hit)
        if needed > 1 and len(first_hit) >= needed:
            hits = sorted(first_hit.items())
            base = hits[0][1]
            joined = " | ".join(h.evidence for _, h in hits)
            layers = tuple(x for _, h in hits for x in h.layers)
            matched = " | ".join(h.matched for _, h in hits)
            yield _Hit(base.location, joined[:600], layers, base.origin, matched[:600],
                       in_output=base.in_output)  # fmt: skip


def _names_in_urls(findings: list[Finding]) -> list[Finding]:
    """A model named inside a download URL is the download, not a model file at hand: such a
    name finding takes the URL finding's act (``obtain``), so one line is one kind of evidence."""
    urls = {
        (f.location.path, f.location.cell, f.location.line): f.matched.lower()
        for f in findings
        if f.act == "obtain" and "/" in f.matched
    }
    if not urls:
        return findings
    out = []
    for f in findings:
        url = urls.get((f.location.path, f.location.cell, f.location.line))
        in_url = f.act == "model" and url is not None and bool(f.matched)
        out.append(replace(f, act="obtain") if in_url and f.matched.lower() in (url or "") else f)
    return out


def _runs_in_clones(facts: Facts, findings: list[Finding]) -> list[Finding]:
    """A script run inside the clone of a known tool's repository runs that tool: the
    repository finding again, as a *run*, located at the command (one per repository)."""
    if not facts.commands:
        return []
    obtained = [f for f in findings if f.act == "obtain" and f.weight is Weight.STRONG]
    out: list[Finding] = []
    done: set[tuple[str, str]] = set()
    for url, cmd in clone_runs(facts.commands):
        for f in obtained:
            if (f.rule_id, url) in done or not same_repo(f.matched or f.evidence, url):
                continue
            done.add((f.rule_id, url))
            out.append(
                replace(
                    f,
                    location=cmd.location,
                    evidence=f"{cmd.text[:240]} (run inside the clone of {url})",
                    matched=f"run in {url}: {cmd.text[:200]}",
                    layers=cmd.layers,
                    origin=cmd.origin,
                    act="run",
                )
            )
    return out


def _concealed_hits(spec: ConcealedSpec, findings: list[Finding]) -> Iterator[_Hit]:
    wanted = set(spec.layers)
    for f in findings:
        used = {layer.removeprefix("guess:") for layer in f.layers}
        if f.weight is spec.of_weight and f.kind == "capability" and used & wanted:
            hidden_by = " > ".join(f.layers)
            yield _Hit(f.location, f"{f.rule_id} evidence hidden by {hidden_by}: {f.evidence}",
                       f.layers, f.origin)  # fmt: skip
            return  # one is enough: concealment is one signal


def _call_matches(
    spec: CallSpec, name: str, args: tuple[str | None, ...], kws: dict[str, str | None]
) -> bool:
    if not re.search(spec.name, name):
        return False
    for index, pat in spec.args.items():
        if index >= len(args) or args[index] is None or not re.search(pat, args[index] or "", re.I):
            return False
    for key, pat in spec.keywords.items():
        if key not in kws:
            return False
        if pat and not re.search(pat, kws[key] or "", re.IGNORECASE):
            return False
    return True


def _command_matches(spec: CommandSpec, argv: tuple[str, ...]) -> bool:
    cmd = normalise(argv)
    if cmd is None:
        return False
    if spec.program and not re.fullmatch(spec.program, cmd.program, re.IGNORECASE):
        return False
    if spec.subcommand and not re.fullmatch(spec.subcommand, cmd.subcommand or "", re.IGNORECASE):
        return False
    tokens = cmd.tokens
    for pat in spec.all:
        if not any(re.fullmatch(pat, t, re.IGNORECASE) for t in tokens):
            return False
    if spec.any:
        count = sum(1 for p in spec.any if any(re.fullmatch(p, t, re.IGNORECASE) for t in tokens))
        if count < spec.min_any:
            return False
    for flag, value in spec.options.items():
        if not any(
            re.fullmatch(flag, tokens[i], re.IGNORECASE)
            and re.fullmatch(value, tokens[i + 1], re.IGNORECASE)
            for i in range(len(tokens) - 1)
        ):
            return False
    return True


def _shape_ok(want: list[int], got: tuple[int | None, ...]) -> bool:
    return len(want) == len(got) and all(w in (-1, g) for w, g in zip(want, got, strict=True))


def _onnx_matches(spec: OnnxSpec, summary: OnnxSummary) -> bool:
    if spec.inputs:
        if len(spec.inputs) != len(summary.inputs):
            return False
        remaining = list(summary.inputs)
        for want in spec.inputs:
            got = next((g for g in remaining if _shape_ok(want, g)), None)
            if got is None:
                return False
            remaining.remove(got)
    for init in spec.initializers:
        if not any(
            _shape_ok(init.shape, shape) and (init.name is None or re.search(init.name, name))
            for name, shape in summary.initializers
        ):
            return False
    return bool(spec.inputs or spec.initializers)


def _describe_onnx(summary: OnnxSummary) -> str:
    ins = ", ".join("x".join("?" if d is None else str(d) for d in s) for s in summary.inputs)
    big = sorted(summary.initializers, key=lambda x: -_numel(x[1]))[:3]
    inits = ", ".join(f"{n} {'x'.join(map(str, s))}" for n, s in big)
    return f"ONNX graph inputs [{ins}]; largest initializers [{inits}]"


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _layout_root(spec: LayoutSpec, facts: Facts) -> str | None:
    paths = {p.replace("!", "/") for p in facts.dirs} | {
        rel.replace("!", "/") for rel, _ in facts.files
    }
    if not paths:
        return None
    first = spec.all[0].strip("/")
    roots = {p[: -len(first)] for p in paths if p == first or p.endswith("/" + first)}
    for root in sorted(roots):
        if all(f"{root}{r.strip('/')}" in paths for r in spec.all):
            return root.rstrip("/") or "."
    return None
