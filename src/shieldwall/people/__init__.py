"""People who work cases and what each may do: roles, console users, sessions.

The review console's users (password login, sessions: :mod:`shieldwall.people.accounts`) and
the API keys of machines both act as an :class:`Actor`; the case functions take the actor and
check its roles.
"""

from shieldwall.people.roles import Actor, Role

__all__ = ["Actor", "Role"]
