"""Fuzzing chat-completion providers: the OpenAPI document built from the contracts (and, later, the runner).

This package is the only place that may import schemathesis, and it does so lazily: importing
``chatcontract.fuzz`` loads neither schemathesis nor pydantic. The public names are resolved on first
access (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["GENERATED_REQUEST", "build_openapi"]

_LOCATIONS = {"GENERATED_REQUEST": ".openapi", "build_openapi": ".openapi"}

if TYPE_CHECKING:
    from .openapi import GENERATED_REQUEST, build_openapi


def __getattr__(name: str) -> Any:
    try:
        module = _LOCATIONS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
