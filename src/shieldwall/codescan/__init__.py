"""Code scanning for compute providers: finds face-swap deepfake tooling in notebooks, scripts,
command lines, archives and model files, explains every finding, and guards at run time.

Standalone: needs no database and no service. Entry points: :class:`Scanner` (library),
``shieldwall scan`` (CLI), ``python -m shieldwall.guard script.py`` (runtime guard).
"""

from __future__ import annotations

from shieldwall.codescan.allowlist import AllowList, load_allow_list
from shieldwall.codescan.model import Finding, InputError, Location, Origin, Verdict, Weight
from shieldwall.codescan.rules import Rule, RuleSet, load_rules
from shieldwall.codescan.scanner import Scanner
from shieldwall.codescan.verdict import Policy, Report

__all__ = [
    "AllowList",
    "Finding",
    "InputError",
    "Location",
    "Origin",
    "Policy",
    "Report",
    "Rule",
    "RuleSet",
    "Scanner",
    "Verdict",
    "Weight",
    "load_allow_list",
    "load_rules",
]
