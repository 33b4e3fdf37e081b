"""People and machines who work cases and what each may do: roles, console users, sessions,
API keys and their scopes.

The review console's users (password login, sessions: :mod:`shieldwall.people.accounts`) and
the API keys of machines (:mod:`shieldwall.people.keys`, scopes in
:mod:`shieldwall.people.scopes`) both act as an :class:`Actor`; the case functions take the
actor and check its roles.
"""

from shieldwall.people.roles import Actor, Role

__all__ = ["Actor", "Role"]
