"""Request parameters that both HTTP faces take the same way."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator, WithJsonSchema

__all__ = ["JSON_INTEGER", "IdPath", "IsoDateTime", "JsonInt"]

#: A database id in a path: 1 .. 2^63-1 (larger numbers cannot be ids; they are 422, not 500).
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]

#: RFC 3339: date, time and zone, all three (``2026-12-01T00:00:00Z``).
_RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
_RFC3339_RE = re.compile(_RFC3339)


def _rfc3339(value: Any) -> Any:
    # pydantic alone reads a number, or a numeric string, as seconds since 1970 ("0.5" was
    # 1970-01-01T00:00:00.5Z) and a time without a zone as local: neither is a moment here.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339_RE.match(value):
        raise ValueError("give a date-time with its zone (RFC 3339), e.g. 2026-12-01T00:00:00Z")
    return value


#: A moment in a query or body: an RFC 3339 date-time with its zone, nothing else.
IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_rfc3339),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _RFC3339}),
]


def _json_integer(value: Any) -> Any:
    # JSON Schema's integer is a number without a fraction (3 and 3.0), never true or "3",
    # which pydantic's lax mode takes (an integer disabled a bank; "3" was a threshold).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("give a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("give a whole number")
        return int(value)
    return value


#: The validator of :data:`JsonInt`, to put after a constraint
#: (``Annotated[int, Field(ge=0), JSON_INTEGER]``: constraints before it stay in the schema).
JSON_INTEGER = BeforeValidator(_json_integer)
#: An integer in a JSON body, as JSON Schema reads one: ``3`` or ``3.0``, not ``true`` or ``"3"``.
JsonInt = Annotated[int, JSON_INTEGER]
