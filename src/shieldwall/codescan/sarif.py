"""SARIF 2.1.0 output, for code-hosting and CI tools that display static-analysis results.

Mapping: each rule is a ``reportingDescriptor`` (weight as ``defaultConfiguration.level``:
strong -> error, medium -> warning, weak -> note); each finding a ``result`` with a physical
location (a notebook cell appears as a logical location, and its cell-relative line in the
result's properties, since SARIF lines count from the top of the file); the verdict, score and
message go in the run's ``properties``; input errors become ``toolExecutionNotifications``.

For code hosts that track alerts across commits: every result carries
``partialFingerprints["shieldwall/v1"]`` (rule, file and matched text, no line number: an alert
keeps its fingerprint when lines move), and the run carries ``automationDetails`` with the scan
id, which is new for every scan. The appeal route and the evidence are in every result's message
and properties, and in the run's properties.
"""

from __future__ import annotations

from urllib.parse import quote

from shieldwall._version import __version__
from shieldwall.codescan.model import Weight
from shieldwall.codescan.rules import RuleSet
from shieldwall.codescan.verdict import Report, fingerprints

__all__ = ["SARIF_SCHEMA_URI", "to_sarif"]

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Weight.STRONG: "error", Weight.MEDIUM: "warning", Weight.WEAK: "note"}


def _uri(path: str) -> str:
    """A URI reference for a path: ``file://`` for absolute paths, percent-encoded relative
    ones (spaces are common in Windows batch-file names). Archive members keep the readable
    ``a.zip!dir/x.py`` form: SARIF has no syntax of its own for them."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return "file://" + quote(posix, safe="/!")
    return quote(posix, safe="/!")


def to_sarif(report: Report, rules: RuleSet) -> dict[str, object]:
    """The report as a SARIF 2.1.0 log (a JSON-ready dict)."""
    used = sorted({f.rule_id for f in report.findings} | {f.rule_id for f in report.suppressed})
    index = {rule_id: i for i, rule_id in enumerate(used)}
    descriptors = []
    for rule_id in used:
        rule = rules.by_id(rule_id)
        descriptors.append(
            {
                "id": rule.id,
                "name": rule.id.replace("-", ""),
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.description or rule.title},
                "defaultConfiguration": {"level": _LEVEL[rule.weight]},
                "properties": {
                    "family": rule.family,
                    "weight": rule.weight.value,
                    "kind": rule.kind,
                    "signal": rule.signal_key,
                },
            }
        )
    results = []
    appeal = report.appeal
    every = [*report.findings, *report.suppressed]
    basis = {f.rule_id for f in report.basis}
    for finding, print_ in zip(every, fingerprints(every), strict=True):
        loc = finding.location
        physical: dict[str, object] = {"artifactLocation": {"uri": _uri(loc.path)}}
        if loc.cell is None and loc.line is not None:
            physical["region"] = {"startLine": loc.line}
        location: dict[str, object] = {"physicalLocation": physical}
        if loc.cell is not None:
            location["logicalLocations"] = [
                {"name": f"cell {loc.cell}", "fullyQualifiedName": f"{loc.path}#cell-{loc.cell}"}
            ]
        result: dict[str, object] = {
            "ruleId": finding.rule_id,
            "ruleIndex": index[finding.rule_id],
            "level": _LEVEL[finding.weight],
            "message": {
                "text": f"{finding.title}: {finding.evidence} (verdict {report.verdict.value}: "
                f"{report.reason}; {appeal['how']})"
            },
            "locations": [location],
            "partialFingerprints": {"shieldwall/v1": print_},
            "properties": {
                "evidence": finding.evidence,
                "act": finding.act,
                "family": finding.family,
                "verdictBasis": finding.rule_id in basis,
                "appealUrl": appeal["url"],
                "scanId": report.scan_id,
                "decodedBy": list(finding.layers),
                "cell": loc.cell,
                "cellLine": loc.line if loc.cell is not None else None,
                "origin": finding.origin.value,
            },
        }
        if finding.suppressed_by:
            result["suppressions"] = [
                {"kind": "external", "justification": f"allow-list entry {finding.suppressed_by}"}
            ]
        results.append(result)
    notifications = [
        {"level": "error", "message": {"text": e.message}, "descriptor": {"id": e.code}}
        for e in report.errors
    ]
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "shieldwall-codescan",
                        "version": __version__,
                        "informationUri": "https://github.com/shieldwall/shieldwall",
                        "rules": descriptors,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not report.errors,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "automationDetails": {
                    "id": f"shieldwall-codescan/{report.scan_id}",
                    "description": {"text": f"shieldwall scan {report.scan_id}"},
                },
                "results": results,
                "properties": {
                    "verdict": report.verdict.value,
                    "score": round(report.score, 1),
                    "reason": report.reason,
                    "basis": [f.rule_id for f in report.basis],
                    "scanId": report.scan_id,
                    "scannedAt": report.scanned_at,
                    "evidenceDigest": report.evidence_digest,
                    "appeal": appeal,
                    "policy": {"name": report.policy.name, "url": report.policy.url},
                    "message": report.message(),
                },
            }
        ],
    }
