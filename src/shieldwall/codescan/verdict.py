"""Verdicts: reasoning about what a job does with face-swap tooling, and the message a user sees.

The verdict model (docs/codescan.md, "Verdict model"). Every finding shows an *act* (see
``ACTS``): the job obtains a tool or its weights, runs one, holds a tool's own source, holds
its model files, feeds a swap its faces, or shows intent. Face-swap tooling that is obtained and
never run, or a command line with no tool behind it, is not yet a face-swap job; the same tool
obtained **and** run is. So:

- **block** when the strong evidence shows two different acts, at least one a capability (not
  only intent): obtained and run, a tool's source with its requirements, a model with the code
  that runs it, a swap command fed a source face and a target video, ...;
- **block** on two or more independent strong signals (different ``signal`` keys) with a
  capability among them, even of one act (two different face-swap tools run);
- **block** on one strong signal confirmed at run time (the runtime guard saw the import, the
  spawned command, the fetched URL or the opened model file);
- **warn** on strong evidence of one act only, or two or more independent medium signals;
- **allow** otherwise. Weak (dual-use) findings never count: face detection, restoration,
  recognition and deepfake detection never warn or block on their own.

Allow-listed findings are kept in the report, marked, and never count. The score (0-10) sums
4 per strong, 1.5 per medium and 0.5 per weak signal, capped; it orders reports only.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shieldwall.codescan.model import ACTS, Finding, InputError, Origin, Verdict, Weight

__all__ = ["Decision", "Policy", "Report", "decide", "decision", "fingerprints"]

_POINTS = {Weight.STRONG: 4.0, Weight.MEDIUM: 1.5, Weight.WEAK: 0.5}
_ORDER = {Weight.STRONG: 0, Weight.MEDIUM: 1, Weight.WEAK: 2}
# How the reason names an act, in the order reasons list them.
_ACT_WORDS = {
    "obtain": "obtained",
    "run": "run",
    "source": "present as its own source",
    "model": "present as model files",
    "data": "fed a source face and a target",
    "intent": "with signs of intent",
}


@dataclass(frozen=True)
class Policy:
    """What a verdict cites: the policy's name and address, and where to appeal."""

    name: str
    url: str
    appeal_url: str


@dataclass(frozen=True)
class _Signal:
    key: str
    weight: Weight
    kind: str
    runtime: bool


@dataclass(frozen=True)
class Decision:
    """A verdict with its score, its one-line reason, and the findings the reason rests on
    (quoted first in every message)."""

    verdict: Verdict
    score: float
    reason: str
    basis: tuple[Finding, ...] = ()


def _signals(findings: list[Finding]) -> list[_Signal]:
    grouped: dict[str, list[Finding]] = {}
    for f in findings:
        grouped.setdefault(f.signal, []).append(f)
    out = []
    for key, group in grouped.items():
        best = min(group, key=lambda f: _ORDER[f.weight])
        runtime = any(f.origin is Origin.RUNTIME and f.weight is best.weight for f in group)
        kind = "capability" if any(f.kind == "capability" for f in group) else "threat"
        out.append(_Signal(key, best.weight, kind, runtime))
    return out


def _by_act(strong: Iterable[Finding]) -> dict[str, Finding]:
    """The first finding of each act (a capability one where there is one)."""
    out: dict[str, Finding] = {}
    for f in sorted(strong, key=lambda f: f.kind != "capability"):
        if f.act in _ACT_WORDS:
            out.setdefault(f.act, f)
    return dict(sorted(out.items(), key=lambda kv: list(_ACT_WORDS).index(kv[0])))


