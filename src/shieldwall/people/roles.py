"""Roles of the people who handle cases (issue 5) and the actor of an action."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Actor", "Role"]


class Role(StrEnum):
    """What a person may do. Roles add up; none implies another except as noted."""

    #: Manages people, settings, queues; may do what a senior reviewer does.
    ADMIN = "admin"
    #: Works adult NCII cases: reveals previews, decides.
    REVIEWER = "reviewer"
    #: Also decides appeals (never on a decision of their own).
    SENIOR_REVIEWER = "senior_reviewer"
    #: The only role that sees and works the restricted queue (suspected minors).
    CHILD_SAFETY_REVIEWER = "child_safety_reviewer"
    #: Reads everything it may see, decides nothing (audit, transparency).
    AUDITOR = "auditor"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a console user (``user:<id>``) or an API key (``key:<prefix>``), and their
    roles."""

    id: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        """Whether the actor holds ``role``."""
        return role in self.roles

    @property
    def may_decide(self) -> bool:
        """Whether the actor may decide cases (auditors may not)."""
        return bool(
            self.roles
            & {Role.ADMIN, Role.REVIEWER, Role.SENIOR_REVIEWER, Role.CHILD_SAFETY_REVIEWER}
        )

    @property
    def may_decide_appeals(self) -> bool:
        """Whether the actor may decide appeals (never on their own decisions: checked by the
        case functions)."""
        return bool(self.roles & {Role.ADMIN, Role.SENIOR_REVIEWER})

    @property
    def sees_restricted(self) -> bool:
        """Whether the actor may see the restricted (suspected minors) queue."""
        return Role.CHILD_SAFETY_REVIEWER in self.roles
