"""Verdicts: scoring findings into ``allow``, ``warn`` or ``block``, and the message a user sees.

The policy (see docs/codescan.md):

- findings sharing a rule's ``signal`` are one signal (a repo URL and the same repo's name are
  not independent evidence); a signal's weight is its strongest finding's;
- **block** on two or more independent strong signals, at least one a capability (what the code
  does, not only intent), or on one strong signal confirmed at run time (an action seen by the
  runtime guard: a spawned command, a fetched URL, an opened model file);
- **warn** on one strong signal, or two or more independent medium ones;
- **allow** otherwise: weak signals alone never warn or block;
- allow-listed findings are kept in the report, marked, and never count.

The score (0-10) sums 4 per strong, 1.5 per medium and 0.5 per weak signal, capped at 10; it
orders reports, the verdict does not depend on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from shieldwall.codescan.model import Finding, InputError, Origin, Verdict, Weight

__all__ = ["Policy", "Report", "decide"]

_POINTS = {Weight.STRONG: 4.0, Weight.MEDIUM: 1.5, Weight.WEAK: 0.5}
_ORDER = {Weight.STRONG: 0, Weight.MEDIUM: 1, Weight.WEAK: 2}


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


def decide(findings: list[Finding]) -> tuple[Verdict, float, str]:
    """Verdict, score and a one-line reason for the (not suppressed) findings."""
    signals = _signals(findings)
    strong = [s for s in signals if s.weight is Weight.STRONG]
    medium = [s for s in signals if s.weight is Weight.MEDIUM]
    score = min(10.0, sum(_POINTS[s.weight] for s in signals))
    if any(s.runtime for s in strong):
        return Verdict.BLOCK, max(score, 8.0), "a strong signal was confirmed at run time"
    if len(strong) >= 2 and any(s.kind == "capability" for s in strong):
        return Verdict.BLOCK, score, f"{len(strong)} independent strong signals"
    if strong:
        return Verdict.WARN, score, "one strong signal (blocking needs two, or run-time proof)"
    if len(medium) >= 2:
        return Verdict.WARN, score, f"{len(medium)} independent medium signals"
    if signals:
        return Verdict.ALLOW, score, "only weak or single medium signals, which never block"
    return Verdict.ALLOW, 0.0, "no face-swap signals found"


@dataclass
class Report:
    """The result of a scan: verdict, score, evidence, and what could not be scanned."""

    verdict: Verdict
    score: float
    reason: str
    findings: list[Finding]
    policy: Policy
    suppressed: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    @property
    def scan_id(self) -> str:
        """A short id for this result, to quote in an appeal (same evidence, same id)."""
        digest = hashlib.sha256()
        for f in self.findings:
            digest.update(f"{f.rule_id}|{f.location}|{f.evidence}\n".encode())
        return digest.hexdigest()[:12]

    @property
    def exit_code(self) -> int:
        """CLI exit code: 0 allow, 1 warn, 3 block, 2 when an input could not be scanned
        (and nothing was blocked): an incomplete scan must not read as clean."""
        if self.verdict is Verdict.BLOCK:
            return 3
        if self.errors:
            return 2
        return 1 if self.verdict is Verdict.WARN else 0

    def message(self, max_evidence: int = 8) -> str:
        """The explanation shown to the user: what was decided, on which evidence, under
        which policy, and how to appeal."""
        p = self.policy
        unscanned = (
            f"\n{len(self.errors)} input(s) could not be scanned: "
            + "; ".join(e.message for e in self.errors[:3])
            if self.errors
            else ""
        )
        if self.verdict is Verdict.ALLOW:
            head = "ALLOWED: no face-swap deepfake tooling was found"
            if self.findings:
                head += f" ({len(self.findings)} weak or single signals noted, {self.reason})"
            return head + "." + unscanned
        if self.verdict is Verdict.BLOCK:
            head = (
                "BLOCKED: this code appears to create face-swap deepfakes, which is not allowed "
                f"here ({self.reason})."
            )
        else:
            head = (
                "WARNING: this code shows signs of face-swap deepfake tooling. It was not "
                f"blocked ({self.reason}), but running it may be."
            )
        lines = [head, f"Policy: {p.name} ({p.url})", "Evidence:"]
        # One line per rule (run-time evidence first): the JSON and SARIF forms keep them all.
        by_rule: dict[str, list[Finding]] = {}
        for f in sorted(
            self.findings, key=lambda f: (_ORDER[f.weight], f.origin is not Origin.RUNTIME)
        ):
            by_rule.setdefault(f.rule_id, []).append(f)
        ranked = sorted(by_rule.values(), key=lambda g: (_ORDER[g[0].weight], g[0].rule_id))
        for group in ranked[:max_evidence]:
            f = group[0]
            decoded = f" [decoded: {' > '.join(f.layers)}]" if f.layers else ""
            when = " [seen at run time]" if f.origin is Origin.RUNTIME else ""
            more = f" (+{len(group) - 1} more)" if len(group) > 1 else ""
            lines.append(
                f"  - {f.rule_id} ({f.weight.value}, {f.family}): {f.title} - {f.location}: "
                f"{f.evidence}{decoded}{when}{more}"
            )
        if len(ranked) > max_evidence:
            lines.append(f"  ... and {len(ranked) - max_evidence} more rules matched")
        lines.append(
            "If this is a mistake (for example deepfake-detection research, face recognition "
            f"or photo restoration), appeal at {p.appeal_url} quoting scan id {self.scan_id}."
        )
        return "\n".join(lines) + unscanned

    def to_dict(self) -> dict[str, object]:
        """The JSON form (also what an HTTP endpoint returns)."""
        return {
            "verdict": self.verdict.value,
            "score": round(self.score, 1),
            "reason": self.reason,
            "scan_id": self.scan_id,
            "message": self.message(),
            "policy": {
                "name": self.policy.name,
                "url": self.policy.url,
                "appeal_url": self.policy.appeal_url,
            },
            "findings": [f.to_dict() for f in self.findings],
            "suppressed": [f.to_dict() for f in self.suppressed],
            "errors": [e.to_dict() for e in self.errors],
            "notes": list(self.notes),
            "inputs": list(self.inputs),
        }
