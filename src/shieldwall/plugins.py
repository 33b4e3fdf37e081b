"""Loading plug-in classes named ``module:Class`` (the built-ins' lists and entry points of
signal types and exchanges)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["load_class"]


def load_class(spec: str, base: type[Any]) -> type[Any]:
    """The class ``spec`` (``module:Class``) names; :class:`TypeError` unless it is a
    subclass of ``base`` (typed ``Any``: the bases are abstract classes, which mypy will not
    take as ``type[T]``)."""
    module_name, _, attr = spec.partition(":")
    cls = getattr(import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"{spec} is not a {base.__name__} subclass")
    return cls