def _cite(acts: dict[str, Finding]) -> str:
    parts = [f"{_ACT_WORDS[a]} ({f.rule_id})" for a, f in acts.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def decision(findings: list[Finding]) -> Decision:
    """The verdict model applied to the (not suppressed) findings."""
    signals = _signals(findings)
    strong = [f for f in findings if f.weight is Weight.STRONG]
    medium = [s for s in signals if s.weight is Weight.MEDIUM]
    strong_signals = [s for s in signals if s.weight is Weight.STRONG]
    score = min(10.0, sum(_POINTS[s.weight] for s in signals))
    runtime = [f for f in strong if f.origin is Origin.RUNTIME]
    if runtime:
        f = runtime[0]
        return Decision(
            Verdict.BLOCK,
            max(score, 8.0),
            f"confirmed at run time: {ACTS[f.act].split(' (')[0]} ({f.rule_id})",
            (f,),
        )
    acts = _by_act(strong)
    if len(acts) >= 2 and any(f.kind == "capability" for f in acts.values()):
        return Decision(
            Verdict.BLOCK,
            score,
            f"the evidence shows a face-swap tool {_cite(acts)}",
            tuple(acts.values()),
        )
    if len(strong_signals) >= 2 and any(s.kind == "capability" for s in strong_signals):
        firsts: dict[str, Finding] = {}
        for f in strong:
            firsts.setdefault(f.signal, f)
        ids = ", ".join(f.rule_id for f in firsts.values())
        kinds = {f.act for f in firsts.values()}
        what = (
            f"a face-swap tool {_ACT_WORDS[next(iter(kinds))]}, by {len(strong_signals)} "
            f"independent signals ({ids})"
            if len(kinds) == 1 and next(iter(kinds)) in _ACT_WORDS
            else f"{len(strong_signals)} independent strong signals ({ids})"
        )
        return Decision(Verdict.BLOCK, score, f"the evidence shows {what}", tuple(firsts.values()))
    if strong:
        act, f = next(iter(acts.items())) if acts else (strong[0].act, strong[0])
        what = (
            f"a job fed a source face and a target ({f.rule_id}), with no known face-swap tool "
            "obtained, run or present"
            if act == "data"
            else f"a face-swap tool {_ACT_WORDS.get(act, act)} ({f.rule_id})"
        )
        return Decision(
            Verdict.WARN,
            score,
            f"one kind of strong evidence only: {what}; blocking needs a second kind (the "
            "tool obtained, run, present as source or model files, or fed a source face and a "
            "target) or proof at run time",
            (f,),
        )
    if len(medium) >= 2:
        return Decision(Verdict.WARN, score, f"{len(medium)} independent medium signals")
    if signals:
        return Decision(
            Verdict.ALLOW,
            score,
            "only dual-use or single medium signals, which never warn or block on their own",
        )
    return Decision(Verdict.ALLOW, 0.0, "no face-swap signals found")


def decide(findings: list[Finding]) -> tuple[Verdict, float, str]:
    """Verdict, score and a one-line reason for the (not suppressed) findings."""
    d = decision(findings)
    return d.verdict, d.score, d.reason


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    """A stable fingerprint per finding (SARIF ``partialFingerprints``): the same rule, file and
    matched text give the same fingerprint in every scan, wherever the lines move; repeats of
    one key are told apart by their order."""
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        key = f.fingerprint_key
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(hashlib.sha256(f"{key}|{n}".encode()).hexdigest()[:32])
    return out


def _new_scan_id() -> str:
    return uuid.uuid4().hex[:16]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Report:
    """The result of a scan: verdict, score, evidence, and what could not be scanned.

    ``scan_id`` is new for every scan (an appeal quotes it, a provider's log finds it);
    ``evidence_digest`` is the same for the same evidence (to see two scans found the same)."""

    verdict: Verdict
    score: float
    reason: str
    findings: list[Finding]
    policy: Policy
    suppressed: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    basis: tuple[Finding, ...] = ()
    scan_id: str = field(default_factory=_new_scan_id)
    scanned_at: str = field(default_factory=_now)

    @property
    def evidence_digest(self) -> str:
        """A short digest of the evidence, independent of line numbers (same evidence, same
        digest, in any scan)."""
        digest = hashlib.sha256()
        for key in sorted(f.fingerprint_key for f in self.findings):
            digest.update(f"{key}\n".encode())
        return digest.hexdigest()[:16]

    @property
    def exit_code(self) -> int:
        """CLI exit code: 0 allow, 1 warn, 3 block, 2 when an input could not be scanned
        (and nothing was blocked): an incomplete scan must not read as clean."""
        if self.verdict is Verdict.BLOCK:
            return 3
        if self.errors:
            return 2
        return 1 if self.verdict is Verdict.WARN else 0

    @property
    def appeal(self) -> dict[str, str]:
        """How to appeal this verdict: where, and the scan id to quote."""
        return {
            "url": self.policy.appeal_url,
            "scan_id": self.scan_id,
            "how": f"appeal at {self.policy.appeal_url} quoting scan id {self.scan_id}",
        }

    def _ranked(self) -> list[list[Finding]]:
        """Findings grouped by rule: the verdict's basis first, then by weight (run-time
        evidence first within a rule)."""
        basis = [f.rule_id for f in self.basis]
        by_rule: dict[str, list[Finding]] = {}
        for f in sorted(
            self.findings, key=lambda f: (_ORDER[f.weight], f.origin is not Origin.RUNTIME)
        ):
            by_rule.setdefault(f.rule_id, []).append(f)
        return sorted(
            by_rule.values(),
            key=lambda g: (
                basis.index(g[0].rule_id) if g[0].rule_id in basis else len(basis),
                _ORDER[g[0].weight],
                g[0].rule_id,
            ),
        )

    def message(self, max_evidence: int = 8) -> str:
        """The explanation shown to the user: what was decided and why, on which evidence,
        under which policy, and how to appeal."""
        p = self.policy
        unscanned = (
            f"\n{len(self.errors)} input(s) could not be scanned: "
            + "; ".join(e.message for e in self.errors[:3])
            if self.errors
            else ""
        )
        if self.verdict is Verdict.ALLOW:
            head = "ALLOWED: no face-swap deepfake tooling was found"
            if not self.findings:
                return head + f" (scan id {self.scan_id})." + unscanned
            head += f" ({self.reason}). Noted, not counted:"
            lines = [head]
        elif self.verdict is Verdict.BLOCK:
            lines = [
                "BLOCKED: this code appears to create face-swap deepfakes, which is not "
                f"allowed here: {self.reason}.",
                f"Policy: {p.name} ({p.url})",
                "Evidence:",
            ]
        else:
            lines = [
                "WARNING: this code shows signs of face-swap deepfake tooling. It was not "
                f"blocked ({self.reason}), but running it may be.",
                f"Policy: {p.name} ({p.url})",
                "Evidence:",
            ]
        ranked = self._ranked()
        for group in ranked[:max_evidence]:
            f = group[0]
            decoded = f" [decoded: {' > '.join(f.layers)}]" if f.layers else ""
            when = " [seen at run time]" if f.origin is Origin.RUNTIME else ""
            more = f" (+{len(group) - 1} more)" if len(group) > 1 else ""
            lines.append(
                f"  - {f.rule_id} ({f.weight.value}, {f.family}, {f.act}): {f.title} - "
                f"{f.location}: {f.evidence}{decoded}{when}{more}"
            )
        if len(ranked) > max_evidence:
            lines.append(f"  ... and {len(ranked) - max_evidence} more rules matched")
        if self.verdict is Verdict.ALLOW:
            lines.append(f"Scan id {self.scan_id}.")
        else:
            lines.append(
                "If this is a mistake (for example deepfake-detection research, face "
                f"recognition or photo restoration), {self.appeal['how']}."
            )
        return "\n".join(lines) + unscanned

    def to_dict(self) -> dict[str, object]:
        """The JSON form (also what an HTTP endpoint returns)."""
        prints = fingerprints([*self.findings, *self.suppressed])
        found = [
            {**f.to_dict(), "fingerprint": fp}
            for f, fp in zip([*self.findings, *self.suppressed], prints, strict=True)
        ]
        return {
            "verdict": self.verdict.value,
            "score": round(self.score, 1),
            "reason": self.reason,
            "basis": [f.rule_id for f in self.basis],
            "scan_id": self.scan_id,
            "scanned_at": self.scanned_at,
            "evidence_digest": self.evidence_digest,
            "message": self.message(),
            "policy": {
                "name": self.policy.name,
                "url": self.policy.url,
                "appeal_url": self.policy.appeal_url,
            },
            "appeal": self.appeal,
            "findings": found[: len(self.findings)],
            "suppressed": found[len(self.findings) :],
            "errors": [e.to_dict() for e in self.errors],
            "notes": list(self.notes),
            "inputs": list(self.inputs),
        }
