"""Request parameters that both HTTP faces take the same way."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

__all__ = ["IdPath"]

#: A database id in a path: 1 .. 2^63-1 (larger numbers cannot be ids; they are 422, not 500).
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
