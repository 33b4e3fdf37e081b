"""Provider allow-lists: findings a provider has reviewed and accepts (a research project, a
known lookalike), suppressed with a recorded reason.

    version: 1
    allow:
      - id: ffpp-rebuild-2026
        reason: FaceForensics++ benchmark rebuild, approved by T&S ticket 4411
        paths: ['*research/ffpp/*']     # glob on the finding's file
        rules: [SW-FACESWAP-REPO]       # optional: only these rules
        evidence: 'deepfakes/faceswap'  # optional regex on the evidence
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shieldwall.codescan.model import Finding
from shieldwall.codescan.rules import describe_errors, read_yaml
from shieldwall.errors import RuleError

__all__ = ["AllowEntry", "AllowList", "load_allow_list"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllowEntry(_Spec):
    """One allow-list entry: findings whose file matches one of ``paths`` (glob) and whose rule
    is in ``rules`` (all rules when empty) and whose evidence matches ``evidence`` (regex) are
    suppressed. ``reason`` is required: the audit trail says why."""

    id: str
    reason: str = Field(min_length=1)
    paths: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    evidence: str | None = None

    def covers(self, finding: Finding) -> bool:
        """Whether this entry suppresses ``finding``."""
        if self.paths and not any(
            fnmatch.fnmatchcase(finding.location.path, p) for p in self.paths
        ):
            return False
        if self.rules and finding.rule_id not in self.rules:
            return False
        return not (
            self.evidence is not None
            and re.search(self.evidence, finding.evidence, re.IGNORECASE) is None
        )


class AllowList(_Spec):
    """A provider's allow-list file (``version: 1``, ``allow: [...]``)."""

    version: Literal[1] = 1
    allow: list[AllowEntry] = Field(default_factory=list)

    def match(self, finding: Finding) -> str | None:
        """The id of the first entry covering ``finding``, or ``None``."""
        for entry in self.allow:
            if entry.covers(finding):
                return entry.id
        return None


def load_allow_list(path: Path) -> AllowList:
    """Read an allow-list file. Raises :class:`RuleError` naming the file and entry."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read allow-list: {exc}") from exc
    data = read_yaml(path, text)
    try:
        allow = AllowList.model_validate(data)
    except ValidationError as exc:
        raise RuleError(f"{path}: {describe_errors(exc)}") from exc
    for entry in allow.allow:
        if not (entry.paths or entry.rules or entry.evidence):
            raise RuleError(f"{path}: entry {entry.id}: needs paths, rules or evidence")
        if entry.evidence is not None:
            try:
                re.compile(entry.evidence)
            except re.error as exc:
                raise RuleError(f"{path}: entry {entry.id}: bad evidence regex: {exc}") from exc
    return allow
